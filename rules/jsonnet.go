package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/google/go-jsonnet"
)

// fsImporter resolves jsonnet imports against an fs.FS the way
// `jsonnet -J <root>` does: relative to the importing file first, then from
// the root.
type fsImporter struct {
	fsys fs.FS
	// go-jsonnet requires the same Contents for the same path on every import.
	cache map[string]jsonnet.Contents
}

func newFSImporter(fsys fs.FS) *fsImporter {
	return &fsImporter{fsys: fsys, cache: map[string]jsonnet.Contents{}}
}

func (i *fsImporter) Import(importedFrom, importedPath string) (jsonnet.Contents, string, error) {
	for _, p := range []string{path.Join(path.Dir(importedFrom), importedPath), path.Clean(importedPath)} {
		if !fs.ValidPath(p) {
			continue
		}
		if c, ok := i.cache[p]; ok {
			return c, p, nil
		}
		b, err := fs.ReadFile(i.fsys, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return jsonnet.Contents{}, "", err
		}
		c := jsonnet.MakeContentsRaw(b)
		i.cache[p] = c
		return c, p, nil
	}
	return jsonnet.Contents{}, "", fmt.Errorf("import %q from %q: no such file in the mixin", importedPath, importedFrom)
}

// evaluate runs snippet, a function of the config overrides, over the mixin
// sources and returns its JSON output.
func evaluate(fsys fs.FS, snippet string, overridesJSON []byte) (string, error) {
	vm := jsonnet.MakeVM()
	vm.Importer(newFSImporter(fsys))
	vm.TLACode("overrides", string(overridesJSON))
	out, err := vm.EvaluateAnonymousSnippet("generate.jsonnet", snippet)
	if err != nil {
		return "", fmt.Errorf("evaluating the mixin: %w", err)
	}
	return out, nil
}

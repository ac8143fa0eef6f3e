package zkcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// CacheDirEnv names the environment variable that overrides the folder
// fetched releases are kept in, by default zookeeper_exporter/zookeeper
// under the user's cache folder (os.UserCacheDir: ~/.cache on Linux).
const CacheDirEnv = "ZK_RELEASE_CACHE"

// ErrNoMaven is returned (wrapped) when a release must be fetched and mvn
// is not installed.
var ErrNoMaven = errors.New("zkcluster: mvn is not installed (apt-get install -y maven)")

// CacheDir is the folder holding fetched releases, one folder per version,
// and Maven's local repository (m2/) they were copied from.
func CacheDir() (string, error) {
	if dir := os.Getenv(CacheDirEnv); dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("zkcluster: no cache folder for fetched releases (set %s): %w", CacheDirEnv, err)
	}
	return filepath.Join(base, "zookeeper_exporter", "zookeeper"), nil
}

// Fetch makes sure release r's jars are in the cache and returns their
// folder: org.apache.zookeeper:zookeeper:<version> from Maven Central with
// what its own build compiles against (jetty and the servlet API for the
// AdminServer, jackson, metrics, snappy, commons-cli, netty), its logging
// binding replaced by slf4j-simple so every release logs alike. A release
// is fetched once per machine: a lock on the cache serializes fetches by
// concurrent test processes, and a release's folder appears complete or
// not at all (renamed into place). Debian's package needs no fetch.
func Fetch(ctx context.Context, r Release) (string, error) {
	if r.Debian {
		return "", fmt.Errorf("zkcluster: %s is Debian's package, not fetched", r)
	}
	root, err := CacheDir()
	if err != nil {
		return "", err
	}
	lib := filepath.Join(root, r.Version)
	if fetched(lib, r) {
		return lib, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("zkcluster: cache folder: %w", err)
	}
	unlock, err := lockFile(filepath.Join(root, ".lock"))
	if err != nil {
		return "", fmt.Errorf("zkcluster: locking %s: %w", root, err)
	}
	defer unlock()
	if fetched(lib, r) { // another process fetched it while we waited
		return lib, nil
	}
	tmp, err := os.MkdirTemp(root, ".fetch-"+r.Version+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := mavenFetch(ctx, r, filepath.Join(root, "m2"), tmp); err != nil {
		return "", err
	}
	if err := os.RemoveAll(lib); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(tmp, "lib"), lib); err != nil {
		return "", fmt.Errorf("zkcluster: fetching %s: %w", r, err)
	}
	return lib, nil
}

// fetched reports whether lib holds r's server jar and a logging binding,
// the last jar a fetch copies.
func fetched(lib string, r Release) bool {
	simple, _ := filepath.Glob(filepath.Join(lib, "slf4j-simple-*.jar"))
	return fileExists(filepath.Join(lib, "zookeeper-"+r.Version+".jar")) && len(simple) == 1
}

// excluded are dependencies left out of a fetched release: its own logging
// bindings (slf4j-simple replaces them) and netty's TLS native library for
// every platform (3.9), which no test needs.
const excluded = "logback-classic,logback-core,slf4j-log4j12,slf4j-reload4j,netty-tcnative-boringssl-static"

// mavenFetch copies r's jars into tmp/lib with mvn, Maven's local
// repository at repo.
func mavenFetch(ctx context.Context, r Release, repo, tmp string) error {
	mvn, err := exec.LookPath("mvn")
	if err != nil {
		return ErrNoMaven
	}
	work, lib := filepath.Join(tmp, "work"), filepath.Join(tmp, "lib")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, mvn, append([]string{"-B", "-q", "-ntp", "-Dmaven.repo.local=" + repo}, args...)...)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("zkcluster: fetching ZooKeeper %s: mvn %s: %w\n%s", r.Version, strings.Join(args, " "), err, tailLines(out, 30))
		}
		return nil
	}
	artifact := "org.apache.zookeeper:zookeeper:" + r.Version
	if r.HasAdminServer() {
		// The release's own POM says what its build compiles against;
		// its AdminServer's jetty and jackson are "provided" there, so
		// no dependency on the artifact would bring them.
		if err := run("dependency:get", "-Dartifact="+artifact); err != nil {
			return err
		}
		pom := filepath.Join(repo, "org", "apache", "zookeeper", "zookeeper", r.Version, "zookeeper-"+r.Version)
		if err := copyFile(pom+".pom", filepath.Join(work, "pom.xml")); err != nil {
			return err
		}
		if err := run("dependency:copy-dependencies", "-DoutputDirectory="+lib, "-DincludeScope=compile", "-DexcludeArtifactIds="+excluded); err != nil {
			return err
		}
		if err := copyFile(pom+".jar", filepath.Join(lib, "zookeeper-"+r.Version+".jar")); err != nil {
			return err
		}
	} else {
		// 3.4's POM names its test and packaging tools as dependencies,
		// some unresolvable: depend on the artifact instead.
		if err := os.WriteFile(filepath.Join(work, "pom.xml"), []byte(consumerPOM(r.Version)), 0o644); err != nil {
			return err
		}
		if err := run("dependency:copy-dependencies", "-DoutputDirectory="+lib, "-DincludeScope=runtime", "-DexcludeArtifactIds="+excluded); err != nil {
			return err
		}
	}
	api, err := slf4jVersion(lib)
	if err != nil {
		return fmt.Errorf("zkcluster: fetching ZooKeeper %s: %w", r.Version, err)
	}
	return run("dependency:copy", "-Dartifact=org.slf4j:slf4j-simple:"+api, "-DoutputDirectory="+lib)
}

// consumerPOM is a project depending on ZooKeeper version v alone.
func consumerPOM(v string) string {
	return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>zookeeper-release</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.zookeeper</groupId><artifactId>zookeeper</artifactId><version>` + v + `</version></dependency>
  </dependencies>
</project>
`
}

var slf4jAPI = regexp.MustCompile(`^slf4j-api-(\d[\w.-]*)\.jar$`)

// slf4jVersion is the version of the slf4j-api jar in lib, which the
// logging binding must match.
func slf4jVersion(lib string) (string, error) {
	entries, err := os.ReadDir(lib)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if m := slf4jAPI.FindStringSubmatch(e.Name()); m != nil {
			return m[1], nil
		}
	}
	return "", errors.New("no slf4j-api jar among the dependencies")
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// tailLines returns the last n lines of b.
func tailLines(b []byte, n int) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, nil)
}

// Package mixin holds the ZooKeeper monitoring mixin's jsonnet sources, so that
// the exporter can render rules and dashboards without a jsonnet toolchain.
package mixin

import (
	"embed"
	"io/fs"
)

//go:embed mixin.libsonnet config.libsonnet alerts/*.libsonnet rules/*.libsonnet dashboards/*.libsonnet
var files embed.FS

// FS returns the jsonnet sources rooted at the mixin directory, laid out as
// `jsonnet -J mixin` sees them.
func FS() fs.FS { return files }

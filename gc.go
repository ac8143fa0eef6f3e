package main

import (
	"os"
	"runtime/debug"

	"github.com/quorumwatch/zookeeper_exporter/config"
)

// largeConfiguration is the number of members from which the garbage
// collector runs at GOGC=50 rather than Go's default of 100.
//
// A scrape's garbage is most of what the exporter allocates. At a thousand
// members GOGC=50 keeps the peak resident memory under 64 MiB (73 MiB at
// 100) for no measurable CPU. For a few ensembles the heap is small, the
// collector's minimum target (4 MiB × GOGC/100) makes it run every few
// scrapes, and Go's default takes less CPU a scrape and a lower p50 for the
// same memory (docs/performance.md).
const largeConfiguration = 250

// membersPerDNSEnsemble stands for an ensemble whose members come from DNS.
const membersPerDNSEnsemble = 5

// gcFromEnvironment: GOGC was set, and the exporter leaves the collector
// alone.
var gcFromEnvironment = os.Getenv("GOGC") != ""

// gcPercentFor is the collector's target for cfg.
func gcPercentFor(cfg *config.Config) int {
	members := 0
	for _, e := range cfg.Ensembles {
		members += len(e.Members)
		if e.DNS != nil {
			members += membersPerDNSEnsemble
		}
	}
	if members >= largeConfiguration {
		return 50
	}
	return 100
}

// tuneGC sets the collector's target for cfg, unless GOGC was set.
func tuneGC(cfg *config.Config) {
	if !gcFromEnvironment {
		debug.SetGCPercent(gcPercentFor(cfg))
	}
}

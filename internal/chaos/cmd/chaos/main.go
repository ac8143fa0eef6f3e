// Command chaos runs a fault campaign (package chaos) and prints its
// report: exit 0 when every check agreed, 1 on a disagreement, 2 when the
// campaign could not run. `make chaos` builds the exporter and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/chaos"
	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

func main() { os.Exit(run()) }

func run() int {
	var (
		o      chaos.Options
		seed   = flag.String("seed", "", "seed of the random faults (default: from the clock; printed either way)")
		groups = flag.String("groups", "", `hierarchical quorum: voter ids per group, e.g. "1,2,3;4,5,6;7,8,9"`)
		plan   = flag.String("plan", "", `a fixed sequence of faults instead of random ones, e.g. "kill 3; restart 3; partition 1,2; heal; safe-stop follower"`)
		out    = flag.String("report", "", "also write the report to this file")
	)
	flag.DurationVar(&o.Duration, "duration", 3*time.Minute, "how long to apply faults")
	flag.IntVar(&o.Voters, "voters", 5, "voters")
	flag.IntVar(&o.Observers, "observers", 1, "observers")
	flag.StringVar(&o.Release, "release", "", "ZooKeeper release the members run, e.g. 3.9.5, fetched once (default: Debian's package)")
	flag.StringVar(&o.Exporter, "exporter", "./zookeeper_exporter", "the exporter binary")
	flag.StringVar(&o.Prometheus, "prometheus", "", "the Prometheus binary (default: prometheus in PATH)")
	flag.Parse()

	o.Seed = uint64(time.Now().UnixNano())
	if *seed != "" {
		s, err := strconv.ParseUint(*seed, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "chaos: -seed %q: %v\n", *seed, err)
			return 2
		}
		o.Seed = s
	}
	if *groups != "" {
		g, err := parseGroups(*groups)
		if err != nil {
			fmt.Fprintf(os.Stderr, "chaos: -groups: %v\n", err)
			return 2
		}
		o.Groups = g
	}
	if *plan != "" {
		p, err := chaos.ParsePlan(*plan)
		if err != nil {
			fmt.Fprintf(os.Stderr, "chaos: -plan: %v\n", err)
			return 2
		}
		o.Plan = p
	}
	if o.Prometheus == "" {
		p, err := exec.LookPath("prometheus")
		if err != nil {
			fmt.Fprintln(os.Stderr, "chaos: prometheus not found (apt-get install -y prometheus)")
			return 2
		}
		o.Prometheus = p
	}
	if o.Release != "" && os.Getenv(zkcluster.CacheDirEnv) == "" {
		// The members run as users of their own, who cannot read a
		// cache under root's home.
		if err := os.Setenv(zkcluster.CacheDirEnv, filepath.Join(os.TempDir(), "zkcluster-releases")); err != nil {
			fmt.Fprintf(os.Stderr, "chaos: %v\n", err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := chaos.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: seed %d: %v\n", o.Seed, err)
		if report == nil {
			return 2
		}
	}
	report.Write(os.Stdout)
	if *out != "" {
		f, ferr := os.Create(*out)
		if ferr == nil {
			report.Write(f)
			ferr = f.Close()
		}
		if ferr != nil {
			fmt.Fprintf(os.Stderr, "chaos: writing the report: %v\n", ferr)
		}
	}
	switch {
	case report.Failed():
		fmt.Fprintf(os.Stderr, "chaos: FAILED: %d disagreements; replay with make chaos SEED=%d, or the plan above\n", len(report.Disagreements), o.Seed)
		return 1
	case err != nil:
		return 2
	}
	return 0
}

// parseGroups reads "1,2,3;4,5,6".
func parseGroups(s string) ([][]int, error) {
	var groups [][]int
	for _, g := range strings.Split(s, ";") {
		var ids []int
		for _, f := range strings.Split(g, ",") {
			id, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return nil, fmt.Errorf("group %q: %w", g, err)
			}
			ids = append(ids, id)
		}
		groups = append(groups, ids)
	}
	return groups, nil
}

// Command scale measures the exporter against stand-in ZooKeeper members
// (internal/standin) at a scale no machine runs real ones: by default 200
// ensembles of 5 members answering after 20 ms. It prints scrape time
// percentiles, the exporter's peak RSS and CPU per scrape, the words each
// member received per scrape and the size of the exposition, and checks that
// every member is up and every ensemble's quorum margin is 2. Everything it
// starts stops by itself after -max.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/bench"
	"github.com/quorumwatch/zookeeper_exporter/internal/freeport"
	"github.com/quorumwatch/zookeeper_exporter/internal/standin"
)

type options struct {
	exporter          string
	ensembles, size   int
	delay, maxRun     time.Duration
	warmup, scrapes   int
	floor             bool
	probeTimeout      time.Duration
	exporterArguments string
}

func main() {
	var o options
	flag.StringVar(&o.exporter, "exporter", "./zookeeper_exporter", "exporter binary")
	flag.IntVar(&o.ensembles, "ensembles", 200, "stand-in ensembles")
	flag.IntVar(&o.size, "members", 5, "voters per stand-in ensemble (the first leads)")
	flag.DurationVar(&o.delay, "delay", 20*time.Millisecond, "how long a stand-in member waits before answering a word")
	flag.IntVar(&o.warmup, "warmup", 3, "scrapes before measuring")
	flag.IntVar(&o.scrapes, "scrapes", 50, "measured sequential scrapes")
	flag.BoolVar(&o.floor, "floor", true, "time the floor (srvr and mntr to every member at once, nothing parsed) after each scrape")
	flag.DurationVar(&o.probeTimeout, "timeout", 3*time.Second, "the exporter's per-member probe timeout")
	flag.DurationVar(&o.maxRun, "max", 4*time.Minute, "stop everything after this long, finished or not")
	flag.StringVar(&o.exporterArguments, "args", "", "more exporter flags, space-separated")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-scale:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.maxRun)
	defer cancel()
	roles := []standin.Role{standin.Leader}
	for len(roles) < o.size {
		roles = append(roles, standin.Follower)
	}
	stand, err := standin.Start(standin.Config{Ensembles: o.ensembles, Roles: roles, Delay: o.delay, MaxDuration: o.maxRun})
	if err != nil {
		return err
	}
	defer stand.Close()
	dir, err := os.MkdirTemp("", "bench-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	configPath := filepath.Join(dir, "zookeeper_exporter.yml")
	if err := os.WriteFile(configPath, []byte(exporterConfig(stand, o.probeTimeout)), 0o644); err != nil {
		return fmt.Errorf("writing the exporter's configuration: %w", err)
	}
	listen, err := freeport.Address()
	if err != nil {
		return err
	}
	args := append([]string{"--config.file=" + configPath, "--web.listen-address=" + listen, "--log.level=error"},
		strings.Fields(o.exporterArguments)...)
	exporter, err := bench.Start(ctx, "exporter", o.exporter, args, "http://"+listen+"/-/healthy")
	if err != nil {
		return err
	}
	defer exporter.Stop()
	fmt.Printf("%d stand-in members (%d ensembles x %d) answering after %v; exporter on %s\n",
		o.ensembles*o.size, o.ensembles, o.size, o.delay, listen)
	result, err := measure(ctx, o, stand, exporter, "http://"+listen+"/metrics")
	if err != nil {
		return err
	}
	result.print(o)
	if len(result.problems) > 0 {
		return fmt.Errorf("%w: %s", bench.ErrChecks, strings.Join(result.problems, "; "))
	}
	return nil
}

// exporterConfig names the ensembles e000, e001, ... and gives every member
// its role and server id.
func exporterConfig(stand *standin.Stand, timeout time.Duration) string {
	var config strings.Builder
	fmt.Fprintf(&config, "timeout: %s\nensembles:\n", timeout)
	for i, members := range stand.Ensembles() {
		fmt.Fprintf(&config, "  - name: %s\n    members:\n", ensembleName(i))
		for _, member := range members {
			role := "voter"
			if !member.Voter() {
				role = "observer"
			}
			fmt.Fprintf(&config, "      - {address: %q, role: %s, server_id: %d}\n", member.Address, role, member.ServerID)
		}
	}
	return config.String()
}

func ensembleName(i int) string { return fmt.Sprintf("e%03d", i) }

var errStopped = errors.New("the stand-ins stopped (-max reached)")

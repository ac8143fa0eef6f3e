// Command compare measures, side by side on one real 5-voter ZooKeeper
// ensemble (Debian's package, on loopback), this exporter's /metrics, the
// floor (one srvr and one mntr to every member, all at once: what any
// exporter must at least wait for) and, when given one, a peer exporter.
// Scrapes are sequential and interleaved, so every target sees the same
// machine load. It prints p50/p99 and peak RSS of each.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/bench"
	"github.com/quorumwatch/zookeeper_exporter/internal/freeport"
	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

type options struct {
	exporter string
	peer     string
	peerPath string
	voters   int
	scrapes  int
	warmup   int
	maxRun   time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.exporter, "exporter", "./zookeeper_exporter", "this exporter's binary")
	flag.StringVar(&o.peer, "peer", "", "a peer exporter's command line; {zk} becomes the members' addresses "+
		"(comma-separated host:port), {listen} the address it must listen on")
	flag.StringVar(&o.peerPath, "peer-metrics-path", "/metrics", "the peer's metrics path")
	flag.IntVar(&o.voters, "voters", 5, "voters in the real ensemble")
	flag.IntVar(&o.scrapes, "scrapes", 300, "measured scrapes of each target")
	flag.IntVar(&o.warmup, "warmup", 10, "scrapes of each target before measuring")
	flag.DurationVar(&o.maxRun, "max", 10*time.Minute, "stop everything after this long, finished or not")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-compare:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.maxRun)
	defer cancel()
	fmt.Printf("starting %d real ZooKeeper voters on 127.0.0.1...\n", o.voters)
	startCtx, startCancel := context.WithTimeout(ctx, 2*time.Minute)
	cluster, err := zkcluster.Start(startCtx, zkcluster.Options{Voters: o.voters})
	startCancel()
	if err != nil {
		return fmt.Errorf("starting the ensemble: %w", err)
	}
	defer cluster.Close()
	var addresses []string
	for _, member := range cluster.Members() {
		addresses = append(addresses, member.ClientAddr)
	}

	targets := []target{floor{addresses: addresses}}
	exporter, err := startExporter(ctx, o, cluster)
	if err != nil {
		return err
	}
	defer exporter.process.Stop()
	targets = append([]target{exporter}, targets...)
	if o.peer != "" {
		peer, err := startPeer(ctx, o, addresses)
		if err != nil {
			return err
		}
		defer peer.process.Stop()
		targets = append(targets, peer)
	}
	results, err := interleave(ctx, targets, o.warmup, o.scrapes)
	if err != nil {
		return err
	}
	printResults(o, addresses, targets, results)
	return nil
}

func startExporter(ctx context.Context, o options, cluster *zkcluster.Cluster) (*scraped, error) {
	var config strings.Builder
	config.WriteString("ensembles:\n  - name: compare\n    members:\n")
	for _, member := range cluster.Members() {
		fmt.Fprintf(&config, "      - {address: %q, server_id: %d}\n", member.ClientAddr, member.ID)
	}
	path := filepath.Join(cluster.Dir(), "zookeeper_exporter.yml")
	if err := os.WriteFile(path, []byte(config.String()), 0o644); err != nil {
		return nil, fmt.Errorf("writing the exporter's configuration: %w", err)
	}
	listen, err := freeport.Address()
	if err != nil {
		return nil, err
	}
	process, err := bench.Start(ctx, "this exporter", o.exporter,
		[]string{"--config.file=" + path, "--web.listen-address=" + listen, "--log.level=error"},
		"http://"+listen+"/-/healthy")
	if err != nil {
		return nil, err
	}
	return &scraped{name: "this exporter `/metrics`", url: "http://" + listen + "/metrics", process: process}, nil
}

// startPeer runs the peer's command line, with {zk} and {listen} filled
// in, and waits for its metrics page.
func startPeer(ctx context.Context, o options, addresses []string) (*scraped, error) {
	listen, err := freeport.Address()
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(o.peer)
	for i, field := range fields {
		field = strings.ReplaceAll(field, "{zk}", strings.Join(addresses, ","))
		fields[i] = strings.ReplaceAll(field, "{listen}", listen)
	}
	url := "http://" + listen + o.peerPath
	readyCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	process, err := bench.Start(readyCtx, "peer", fields[0], fields[1:], url)
	if err != nil {
		return nil, err
	}
	return &scraped{name: "peer `" + filepath.Base(fields[0]) + "`", url: url, process: process}, nil
}

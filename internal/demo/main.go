// Command demo runs the whole stack on loopback: a local ZooKeeper ensemble
// from Debian's package (3 voters and an observer), the exporter, a real
// Prometheus loading the rules the exporter generates, and a real
// Alertmanager with the example inhibit rules whose notifications are
// printed here. It prints where to look and the commands that walk the story
// the project exists for: ZooKeeperQuorumAtRisk fires while the ensemble
// still serves, before the next loss breaks quorum. Ctrl-C stops everything
// and removes its files.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the demo's flags.
type options struct {
	exporter, prometheus, alertmanager         string
	exporterListen, prometheusListen, amListen string
	alertmanagerConfig, prometheusConfig       string
	voters, observers                          int
	alertFor                                   time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.exporter, "exporter", "./zookeeper_exporter", "exporter binary to run")
	flag.StringVar(&o.prometheus, "prometheus", "prometheus", "Prometheus binary")
	flag.StringVar(&o.alertmanager, "alertmanager", "prometheus-alertmanager", "Alertmanager binary")
	flag.StringVar(&o.exporterListen, "listen", "127.0.0.1:9141", "where the exporter listens")
	flag.StringVar(&o.prometheusListen, "prometheus.listen", "127.0.0.1:9090", "where Prometheus listens")
	flag.StringVar(&o.amListen, "alertmanager.listen", "127.0.0.1:9093", "where Alertmanager listens")
	flag.StringVar(&o.alertmanagerConfig, "alertmanager.config", "examples/alertmanager.yml",
		"Alertmanager configuration whose routes and inhibit rules the demo uses (receivers are replaced)")
	flag.StringVar(&o.prometheusConfig, "prometheus.config", "examples/prometheus.yml",
		"Prometheus configuration the demo starts from (addresses, rule file and intervals are replaced)")
	flag.IntVar(&o.voters, "voters", 3, "voters in the demo ensemble")
	flag.IntVar(&o.observers, "observers", 1, "observers in the demo ensemble")
	flag.DurationVar(&o.alertFor, "alert-for", 10*time.Second,
		"how long the quorum and member alerts wait before firing (production rules wait minutes)")
	flag.Parse()

	// Ctrl-C in the terminal reaches every process of the foreground
	// group; the demo's children run in their own group, so the demo
	// alone decides the order in which they stop.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	if err := run(o, os.Stdout, stop); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run starts the stack, prints the guide and waits for a signal or for a
// component to die; everything started is stopped and removed on return.
func run(o options, out io.Writer, stop <-chan os.Signal) error {
	root, err := os.MkdirTemp("", "zookeeper-demo-")
	if err != nil {
		return fmt.Errorf("creating the demo directory: %w", err)
	}
	s := &stack{opts: o, root: root, out: out, died: make(chan error, 4)}
	defer s.shutdown()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.start(ctx); err != nil {
		return err
	}
	if err := s.printGuide(ctx); err != nil {
		return err
	}
	select {
	case sig := <-stop:
		fmt.Fprintf(out, "\n%s: stopping Prometheus, Alertmanager, the exporter and the ensemble\n", sig)
		return nil
	case err := <-s.died:
		return err
	}
}

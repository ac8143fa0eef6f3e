// Command demo starts a local ZooKeeper ensemble from Debian's package on
// loopback, runs the exporter against it and prints where to look. Ctrl-C
// stops everything and removes the temporary files.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

func main() {
	exporter := flag.String("exporter", "./zookeeper_exporter", "exporter binary to run")
	listen := flag.String("listen", "127.0.0.1:9141", "where the exporter listens")
	voters := flag.Int("voters", 3, "voters in the demo ensemble")
	observers := flag.Int("observers", 1, "observers in the demo ensemble")
	flag.Parse()
	if err := run(*exporter, *listen, *voters, *observers); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(exporter, listen string, voters, observers int) error {
	fmt.Printf("starting a ZooKeeper ensemble of %d voters and %d observers on 127.0.0.1...\n", voters, observers)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster, err := zkcluster.Start(ctx, zkcluster.Options{Voters: voters, Observers: observers})
	if err != nil {
		return err
	}
	defer cluster.Close()

	var config strings.Builder
	config.WriteString("ensembles:\n  - name: demo\n    members:\n")
	for _, member := range cluster.Members() {
		role := "voter"
		if member.Observer {
			role = "observer"
		}
		fmt.Fprintf(&config, "      - {address: %q, role: %s, server_id: %d}\n", member.ClientAddr, role, member.ID)
	}
	configPath := filepath.Join(cluster.Dir(), "zookeeper_exporter.yml")
	if err := os.WriteFile(configPath, []byte(config.String()), 0o644); err != nil {
		return err
	}

	cmd := exec.Command(exporter, "--config.file="+configPath, "--web.listen-address="+listen)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the exporter: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()

	fmt.Printf("\nexporter:   http://%s/\nmetrics:    curl -s http://%s/metrics | grep -E '^zookeeper_(up|ensemble_quorum_margin|server_mode.* 1)'\n", listen, listen)
	fmt.Printf("config:     %s\nmembers:\n", configPath)
	for _, member := range cluster.Members() {
		fmt.Printf("  zk%d  %s  (pid %d)  echo srvr | nc %s %s\n", member.ID, member.ClientAddr, member.PID(),
			strings.Split(member.ClientAddr, ":")[0], strings.Split(member.ClientAddr, ":")[1])
	}
	fmt.Println("\nTry: kill -STOP <pid>, kill -9 <pid>, and watch zookeeper_ensemble_quorum_margin. Ctrl-C stops everything.")

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-stop:
		fmt.Println("\nstopping the exporter and the ensemble")
	case err := <-exited:
		exited <- err // for the deferred stop
		return fmt.Errorf("the exporter stopped: %v", err)
	}
	return nil
}

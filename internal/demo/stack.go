package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// stack is everything the demo runs, stopped in reverse order by shutdown.
type stack struct {
	opts options
	root string // every file the demo writes lives here
	out  io.Writer
	// died receives the first unexpected exit of a component.
	died     chan error
	stopping atomic.Bool

	outMu    sync.Mutex
	cluster  *zkcluster.Cluster
	children []*child
	webhook  *http.Server
}

// child is a server process the demo started.
type child struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
}

func (s *stack) printf(format string, args ...any) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	fmt.Fprintf(s.out, format, args...)
}

// start brings up the ensemble, the exporter, the pager stand-in,
// Alertmanager and Prometheus, each ready before the next starts.
func (s *stack) start(ctx context.Context) error {
	s.printf("starting a ZooKeeper ensemble of %d voters and %d observers on 127.0.0.1...\n", s.opts.voters, s.opts.observers)
	// zkcluster keeps its members' directories under the temporary
	// directory: pointing it into the demo's own directory leaves one
	// directory to remove and to show.
	if err := os.Setenv("TMPDIR", s.root); err != nil {
		return fmt.Errorf("setting TMPDIR: %w", err)
	}
	cluster, err := zkcluster.Start(ctx, zkcluster.Options{Voters: s.opts.voters, Observers: s.opts.observers})
	if err != nil {
		return fmt.Errorf("starting the ensemble: %w", err)
	}
	s.cluster = cluster

	configPath, err := s.writeExporterConfig()
	if err != nil {
		return err
	}
	if err := s.startChild(ctx, "exporter", "http://"+s.opts.exporterListen+"/-/healthy", s.opts.exporter,
		"--config.file="+configPath, "--web.listen-address="+s.opts.exporterListen); err != nil {
		return err
	}
	rulesPath, err := s.generateRules()
	if err != nil {
		return err
	}
	webhookURL, err := s.startWebhook()
	if err != nil {
		return err
	}
	if err := s.startAlertmanager(ctx, webhookURL); err != nil {
		return err
	}
	return s.startPrometheus(ctx, rulesPath)
}

// startChild runs a server with its output in a log file of the demo's
// directory and waits until readyURL answers 200.
func (s *stack) startChild(ctx context.Context, name, readyURL, binary string, args ...string) error {
	logPath := filepath.Join(s.root, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("creating %s's log: %w", name, err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting %s (%s): %w", name, binary, err)
	}
	c := &child{name: name, cmd: cmd, exited: make(chan struct{})}
	s.children = append(s.children, c)
	go func() {
		err := cmd.Wait()
		logFile.Close()
		close(c.exited)
		if !s.stopping.Load() {
			select {
			case s.died <- fmt.Errorf("%s exited: %v; its log: %s", name, err, tail(logPath)):
			default:
			}
		}
	}()
	for {
		select {
		case <-c.exited:
			log := tail(logPath)
			if strings.Contains(log, "address already in use") {
				log += "\n(a port is taken: -listen, -prometheus.listen and -alertmanager.listen choose others)"
			}
			return fmt.Errorf("%s exited while starting: %s", name, log)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w", name, readyURL, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if response, err := http.Get(readyURL); err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

// tail returns the end of a log file, for an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n" + strings.Join(lines, "\n")
}

// startWebhook serves the receivers' webhook: Alertmanager's notifications
// are printed in the terminal, where the demo's user looks.
func (s *stack) startWebhook() (string, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listening for Alertmanager's notifications: %w", err)
	}
	s.webhook = &http.Server{Handler: http.HandlerFunc(s.printNotification), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.webhook.Serve(listener) }()
	return "http://" + listener.Addr().String(), nil
}

// shutdown stops Prometheus, Alertmanager and the exporter (SIGTERM, then
// SIGKILL if one lingers), the ensemble and the webhook, and removes the
// demo's directory.
func (s *stack) shutdown() {
	s.stopping.Store(true)
	for i := len(s.children) - 1; i >= 0; i-- {
		c := s.children[i]
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	}
	var problems []error
	if s.cluster != nil {
		problems = append(problems, s.cluster.Close())
	}
	if s.webhook != nil {
		problems = append(problems, s.webhook.Close())
	}
	problems = append(problems, os.RemoveAll(s.root))
	if err := errors.Join(problems...); err != nil {
		fmt.Fprintln(os.Stderr, "demo: cleaning up:", err)
		return
	}
	s.printf("stopped; %s removed\n", s.root)
}

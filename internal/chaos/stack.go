package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// Ensemble names in the exporters' configuration: the whole ensemble, and
// the same ensemble with its last voter left out of the configuration, as
// an exporter that cannot see one datacenter: there only the leader's own
// count says that voter is in quorum.
const (
	ensembleFull    = "chaos"
	ensemblePartial = "chaos-partial"
)

// stack is what a campaign runs: the ensemble in a network namespace of its
// own, two exporters there (one only the campaign scrapes, so that each of
// its rounds starts after the scrape asks; one for Prometheus) and
// Prometheus with the generated rules.
type stack struct {
	dir        string
	cluster    *zkcluster.Cluster
	client     *http.Client // reaches into the namespace
	exporter   string       // base URL of the campaign's exporter
	prometheus string       // base URL
	children   []*child
}

type child struct {
	name   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

func startStack(ctx context.Context, o Options) (_ *stack, err error) {
	dir, err := os.MkdirTemp("", "chaos-")
	if err != nil {
		return nil, err
	}
	s := &stack{dir: dir}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.cluster, err = zkcluster.Start(ctx, o.clusterOptions()); err != nil {
		return nil, err
	}
	s.client = s.cluster.HTTPClient()
	s.client.Timeout = 15 * time.Second
	config, err := s.writeExporterConfig()
	if err != nil {
		return nil, err
	}
	if s.exporter, err = s.startChild(ctx, "exporter", o.Exporter, "/-/ready", "--config.file="+config); err != nil {
		return nil, err
	}
	promExporter, err := s.startChild(ctx, "exporter-prometheus", o.Exporter, "/-/ready", "--config.file="+config)
	if err != nil {
		return nil, err
	}
	rules, err := s.generateRules(o)
	if err != nil {
		return nil, err
	}
	promConfig := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promConfig, fmt.Appendf(nil, `global:
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
  evaluation_interval: 1s
rule_files: [%[2]q]
scrape_configs:
  - job_name: zookeeper
    static_configs:
      - targets: [%[3]q]
`, scrapeInterval, rules, strings.TrimPrefix(promExporter, "http://")), 0o644); err != nil {
		return nil, err
	}
	s.prometheus, err = s.startChild(ctx, "prometheus", o.Prometheus, "/-/ready",
		"--config.file="+promConfig, "--storage.tsdb.path="+filepath.Join(dir, "prometheus"))
	return s, err
}

// scrapeInterval is Prometheus's, and its scrape timeout: the exporter
// answers within it minus its offset, so a member slow on a loaded machine
// is still heard.
const scrapeInterval = "2s"

// writeExporterConfig lists every member under ensembleFull and all but the
// last voter under ensemblePartial (discovery off), with their server ids.
func (s *stack) writeExporterConfig() (string, error) {
	var b strings.Builder
	b.WriteString("timeout: 1s\nensembles:\n")
	voters := s.cluster.Voters()
	hidden := voters[len(voters)-1].ID
	for _, name := range []string{ensembleFull, ensemblePartial} {
		fmt.Fprintf(&b, "  - name: %s\n", name)
		if name == ensemblePartial {
			// Discovery would find the left-out voter in conf.
			b.WriteString("    discover: off\n")
		}
		b.WriteString("    members:\n")
		for _, m := range s.cluster.Members() {
			if name == ensemblePartial && m.ID == hidden {
				continue
			}
			role := "voter"
			if m.Observer {
				role = "observer"
			}
			fmt.Fprintf(&b, "      - {address: %q, role: %s, server_id: %d}\n", m.ClientAddr, role, m.ID)
		}
	}
	path := filepath.Join(s.dir, "zookeeper_exporter.yml")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// alertFor is the critical quorum alerts' "for" in the campaign (an hour's
// faults would never outlast production's minute): the windows in which the
// members may disagree with the margin (an election, the leader's syncLimit)
// must stay shorter.
const alertFor = 10 * time.Second

// generateRules writes the rules with `zookeeper_exporter rules`, as a user
// would, with the critical alerts' "for" at alertFor.
func (s *stack) generateRules(o Options) (string, error) {
	path := filepath.Join(s.dir, "rules.yml")
	args := []string{"rules", "--rules.output=" + path}
	for _, key := range []string{"quorumAtRiskFor", "quorumLostFor", "multipleLeadersFor"} {
		args = append(args, fmt.Sprintf("--rules.set=%s=%q", key, alertFor.String()))
	}
	if out, err := exec.Command(o.Exporter, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s rules: %w\n%s", o.Exporter, err, out)
	}
	return path, nil
}

// startChild runs a server inside the cluster's namespace on a free address
// there and waits until readyPath answers 200; it returns the base URL.
func (s *stack) startChild(ctx context.Context, name, binary, readyPath string, args ...string) (string, error) {
	addr, err := s.cluster.FreeAddress()
	if err != nil {
		return "", err
	}
	logPath := filepath.Join(s.dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	cmd := s.cluster.Exec(binary, append([]string{"--web.listen-address=" + addr}, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return "", fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	s.children = append(s.children, c)
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(c.exited)
	}()
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		select {
		case <-c.exited:
			return "", fmt.Errorf("%s exited while starting: %s", name, tail(logPath))
		case <-ctx.Done():
			return "", fmt.Errorf("%s not ready at %s: %w", name, base, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := s.client.Get(base + readyPath); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, nil
			}
		}
	}
}

// exited names a child that is no longer running.
func (s *stack) exited() error {
	for _, c := range s.children {
		select {
		case <-c.exited:
			return fmt.Errorf("%s exited: %s", c.name, tail(c.log))
		default:
		}
	}
	return nil
}

func (s *stack) close() error {
	for _, c := range s.children {
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	var errs []error
	if s.cluster != nil {
		errs = append(errs, s.cluster.Close())
	}
	return errors.Join(append(errs, os.RemoveAll(s.dir))...)
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

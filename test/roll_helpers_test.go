package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"
	"golang.org/x/crypto/bcrypt"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// The roll tests' helpers: a control port through which the roll's --exec
// restarts members, the binary run as a command, margin sampling,
// Alertmanager's silences, writes with a ZooKeeper client.

// memberControl restarts (or kills) the cluster's members for the roll's
// --exec command, which reaches it with nc: "restart PORT" answers "ok"
// once the member's JVM has been stopped and started again. check runs
// first, at the moment the roll has stopped nothing yet.
type memberControl struct {
	cluster  *zkcluster.Cluster
	listener net.Listener
	mu       sync.Mutex
	kill     bool     // kill the member and leave it down
	asked    []string // client addresses, in order
	check    func(address string) error
	failures []string
}

func newMemberControl(t *testing.T, cluster *zkcluster.Cluster) *memberControl {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &memberControl{cluster: cluster, listener: listener}
	t.Cleanup(func() { listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go c.serve(conn)
		}
	}()
	return c
}

// command is the --exec value; it also echoes a line, to be streamed with
// the member's name.
func (c *memberControl) command(word string) string {
	return fmt.Sprintf(`echo "restarting server {server_id} on {host} port {port}"; printf '%s {port}\n' | nc -N %s | grep -qx ok`,
		word, strings.Replace(c.listener.Addr().String(), ":", " ", 1))
}

func (c *memberControl) serve(conn net.Conn) {
	defer conn.Close()
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return
	}
	_, port, _ := strings.Cut(strings.TrimSpace(line), " ")
	reply := "ok"
	if err := c.handle(port); err != nil {
		reply = "error: " + err.Error()
	}
	fmt.Fprintln(conn, reply)
}

func (c *memberControl) handle(port string) error {
	var member *zkcluster.Member
	for _, m := range c.cluster.Members() {
		if strings.HasSuffix(m.ClientAddr, ":"+port) {
			member = m
		}
	}
	if member == nil {
		return fmt.Errorf("no member on port %s", port)
	}
	c.mu.Lock()
	c.asked = append(c.asked, member.ClientAddr)
	check, kill := c.check, c.kill
	c.mu.Unlock()
	if check != nil {
		if err := check(member.ClientAddr); err != nil {
			c.mu.Lock()
			c.failures = append(c.failures, err.Error())
			c.mu.Unlock()
		}
	}
	if kill {
		return c.cluster.Kill(member.ID)
	}
	if err := c.cluster.Stop(member.ID); err != nil {
		return err
	}
	return c.cluster.Restart(member.ID)
}

func (c *memberControl) requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string{}, c.asked...)
}

// runTool runs the exporter binary with args and returns its exit status
// and output.
func runTool(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(exporterBinary, args...)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	case err != nil:
		t.Fatalf("%v: %v", args, err)
	}
	return 0, out.String()
}

// marginSample is one scrape of the second exporter during the roll.
type marginSample struct {
	margin, leaders float64
	step            int // commands the roll had run by then
}

// sampleMargins scrapes base until stop is closed.
func sampleMargins(base, ensemble string, control *memberControl, stop <-chan struct{}) <-chan []marginSample {
	out := make(chan []marginSample, 1)
	go func() {
		var samples []marginSample
		defer func() { out <- samples }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			scrape, err := scrapeExporter(base+"/metrics", 5*time.Second)
			if err != nil {
				continue
			}
			margin, ok := scrape.value("zookeeper_ensemble_quorum_margin", map[string]string{"ensemble": ensemble})
			leaders, _ := scrape.value("zookeeper_ensemble_leaders", map[string]string{"ensemble": ensemble})
			if ok {
				samples = append(samples, marginSample{margin: margin, leaders: leaders, step: len(control.requests())})
			}
		}
	}()
	return out
}

// activeSilences lists Alertmanager's active silences.
func activeSilences(base string) ([]amSilence, error) {
	var all []amSilence
	if err := getJSON(base+"/api/v2/silences", &all); err != nil {
		return nil, err
	}
	var active []amSilence
	for _, s := range all {
		if s.Status.State == "active" {
			active = append(active, s)
		}
	}
	return active, nil
}

type amSilence struct {
	ID       string `json:"id"`
	Matchers []struct {
		Name, Value string
		IsRegex     bool `json:"isRegex"`
	} `json:"matchers"`
	EndsAt time.Time `json:"endsAt"`
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

func (s amSilence) matcher(name string) string {
	for _, m := range s.Matchers {
		if m.Name == name {
			return m.Value
		}
	}
	return ""
}

// srvrZxid reads a member's zxid with srvr.
func srvrZxid(t *testing.T, m *zkcluster.Member) zk.Zxid {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	answer, err := m.FourLetterWord(ctx, "srvr")
	if err != nil {
		t.Fatal(err)
	}
	srvr, err := zk.ParseSrvr(answer)
	if err != nil {
		t.Fatal(err)
	}
	return srvr.Zxid
}

// write2000 creates 2,000 znodes through a client of member.
func write2000(t *testing.T, member *zkcluster.Member) {
	t.Helper()
	conn, _, err := gozk.Connect([]string{member.ClientAddr}, 10*time.Second, gozk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for worker := range 4 {
		wg.Go(func() {
			for i := range 500 {
				if _, err := conn.Create(fmt.Sprintf("/roll-%d-%d", worker, i), []byte("x"), 0, gozk.WorldACL(gozk.PermAll)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writing: %v", err)
	}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// leaderAndFollower returns the leader and a running voter that follows it.
func leaderAndFollower(t *testing.T, cluster *zkcluster.Cluster) (leader, follower *zkcluster.Member) {
	t.Helper()
	leader = cluster.LeaderT(t)
	for _, m := range cluster.Voters() {
		if m.ID != leader.ID && m.PID() != 0 {
			follower = m
		}
	}
	if follower == nil {
		t.Fatal("no follower running")
	}
	return leader, follower
}

func basicAuthHash(t *testing.T, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(hash)
}

func newGet(url string) (*http.Request, error) { return http.NewRequest(http.MethodGet, url, nil) }

// doRequest returns the status and body of an answer.
func doRequest(t *testing.T, request *http.Request) (int, string) {
	t.Helper()
	response, err := (&http.Client{Timeout: 15 * time.Second}).Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	return response.StatusCode, string(body)
}

package zkmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// The model's addresses: server N takes clients on 127.0.0.1:21000+N, its
// quorum and election ports are 31000+N and 41000+N, its AdminServer is on
// 22000+N.
const (
	clientBase   = 21000
	adminBase    = 22000
	quorumBase   = 31000
	electionBase = 41000
)

// ClientAddress is where server id takes clients; alias names the same
// server another way (localhost).
func ClientAddress(id int, alias bool) string {
	host := "127.0.0.1"
	if alias {
		host = "localhost"
	}
	return fmt.Sprintf("%s:%d", host, clientBase+id)
}

// AdminURL is server id's AdminServer command base.
func AdminURL(id int) string { return fmt.Sprintf("http://127.0.0.1:%d/commands", adminBase+id) }

// dialect is how a release answers.
type dialect int

const (
	dialect34 dialect = iota // no membership in conf, no zk_quorum_size, every word allowed by default
	dialect35                // membership, but no zk_quorum_size nor zk_synced_non_voting_followers
	dialect36                // 3.6 and later: ~600 mntr keys, double latencies, zk_learners
)

func dialectOf(release string) dialect {
	switch {
	case strings.HasPrefix(release, "3.4."):
		return dialect34
	case strings.HasPrefix(release, "3.5."):
		return dialect35
	}
	return dialect36
}

// fullVersion is the release's version line as its builds print it.
func fullVersion(release string) string {
	switch {
	case strings.HasPrefix(release, "3.4."), strings.HasPrefix(release, "3.5."):
		return release + "-4c25d480e66aadd371de8bd2fd8da255ac140bcf, built on 03/06/2019 16:18 GMT"
	case strings.HasPrefix(release, "3.6."):
		return release + "--d65253dcf68e9097c6e95a126463fd5fdeb4521c, built on 12/18/2022 18:10 GMT"
	}
	return release + "-9316c2a7a97e1666d8f4593f34dd6fc36ecc436c, built on 2024-02-12 22:16 UTC"
}

const notServing = "This ZooKeeper instance is not currently serving requests\n"

// serving reports whether the server answers clients (and so the words).
func (e *Ensemble) serving(s *Server) bool {
	switch s.mode {
	case "follower", "observer":
		return true
	case "leader":
		return e.LeaderServes || s.stale
	}
	return false
}

// Answer is what server id answers to a four-letter word, as the bytes it
// sends.
func (e *Ensemble) Answer(id int, word string) string {
	s := e.Server(id)
	if s.SrvrOnly && word != "srvr" || s.NoConf && word == "conf" {
		return word + " is not executed because it is not in the whitelist.\n"
	}
	switch word {
	case "ruok":
		return "imok"
	case "isro":
		return "rw"
	}
	if !e.serving(s) {
		return notServing
	}
	switch word {
	case "srvr", "stat":
		return e.srvr(s, word == "stat")
	case "mntr":
		return e.mntr(s)
	case "conf":
		return e.conf(s)
	}
	return ""
}

func (e *Ensemble) srvr(s *Server, stat bool) string {
	d := dialectOf(s.Release)
	var b strings.Builder
	fmt.Fprintf(&b, "Zookeeper version: %s\n", fullVersion(s.Release))
	if stat {
		b.WriteString("Clients:\n /127.0.0.1:49294[0](queued=0,recved=1,sent=0)\n\n")
	}
	avg := "0"
	if d >= dialect36 {
		avg = "0.4312"
	}
	fmt.Fprintf(&b, "Latency min/avg/max: 0/%s/3\nReceived: 12\nSent: 11\nConnections: 1\nOutstanding: 0\n", avg)
	fmt.Fprintf(&b, "Zxid: 0x%x\nMode: %s\nNode count: 5\n", s.zxid, s.mode)
	if s.mode == "leader" && d >= dialect35 {
		b.WriteString("Proposal sizes last/min/max: -1/-1/-1\n")
	}
	return b.String()
}

// mntrValues are the server's mntr keys and values.
func (e *Ensemble) mntrValues(s *Server) map[string]string {
	d := dialectOf(s.Release)
	avg := "0"
	if d >= dialect36 {
		avg = "8.0E-4"
	}
	v := map[string]string{
		"zk_version": fullVersion(s.Release), "zk_server_state": s.mode,
		"zk_avg_latency": avg, "zk_max_latency": "3", "zk_min_latency": "0",
		"zk_packets_received": "12", "zk_packets_sent": "11", "zk_num_alive_connections": "1",
		"zk_outstanding_requests": "0", "zk_znode_count": "5", "zk_watch_count": "0",
		"zk_ephemerals_count": "0", "zk_approximate_data_size": "44",
		"zk_open_file_descriptor_count": "61", "zk_max_file_descriptor_count": "1048576",
	}
	if d >= dialect36 {
		v["zk_quorum_size"] = strconv.Itoa(len(e.voters()))
		v["zk_peer_state"] = map[string]string{"leader": "leading", "follower": "following", "observer": "observing"}[s.mode] + " - broadcast"
		v["zk_uptime"] = "1019"
		v["zk_global_sessions"] = "0"
		v["zk_avg_election_time"] = "636.0"
	}
	if s.mode != "leader" {
		return v
	}
	followers, nonVoting, observers := 0, 0, 0
	for _, other := range e.Servers {
		if s.stale || other == s || !other.up() || other.Side != s.Side {
			continue
		}
		switch other.mode {
		case "observer":
			observers++
		case "follower":
			followers++
			if !other.Voter() {
				nonVoting++
			}
		}
	}
	v["zk_synced_followers"] = strconv.Itoa(followers)
	v["zk_pending_syncs"] = "0"
	if d >= dialect36 {
		v["zk_learners"] = strconv.Itoa(followers + observers)
		v["zk_synced_non_voting_followers"] = strconv.Itoa(nonVoting)
		v["zk_synced_observers"] = strconv.Itoa(observers)
	} else {
		v["zk_followers"] = strconv.Itoa(followers + observers)
	}
	return v
}

// mntr writes the keys in the release's order: a fixed one up to 3.5, hash
// order (different per server) from 3.6.
func (e *Ensemble) mntr(s *Server) string {
	values := e.mntrValues(s)
	keys := make([]string, 0, len(values))
	for key := range values {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	if dialectOf(s.Release) >= dialect36 {
		sort.Slice(keys, func(i, j int) bool { return hashOf(keys[i], s.ID) < hashOf(keys[j], s.ID) })
	}
	var b strings.Builder
	for _, key := range keys {
		fmt.Fprintf(&b, "%s\t%s\n", key, values[key])
	}
	return b.String()
}

func hashOf(key string, seed int) uint32 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%s", seed, key)
	return h.Sum32()
}

// conf is the server's configuration; from 3.5 its membership, as
// QuorumMaj and QuorumHierarchical print themselves (no final newline).
func (e *Ensemble) conf(s *Server) string {
	var b strings.Builder
	fmt.Fprintf(&b, "clientPort=%d\ndataDir=/var/lib/zookeeper/data/version-2\ndataLogDir=/var/lib/zookeeper/data/version-2\n", clientBase+s.ID)
	fmt.Fprintf(&b, "tickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\nserverId=%d\n", s.ID)
	peerType := 0
	if !s.Participant {
		peerType = 1
	}
	fmt.Fprintf(&b, "initLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=%d\nquorumPort=%d\npeerType=%d\n", electionBase+s.ID, quorumBase+s.ID, peerType)
	if dialectOf(s.Release) == dialect34 {
		return b.String()
	}
	b.WriteString("membership: \n")
	for _, m := range e.Servers {
		if !m.Member {
			continue
		}
		role := "participant"
		if !m.Participant {
			role = "observer"
		}
		fmt.Fprintf(&b, "server.%d=127.0.0.1:%d:%d:%s;127.0.0.1:%d\n", m.ID, quorumBase+m.ID, electionBase+m.ID, role, clientBase+m.ID)
	}
	if e.Hierarchical {
		groups := map[int][]string{}
		var ids []int
		for _, m := range e.Servers {
			if m.Member && m.Group != 0 {
				if len(groups[m.Group]) == 0 {
					ids = append(ids, m.Group)
				}
				groups[m.Group] = append(groups[m.Group], strconv.Itoa(m.ID))
			}
		}
		sort.Ints(ids)
		for _, g := range ids {
			fmt.Fprintf(&b, "group.%d=%s\n", g, strings.Join(groups[g], ":"))
		}
		for _, m := range e.Servers {
			if m.Member && m.Group != 0 {
				fmt.Fprintf(&b, "weight.%d=%d\n", m.ID, m.Weight)
			}
		}
	}
	fmt.Fprintf(&b, "version=%x", e.ConfigVersion)
	return b.String()
}

// adminAnswer is the AdminServer's answer to a command: HTTP status and
// body. ok is false where the release has no such command or no
// AdminServer runs.
func (e *Ensemble) adminAnswer(id int, command string) (status int, body string, ok bool) {
	s := e.Server(id)
	if s == nil || !s.Admin || dialectOf(s.Release) == dialect34 {
		return 0, "", false
	}
	d := dialectOf(s.Release)
	serving := e.serving(s)
	refused := func() (int, string, bool) {
		return http.StatusOK, fmt.Sprintf(`{"command": %q, "error": "This ZooKeeper instance is not currently serving requests"}`, command), true
	}
	switch command {
	case "monitor":
		if !serving {
			return http.StatusInternalServerError, `<html><title>Error 500 java.lang.NullPointerException: Cannot invoke &quot;...&quot; because &quot;zkServer&quot; is null</title></html>`, true
		}
		out := map[string]any{}
		for key, value := range e.mntrValues(s) {
			if n, err := strconv.ParseFloat(value, 64); err == nil {
				out[strings.TrimPrefix(key, "zk_")] = n
			} else {
				out[strings.TrimPrefix(key, "zk_")] = value
			}
		}
		out["command"], out["error"] = "monitor", nil
		text, _ := json.Marshal(out)
		return http.StatusOK, string(text), true
	case "leader", "voting_view":
		if d < dialect36 {
			return http.StatusNotFound, "", true
		}
		if s.mode == "" || s.mode == "not_serving" && !(s == e.leader) {
			return refused()
		}
	default:
		return http.StatusNotFound, "", true
	}
	if command == "leader" {
		leaderID := s.ID
		if e.leader != nil && !s.stale {
			leaderID = e.leader.ID
		}
		text, _ := json.Marshal(map[string]any{"is_leader": s.mode == "leader" || s == e.leader, "leader_id": leaderID, "leader_ip": "127.0.0.1", "command": "leader", "error": nil})
		return http.StatusOK, string(text), true
	}
	view := map[string]any{}
	for _, m := range e.Servers {
		if m.Voter() {
			view[strconv.Itoa(m.ID)] = map[string]any{
				"server_addresses":   []string{fmt.Sprintf("127.0.0.1:%d", quorumBase+m.ID)},
				"election_addresses": []string{fmt.Sprintf("127.0.0.1:%d", electionBase+m.ID)},
				"client_address":     fmt.Sprintf("127.0.0.1:%d", clientBase+m.ID),
				"learner_type":       "participant",
			}
		}
	}
	text, _ := json.Marshal(map[string]any{"current_config": view, "command": "voting_view", "error": nil})
	return http.StatusOK, string(text), true
}

// Client is the exporter's view of the model: a word client and an HTTP
// transport for the AdminServer. It answers from the model's current state,
// which the test changes between rounds (not during one).
type Client struct {
	Ensemble *Ensemble
}

// serverAt finds the server a client address names, by port.
func (c *Client) serverAt(address string) *Server {
	_, port, ok := strings.Cut(address, ":")
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return nil
	}
	return c.Ensemble.Server(n - clientBase)
}

// CommandFunc answers a four-letter word as the server at address would,
// or fails as the exporter's client would fail to reach it.
func (c *Client) CommandFunc(_ context.Context, address, word string, use func([]byte) error) error {
	s := c.serverAt(address)
	fail := func(reason string, err error) error {
		return &zk.Error{Word: word, Address: address, Reason: reason, Err: err}
	}
	switch {
	case s == nil || s.Process == Stopped:
		return fail(zk.ReasonRefused, errors.New("connection refused"))
	case s.Process == Frozen || s.Hidden:
		return fail(zk.ReasonTimeout, errors.New("i/o timeout"))
	}
	answer := []byte(c.Ensemble.Answer(s.ID, word))
	if err := zk.Special(word, answer); err != nil {
		return fail(zk.Reason(err), err)
	}
	return use(answer)
}

// RoundTrip serves the AdminServers' HTTP answers.
func (c *Client) RoundTrip(request *http.Request) (*http.Response, error) {
	port, _ := strconv.Atoi(request.URL.Port())
	s := c.Ensemble.Server(port - adminBase)
	if s == nil || s.Process == Stopped {
		return nil, errors.New("connection refused")
	}
	if s.Process == Frozen || s.Hidden {
		return nil, context.DeadlineExceeded
	}
	command := strings.TrimPrefix(request.URL.Path, "/commands/")
	status, body, ok := c.Ensemble.adminAnswer(s.ID, command)
	if !ok {
		return nil, errors.New("connection refused")
	}
	return &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{"Content-Type": {"application/json"}},
		Request: request,
	}, nil
}

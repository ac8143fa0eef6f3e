package ensemble

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Discovery states, as exported in zookeeper_ensemble_discovery.
const (
	// DiscoveryOff: the configuration turns discovery off.
	DiscoveryOff = "off"
	// DiscoveryMembership: every member the ensemble's membership lists is
	// probed.
	DiscoveryMembership = "membership"
	// DiscoveryConfiguration: no membership is known (conf refused or not
	// answered yet, or ZooKeeper 3.4, whose conf lists none): only the
	// configured members are probed.
	DiscoveryConfiguration = "configuration"
)

// DiscoveryStates lists every state, in export order.
var DiscoveryStates = []string{DiscoveryOff, DiscoveryMembership, DiscoveryConfiguration}

// Reasons a server the membership lists is not probed.
const (
	SkipLimit           = "limit"
	SkipUnresolvable    = "unresolvable"
	SkipNoClientAddress = "no_client_address"
)

// SkipReasons lists every reason, in export order.
var SkipReasons = []string{SkipLimit, SkipUnresolvable, SkipNoClientAddress}

// DiscoveryStatus is, for one round, what discovery added to the
// configured members.
type DiscoveryStatus struct {
	State string
	// Members is how many members the round probes because the membership
	// lists them.
	Members int
	// Skipped counts, by reason, servers of the membership not probed.
	Skipped map[string]int
}

// discovered is what the last membership read gave to probe beyond the
// configured members.
type discovered struct {
	members []*config.Member
	skipped map[string]int
	// problems name each skipped server and why, for the log.
	problems []string
}

// resolveFunc checks that a host name resolves.
type resolveFunc func(ctx context.Context, host string) error

func resolveHost(ctx context.Context, host string) error {
	_, err := net.DefaultResolver.LookupHost(ctx, host)
	return err
}

// discover lists the servers of the membership that no member of the
// ensemble stands for (by configured or learned server id, or by client
// address), as members to probe: at most the ensemble's limit, in server
// id order, each at the client address its server line gives (see
// discoveredAddress). conf is the answer the membership came from.
func discover(ctx context.Context, live *Membership, conf *zk.Conf, e *config.Ensemble, serverIDs map[string]int, resolve resolveFunc) discovered {
	d := discovered{skipped: map[string]int{}}
	represented := map[int]bool{}
	for _, m := range e.Members {
		id := m.ServerID
		if id == 0 {
			id = serverIDs[m.Address]
		}
		represented[id] = true
	}
	servers := append([]zk.Server{}, live.Servers...)
	sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
	resolved := map[string]error{}
	for _, server := range servers {
		if represented[server.ID] || standsFor(e.Members, server) {
			continue
		}
		skip := func(reason string, err error) {
			d.skipped[reason]++
			d.problems = append(d.problems, fmt.Sprintf("server.%d: %v", server.ID, err))
		}
		address, err := discoveredAddress(server, conf, e.TLS != nil)
		if err != nil {
			skip(SkipNoClientAddress, err)
			continue
		}
		host, _, _ := net.SplitHostPort(address)
		if net.ParseIP(host) == nil {
			if _, done := resolved[host]; !done {
				resolved[host] = resolve(ctx, host)
			}
			if err := resolved[host]; err != nil {
				skip(SkipUnresolvable, fmt.Errorf("%s: %w", address, err))
				continue
			}
		}
		if len(d.members) >= e.DiscoveryLimit() {
			skip(SkipLimit, fmt.Errorf("%s: more than max_discovered=%d members", address, e.DiscoveryLimit()))
			continue
		}
		role := config.RoleVoter
		if !server.Voter() {
			role = config.RoleObserver
		}
		d.members = append(d.members, &config.Member{Address: address, Role: role, ServerID: server.ID, Discovered: true})
	}
	return d
}

// standsFor reports whether a configured member's address is the server's
// client address.
func standsFor(members []*config.Member, server zk.Server) bool {
	address := clientAddress(server)
	for _, m := range members {
		if address != "" && sameAddress(m.Address, address) {
			return true
		}
	}
	return false
}

// discoveredAddress is where the exporter reaches a server it knows only
// from the membership: the client address of its server line (ZooKeeper
// writes a wildcard, 0.0.0.0 or [::] or none, for "every interface": then
// the host of its quorum address); a line without a client part gets the
// clientPort of the member that answered conf. With TLS, the port is moved
// by as much as the answering member's secureClientPort is from its own
// client port: members on separate hosts share both ports, so that is the
// secureClientPort, and members sharing a host keep their spacing.
func discoveredAddress(server zk.Server, conf *zk.Conf, tls bool) (string, error) {
	host, port := server.Host, server.ClientPort
	if server.ClientAddress != "" {
		clientHost, _, err := net.SplitHostPort(server.ClientAddress)
		if err != nil {
			return "", err
		}
		host = clientHost
	}
	ownPort := confPort(conf, "clientPort")
	for _, s := range conf.Servers {
		if s.ID == conf.ServerID && s.ClientPort > 0 {
			ownPort = s.ClientPort
		}
	}
	if port == 0 {
		port = ownPort
	}
	if port <= 0 {
		return "", errors.New("its server line gives no client port, nor does the answering member's conf")
	}
	if tls {
		secure := confPort(conf, "secureClientPort")
		if secure <= 0 || ownPort <= 0 {
			return "", errors.New("the ensemble uses TLS and the answering member's conf gives no secureClientPort")
		}
		port += secure - ownPort
		if port < 1 || port > 65535 {
			return "", fmt.Errorf("secure port %d out of range", port)
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// confPort is a port setting of conf, 0 when absent or not a number (-1
// when the member has none, as ZooKeeper writes it).
func confPort(conf *zk.Conf, key string) int {
	port, err := strconv.Atoi(conf.Settings[key])
	if err != nil {
		return 0
	}
	return port
}

// withDiscovered returns the setup with the members discovery found
// appended to the configured ones, and how discovery stands.
func (r *Registry) withDiscovered(t *tracker, s *setup) (*setup, *DiscoveryStatus) {
	if !s.ensemble.Discovers() {
		return s, &DiscoveryStatus{State: DiscoveryOff}
	}
	t.mu.Lock()
	found, known := t.discovered, t.membership != nil
	t.mu.Unlock()
	if !known {
		return s, &DiscoveryStatus{State: DiscoveryConfiguration}
	}
	status := &DiscoveryStatus{State: DiscoveryMembership, Skipped: found.skipped}
	var extra []*config.Member
	for _, m := range found.members {
		// A member the configuration or DNS gained since stands for it.
		if s.ensemble.Member(m.Address) == nil {
			extra = append(extra, m)
		}
	}
	if len(extra) == 0 {
		return s, status
	}
	status.Members = len(extra)
	merged := *s.ensemble
	merged.Members = append(append(make([]*config.Member, 0, len(s.ensemble.Members)+len(extra)), s.ensemble.Members...), extra...)
	return &setup{ensemble: &merged, client: s.client, timeout: s.timeout, fingerprint: s.fingerprint}, status
}

// oneMemberPerServer folds members of the same server (one server under
// two names: 127.0.0.1:p and localhost:p, an A and an AAAA record) into the
// first one listed, which takes an answering name's probe when its own got
// no answer. The others are its Aliases. Members are the same server when
// they have the same server id, or when their addresses are the same
// socket (the same literal IP, localhost for 127.0.0.1, and the port):
// that holds while a member cannot say its id (down, not serving, conf
// refused).
func oneMemberPerServer(members []*ProbedMember) []*ProbedMember {
	first := map[string]*ProbedMember{}
	kept := members[:0:0]
	for _, m := range members {
		keys := serverKeys(m)
		var canonical *ProbedMember
		for _, k := range keys {
			if canonical = first[k]; canonical != nil {
				break
			}
		}
		if canonical == nil {
			for _, k := range keys {
				first[k] = m
			}
			kept = append(kept, m)
			continue
		}
		for _, k := range keys {
			if first[k] == nil {
				first[k] = canonical
			}
		}
		if !canonical.Up && m.Up {
			aliases := canonical.Aliases
			member := canonical.Member
			*canonical = *m
			canonical.Member, canonical.Aliases = member, aliases
		}
		canonical.Aliases = append(canonical.Aliases, m.Address)
	}
	return kept
}

// serverKeys name the server a member is: its id when known, and its
// address as a socket.
func serverKeys(m *ProbedMember) []string {
	var keys []string
	if m.ServerID > 0 {
		keys = append(keys, "id:"+strconv.Itoa(m.ServerID))
	}
	if host, port, err := net.SplitHostPort(m.Address); err == nil {
		if ip := hostIP(host); ip != nil {
			keys = append(keys, "socket:"+net.JoinHostPort(ip.String(), port))
		}
	}
	return keys
}

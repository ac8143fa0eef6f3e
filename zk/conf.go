package zk

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Server roles in a server.N line.
const (
	RoleParticipant = "participant"
	RoleObserver    = "observer"
)

// Server is one server.N line of zoo.cfg, a dynamic config file, or conf.
type Server struct {
	ID           int
	Host         string
	QuorumPort   int
	ElectionPort int
	Role         string // RoleParticipant or RoleObserver
	// ClientAddress is "host:port" from the part after ";", or "" when the
	// line has none (then zoo.cfg's clientPort applies).
	ClientAddress string
	// ClientPort is the port of ClientAddress, 0 when absent.
	ClientPort int
}

// Voter reports whether the server votes.
func (s Server) Voter() bool { return s.Role != RoleObserver }

// ParseServerLine parses the value of server.N:
// host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort].
// ZooKeeper 3.6+ may list several peer addresses, separated by "|"; the
// first is the server's host, and a role on any of them is the server's.
func ParseServerLine(id int, spec string) (Server, error) {
	server := Server{ID: id, Role: RoleParticipant}
	spec = strings.TrimSpace(spec)
	peers, client, hasClient := strings.Cut(spec, ";")
	for i, peer := range strings.Split(peers, "|") {
		address, err := parsePeer(id, peer)
		if err != nil {
			return server, err
		}
		if i == 0 {
			server.Host, server.QuorumPort, server.ElectionPort = address.Host, address.QuorumPort, address.ElectionPort
		}
		if address.Role != "" {
			server.Role = address.Role
		}
	}
	var err error
	if hasClient {
		client = strings.TrimSpace(client)
		clientHost, portText := "", client
		if strings.Contains(client, ":") {
			if clientHost, portText, err = net.SplitHostPort(client); err != nil {
				return server, fmt.Errorf("server.%d: client address: %w", id, err)
			}
		}
		if server.ClientPort, err = parsePort(portText); err != nil {
			return server, fmt.Errorf("server.%d: client port: %w", id, err)
		}
		if clientHost != "" {
			if err := checkHost(clientHost); err != nil {
				return server, fmt.Errorf("server.%d: client address: %w", id, err)
			}
		}
		// A wildcard client address means "the peer's host" to a prober.
		if clientHost == "" || clientHost == "0.0.0.0" || clientHost == "::" || clientHost == "0:0:0:0:0:0:0:0" {
			clientHost = server.Host
		}
		server.ClientAddress = net.JoinHostPort(clientHost, strconv.Itoa(server.ClientPort))
	}
	return server, nil
}

// parsePeer parses one peer address: host:quorumPort:electionPort[:role];
// Role is "" when the address names none.
func parsePeer(id int, peer string) (Server, error) {
	var server Server
	host, rest, err := cutHost(strings.TrimSpace(peer))
	if err != nil {
		return server, err
	}
	if err := checkHost(host); err != nil {
		return server, fmt.Errorf("server.%d: %w", id, err)
	}
	server.Host = host
	parts := strings.Split(rest, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return server, fmt.Errorf("server.%d=%s: want host:quorumPort:electionPort[:role]", id, peer)
	}
	if server.QuorumPort, err = parsePort(parts[0]); err != nil {
		return server, fmt.Errorf("server.%d: quorum port: %w", id, err)
	}
	if server.ElectionPort, err = parsePort(parts[1]); err != nil {
		return server, fmt.Errorf("server.%d: election port: %w", id, err)
	}
	if len(parts) == 3 {
		switch role := strings.ToLower(parts[2]); role {
		case RoleParticipant, RoleObserver:
			server.Role = role
		default:
			return server, fmt.Errorf("server.%d: role %q is neither participant nor observer", id, parts[2])
		}
	}
	return server, nil
}

// cutHost splits "host:rest" where host may be a bracketed IPv6 address.
func cutHost(s string) (host, rest string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]:")
		if end < 0 {
			return "", "", fmt.Errorf("%q: unterminated IPv6 address", s)
		}
		return s[1:end], s[end+2:], nil
	}
	host, rest, ok := strings.Cut(s, ":")
	if !ok || host == "" {
		return "", "", fmt.Errorf("%q: want host:quorumPort:electionPort", s)
	}
	return host, rest, nil
}

// checkHost refuses what no host name or address holds: nothing, brackets,
// spaces and control characters, bytes that are not UTF-8. Such a host could
// not be written back as host:port, nor be a label value.
func checkHost(host string) error {
	if host == "" {
		return errors.New("empty host")
	}
	if !utf8.ValidString(host) || strings.ContainsFunc(host, func(r rune) bool {
		return r == '[' || r == ']' || unicode.IsSpace(r) || unicode.IsControl(r)
	}) {
		return fmt.Errorf("host %q is not a host name or address", host)
	}
	return nil
}

func parsePort(s string) (int, error) {
	port, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || port < 0 || port > 65535 {
		return 0, fmt.Errorf("%q is not a port", s)
	}
	return port, nil
}

// Conf is the answer to conf: the member's settings and, on a member of an
// ensemble, its view of the membership.
type Conf struct {
	Settings map[string]string
	Servers  []Server // sorted by ID
	// Version is the hex version of the dynamic configuration, "" if absent.
	Version  string
	ServerID int // serverId, 0 when absent (standalone)
}

// Voters returns the servers that vote.
func (c *Conf) Voters() []Server {
	var voters []Server
	for _, server := range c.Servers {
		if server.Voter() {
			voters = append(voters, server)
		}
	}
	return voters
}

// ParseConf parses a conf answer.
func ParseConf(answer []byte) (*Conf, error) {
	if err := Special("conf", answer); err != nil {
		return nil, err
	}
	conf := &Conf{Settings: map[string]string{}}
	if err := eachLine(answer, conf.add); err != nil {
		return nil, err
	}
	if _, ok := conf.Settings["clientPort"]; !ok {
		return nil, &ParseError{Word: "conf", Msg: "no clientPort"}
	}
	conf.Version = conf.Settings["version"]
	if id, err := strconv.Atoi(conf.Settings["serverId"]); err == nil {
		conf.ServerID = id
	}
	sort.Slice(conf.Servers, func(i, j int) bool { return conf.Servers[i].ID < conf.Servers[j].ID })
	return conf, nil
}

// add reads one line of conf: a setting or a server.N line.
func (conf *Conf) add(line []byte) error {
	text := string(bytes.TrimSpace(line))
	if text == "" || strings.HasPrefix(text, "membership:") {
		return nil
	}
	key, value, ok := strings.Cut(text, "=")
	if !ok {
		return &ParseError{Word: "conf", Msg: fmt.Sprintf("line %q is not key=value", text)}
	}
	idText, isServer := strings.CutPrefix(key, "server.")
	if !isServer {
		conf.Settings[key] = value
		return nil
	}
	id, err := strconv.Atoi(idText)
	if err != nil {
		return &ParseError{Word: "conf", Msg: fmt.Sprintf("server id %q", idText)}
	}
	server, err := ParseServerLine(id, value)
	if err != nil {
		return &ParseError{Word: "conf", Msg: err.Error()}
	}
	conf.Servers = append(conf.Servers, server)
	return nil
}

// ParseRuok reports whether the answer is "imok". It proves the process
// answers, never that it serves: a member without quorum says imok too.
func ParseRuok(answer []byte) (bool, error) {
	if err := Special("ruok", answer); err != nil {
		return false, err
	}
	return string(bytes.TrimSpace(answer)) == "imok", nil
}

// ParseIsro reports whether the member is in read-only mode ("ro") or not
// ("rw"). A member without quorum answers "null": ErrNotServing.
func ParseIsro(answer []byte) (readOnly bool, err error) {
	if err := Special("isro", answer); err != nil {
		return false, err
	}
	switch string(bytes.TrimSpace(answer)) {
	case "null": // 3.8's isro of a member without a running server
		return false, ErrNotServing
	case "ro":
		return true, nil
	case "rw":
		return false, nil
	}
	return false, &ParseError{Word: "isro", Msg: fmt.Sprintf("%q is neither ro nor rw", bytes.TrimSpace(answer))}
}

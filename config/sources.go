package config

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// DefaultClientPort is ZooKeeper's default clientPort.
const DefaultClientPort = "2181"

// FromServers builds a one-ensemble configuration from a list in the spirit
// of ZK_HOSTS: "h1:2181,h2:2181,h3:2181:observer". A member may name its
// datacenter: "h4:2181:observer@dc2" or "h1:2181@dc1". A member without a
// port gets 2181, so the seed's "$IP1 $IP2 $IP3:observer" works as written.
func FromServers(ensembleName, servers string) (*Config, error) {
	source := "--zookeeper.servers"
	ensemble := &Ensemble{Name: ensembleName}
	for _, item := range strings.FieldsFunc(servers, func(r rune) bool { return r == ',' || r == ' ' }) {
		member := &Member{Role: RoleVoter}
		item, member.Datacenter, _ = strings.Cut(item, "@")
		if rest, ok := strings.CutSuffix(item, ":"+RoleObserver); ok {
			item, member.Role = rest, RoleObserver
		} else if rest, ok := strings.CutSuffix(item, ":"+RoleVoter); ok {
			item = rest
		}
		if _, _, err := net.SplitHostPort(item); err != nil && !strings.Contains(item, "]") && strings.Count(item, ":") == 0 {
			item = net.JoinHostPort(item, DefaultClientPort) // "$IP1 $IP2" as in ZK_HOSTS
		}
		member.Address = item
		ensemble.Members = append(ensemble.Members, member)
	}
	config := &Config{Source: source, Ensembles: []*Ensemble{ensemble}}
	if err := config.Validate(); err != nil {
		return nil, err
	}
	return config, nil
}

// FromZooCfg builds a one-ensemble configuration from a zoo.cfg.
func FromZooCfg(ensembleName, path string) (*Config, error) {
	members, err := ReadZooCfg(path)
	if err != nil {
		return nil, err
	}
	config := &Config{Source: path, Ensembles: []*Ensemble{{Name: ensembleName, ZooCfg: path, Members: members}}}
	if err := config.Validate(); err != nil {
		return nil, err
	}
	return config, nil
}

// resolveZooCfgs reads the members of ensembles that name a zoo.cfg.
func (c *Config) resolveZooCfgs() error {
	for _, ensemble := range c.Ensembles {
		if ensemble == nil || ensemble.ZooCfg == "" {
			continue
		}
		if len(ensemble.Members) > 0 {
			return fmt.Errorf("%s:%d: ensemble %q: give either members or zoo_cfg, not both", c.Source, ensemble.line, ensemble.Name)
		}
		path := ensemble.ZooCfg
		if !filepath.IsAbs(path) && c.Source != "" {
			path = filepath.Join(filepath.Dir(c.Source), path)
		}
		members, err := ReadZooCfg(path)
		if err != nil {
			return fmt.Errorf("%s:%d: ensemble %q: %w", c.Source, ensemble.line, ensemble.Name, err)
		}
		for _, member := range members {
			member.line = ensemble.line
		}
		ensemble.Members = members
	}
	return nil
}

// ReadZooCfg reads the members from the server.N lines of a zoo.cfg, and from
// its dynamicConfigFile when it names one. A member's client port is the one
// after ";" on its line, else the file's clientPort.
func ReadZooCfg(path string) ([]*Member, error) {
	settings, servers, err := readServerLines(path)
	if err != nil {
		return nil, err
	}
	if dynamic := settings["dynamicConfigFile"]; dynamic != "" {
		if !filepath.IsAbs(dynamic) {
			dynamic = filepath.Join(filepath.Dir(path), dynamic)
		}
		_, dynamicServers, err := readServerLines(dynamic)
		if err != nil {
			return nil, err
		}
		servers = append(servers, dynamicServers...)
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("%s: no server.N lines", path)
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
	var members []*Member
	for _, server := range servers {
		address := server.ClientAddress
		if address == "" {
			port := settings["clientPort"]
			if port == "" {
				return nil, fmt.Errorf("%s: server.%d has no client port and the file sets no clientPort", path, server.ID)
			}
			address = net.JoinHostPort(server.Host, port)
		}
		role := RoleVoter
		if !server.Voter() {
			role = RoleObserver
		}
		members = append(members, &Member{Address: address, Role: role, ServerID: server.ID})
	}
	return members, nil
}

// maxZooCfgBytes caps a zoo.cfg or dynamic config file: a real one is a few
// kilobytes.
const maxZooCfgBytes = 1 << 20

// readFile reads a configuration file that must be a regular file of at most
// maxZooCfgBytes: a zoo_cfg naming a FIFO, /dev/zero or a terminal must fail,
// not hang the exporter or fill its memory.
func readFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, info.Mode().Type())
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxZooCfgBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxZooCfgBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxZooCfgBytes)
	}
	return data, nil
}

func readServerLines(path string) (map[string]string, []zk.Server, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, nil, err
	}
	settings := map[string]string{}
	var servers []zk.Server
	seen := map[int]int{}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for lineNumber := 1; scanner.Scan(); lineNumber++ {
		text := strings.TrimSpace(scanner.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		idText, isServer := strings.CutPrefix(key, "server.")
		if !isServer {
			settings[key] = value
			continue
		}
		id, err := strconv.Atoi(idText)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %q is not server.<number>", path, lineNumber, key)
		}
		server, err := zk.ParseServerLine(id, value)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, lineNumber, err)
		}
		if previous, dup := seen[id]; dup {
			return nil, nil, fmt.Errorf("%s:%d: server.%d is also on line %d", path, lineNumber, id, previous)
		}
		seen[id] = lineNumber
		servers = append(servers, server)
	}
	return settings, servers, scanner.Err()
}

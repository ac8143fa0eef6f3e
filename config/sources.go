package config

import (
	"net"
	"path/filepath"
	"strings"
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

// DefaultEnsembleName names the ensemble of a configuration given by flags.
const DefaultEnsembleName = "default"

// DefaultAddress is where a bare start probes: a local server on
// ZooKeeper's default clientPort, as the official exporters default to a
// local server.
const DefaultAddress = "localhost:" + DefaultClientPort

// FromDefault is the configuration of a start without any flag: one
// ensemble, "default", of one voter at localhost:2181.
func FromDefault() *Config {
	return &Config{
		Source: "default (" + DefaultAddress + ")",
		Ensembles: []*Ensemble{{
			Name:    DefaultEnsembleName,
			Members: []*Member{{Address: DefaultAddress, Role: RoleVoter}},
		}},
	}
}

// FromZooCfg builds a one-ensemble configuration from a zoo.cfg (see
// ReadZooCfg), reporting every problem at once: the file's and the
// ensemble's.
func FromZooCfg(ensembleName, path string) (*Config, error) {
	ensemble, zooProblems := readZooCfg(path)
	found := &problems{source: path}
	for _, text := range zooProblems {
		found.list = append(found.list, problem{text: text})
	}
	if ensemble == nil {
		return nil, found.err()
	}
	ensemble.Name = ensembleName
	config := &Config{Source: path, Ensembles: []*Ensemble{ensemble}}
	config.validate(found)
	if err := found.err(); err != nil {
		return nil, err
	}
	return config, nil
}

// resolveZooCfgs reads the members of ensembles that name a zoo.cfg.
func (c *Config) resolveZooCfgs(found *problems) {
	for _, ensemble := range c.Ensembles {
		if ensemble == nil || ensemble.ZooCfg == "" {
			continue
		}
		if len(ensemble.Members) > 0 {
			found.add(ensemble.line, "ensemble %q: give either members or zoo_cfg, not both", ensemble.Name)
			continue
		}
		path := ensemble.ZooCfg
		if !filepath.IsAbs(path) && c.Source != "" {
			path = filepath.Join(filepath.Dir(c.Source), path)
		}
		read, zooProblems := readZooCfg(path)
		for _, problem := range zooProblems {
			found.add(ensemble.line, "ensemble %q: %s", ensemble.Name, problem)
		}
		if read == nil {
			ensemble.zooCfgFailed = true
			continue
		}
		for _, member := range read.Members {
			member.line = ensemble.line
		}
		ensemble.Members, ensemble.Standalone = read.Members, read.Standalone
		ensemble.notes, ensemble.secureOnly, ensemble.zooCfgFailed = read.notes, read.secureOnly, read.zooCfgFailed
	}
}

package main

import (
	"errors"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/quorumwatch/zookeeper_exporter/config"
)

// sourceOptions say where the ensembles come from.
type sourceOptions struct {
	configFile   string
	servers      string
	zooCfg       string
	ensembleName string
	timeout      time.Duration
	discover     string
}

func (s *sourceOptions) register(app *kingpin.Application) {
	app.Flag("config.file", "YAML file listing the ensembles and their members.").StringVar(&s.configFile)
	app.Flag("zookeeper.servers", "One ensemble's members instead of a file: host:port[:observer][@datacenter],... (port 2181 when omitted), like ZK_HOSTS.").StringVar(&s.servers)
	app.Flag("zookeeper.zoo-cfg", "Read one ensemble's members (server.N lines, groups and weights, its dynamic config file) from this zoo.cfg; a standalone server's zoo.cfg gives one member.").StringVar(&s.zooCfg)
	app.Flag("zookeeper.ensemble", "Ensemble name for --zookeeper.servers, --zookeeper.zoo-cfg and a bare start.").Default(config.DefaultEnsembleName).StringVar(&s.ensembleName)
	app.Flag("zookeeper.discover", "For --zookeeper.servers, --zookeeper.zoo-cfg and a bare start: conf probes every member the ensemble's own membership (conf) lists as well; off probes exactly the members given. A configuration file sets discover per ensemble.").
		Default(config.DiscoverConf).EnumVar(&s.discover, config.DiscoverConf, config.DiscoverOff)
	app.Flag("zookeeper.timeout", "Probe timeout per member, where the configuration sets none.").Default(config.DefaultTimeout.String()).DurationVar(&s.timeout)
}

// bare reports whether no source was given: the local default is probed.
func (s *sourceOptions) bare() bool {
	return s.configFile == "" && s.servers == "" && s.zooCfg == ""
}

// load reads the configuration from whichever source was given, or the
// local default when none was.
func (s *sourceOptions) load() (*config.Config, error) {
	given := 0
	for _, value := range []string{s.configFile, s.servers, s.zooCfg} {
		if value != "" {
			given++
		}
	}
	if given > 1 {
		return nil, errors.New("give at most one of --config.file, --zookeeper.servers or --zookeeper.zoo-cfg")
	}
	var cfg *config.Config
	var err error
	switch {
	case s.configFile != "":
		cfg, err = config.Load(s.configFile)
	case s.servers != "":
		cfg, err = config.FromServers(s.ensembleName, s.servers)
	case s.zooCfg != "":
		cfg, err = config.FromZooCfg(s.ensembleName, s.zooCfg)
	default:
		cfg = config.FromDefault()
		cfg.Ensembles[0].Name = s.ensembleName
	}
	if err != nil {
		return nil, err
	}
	if s.configFile == "" {
		cfg.Ensembles[0].Discover = s.discover
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = s.timeout
	}
	return cfg, nil
}

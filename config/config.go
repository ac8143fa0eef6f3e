// Package config reads the exporter's ensembles: a strict YAML file, the
// --zookeeper.servers shortcut, a zoo.cfg (server.N, group.N and weight.N
// lines, or a standalone server), or the local default. Every problem is
// reported at once, each naming the file, the line and the member.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Roles a member can be configured with.
const (
	RoleVoter    = "voter"
	RoleObserver = "observer"
)

// DefaultTimeout bounds one member's probe when nothing else does.
const DefaultTimeout = 3 * time.Second

// Config is the whole configuration.
type Config struct {
	// Timeout is the default per-member probe timeout.
	Timeout   time.Duration `yaml:"timeout"`
	Ensembles []*Ensemble   `yaml:"ensembles"`

	// Warnings are things worth logging that do not stop the exporter
	// (an even number of voters, say).
	Warnings []string `yaml:"-"`
	// Source names where the configuration came from, for messages.
	Source string `yaml:"-"`
}

// Ensemble is one ZooKeeper ensemble.
type Ensemble struct {
	Name string `yaml:"name"`
	// Timeout bounds each member's probe; 0 = the global default.
	Timeout time.Duration `yaml:"timeout"`
	// ZooCfg names a zoo.cfg whose server.N lines are the members, instead
	// of listing them.
	ZooCfg  string     `yaml:"zoo_cfg"`
	Members []*Member  `yaml:"members"`
	TLS     *TLSConfig `yaml:"tls"`
	// AdminPort, when set, is every member's AdminServer port: the fallback
	// for words the members' whitelist refuses.
	AdminPort int `yaml:"admin_port"`
	// Oracle says the ensemble runs QuorumOracleMaj (oraclePath, ZooKeeper
	// 3.8+): with two voters, one alone keeps a quorum when the oracle
	// consents. Read from a zoo_cfg's oraclePath too.
	Oracle bool `yaml:"oracle"`
	// DNS, when set, gives the members instead of listing them.
	DNS *DNSConfig `yaml:"dns"`
	// Discover says whether the members the ensemble's own membership
	// (conf) lists are probed too: DiscoverConf (the default, "") or
	// DiscoverOff (exactly the configured members).
	Discover string `yaml:"discover"`
	// MaxDiscovered bounds the members discovery adds; 0 means
	// DefaultMaxDiscovered.
	MaxDiscovered int `yaml:"max_discovered"`

	// Standalone is set when the ensemble's zoo.cfg makes one server that
	// runs alone (no server.N lines, or one voter while standaloneEnabled
	// keeps its default): it leads itself, with no fault tolerance by
	// design, and answers Mode: standalone.
	Standalone bool `yaml:"-"`
	// Groups maps a voter's server id to its group id when the ensemble uses
	// hierarchical quorums (group.N lines, or members' group); nil otherwise.
	// Validate fills it from the members.
	Groups map[int]int `yaml:"-"`
	// Weights maps every grouped voter's server id to its weight (1 unless
	// weight.N or the member's weight says otherwise, as in ZooKeeper); nil
	// when Groups is nil, since ZooKeeper ignores weights without groups.
	Weights map[int]int `yaml:"-"`

	line int
	// notes are warnings found while reading a zoo.cfg; Validate adds them
	// to its own.
	notes []string
	// secureOnly is set when the zoo.cfg gives clients only a
	// secureClientPort: without tls settings every probe fails.
	secureOnly bool
	// zooCfgFailed is set when the zoo_cfg gave no members for reasons
	// reported already.
	zooCfgFailed bool
}

// Member is one configured server.
type Member struct {
	Address    string            `yaml:"address"`
	Role       string            `yaml:"role"`
	Datacenter string            `yaml:"datacenter"`
	ServerID   int               `yaml:"server_id"`
	Labels     map[string]string `yaml:"labels"`
	// AdminURL is the member's AdminServer command URL, e.g.
	// http://zk1:8080/commands; it overrides the ensemble's admin_port.
	AdminURL string `yaml:"admin_url"`
	// Group and Weight place a voter in a hierarchical quorum (ZooKeeper's
	// group.N and weight.N); nil when not given. Pointers, because group 0
	// and weight 0 are meaningful.
	Group  *int `yaml:"group"`
	Weight *int `yaml:"weight"`
	// Discovered is set on members the ensemble's membership listed, not
	// the configuration.
	Discovered bool `yaml:"-"`

	line int
}

// Discovery settings of an ensemble.
const (
	DiscoverConf = "conf"
	DiscoverOff  = "off"
	// DefaultMaxDiscovered bounds the members discovery adds to an
	// ensemble: ZooKeeper ensembles have a handful of voters and a few
	// observers, so more is a conf listing someone else's servers.
	DefaultMaxDiscovered = 32
)

// Discovers reports whether the members the ensemble's membership lists
// are probed too.
func (e *Ensemble) Discovers() bool { return e.Discover != DiscoverOff }

// DiscoveryLimit is the most members discovery adds to the ensemble.
func (e *Ensemble) DiscoveryLimit() int {
	if e.MaxDiscovered > 0 {
		return e.MaxDiscovered
	}
	return DefaultMaxDiscovered
}

// TLSConfig is the client side of a member's secureClientPort.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Voter reports whether the member is configured to vote.
func (m *Member) Voter() bool { return m.Role != RoleObserver }

// AdminURL returns the member's AdminServer command URL, "" when none is
// configured.
func (e *Ensemble) AdminURL(m *Member) string {
	if m.AdminURL != "" || e.AdminPort == 0 {
		return m.AdminURL
	}
	host, _, err := net.SplitHostPort(m.Address)
	if err != nil {
		return ""
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(e.AdminPort)) + "/commands"
}

// Voters returns the ensemble's configured voters. It skips empty entries
// ("- " in YAML), which Validate reports.
func (e *Ensemble) Voters() []*Member {
	var voters []*Member
	for _, member := range e.Members {
		if member != nil && member.Voter() {
			voters = append(voters, member)
		}
	}
	return voters
}

// Member returns the member with this address, or nil.
func (e *Ensemble) Member(address string) *Member {
	for _, member := range e.Members {
		if member.Address == address {
			return member
		}
	}
	return nil
}

// Ensemble returns the named ensemble, or nil.
func (c *Config) Ensemble(name string) *Ensemble {
	for _, ensemble := range c.Ensembles {
		if ensemble.Name == name {
			return ensemble
		}
	}
	return nil
}

// MemberTimeout is the probe timeout for the ensemble's members.
func (c *Config) MemberTimeout(e *Ensemble) time.Duration {
	switch {
	case e.Timeout > 0:
		return e.Timeout
	case c.Timeout > 0:
		return c.Timeout
	}
	return DefaultTimeout
}

// LabelNames returns the extra member label names used anywhere, sorted.
func (c *Config) LabelNames() []string {
	seen := map[string]bool{}
	for _, ensemble := range c.Ensembles {
		for _, member := range ensemble.Members {
			for name := range member.Labels {
				seen[name] = true
			}
		}
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates YAML; source names it in errors. It reports
// every problem at once: unknown keys (the schema stays strict), values of
// the wrong type, unreadable zoo.cfg files and validation failures.
func Parse(source string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(source, err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: empty configuration: want a list of ensembles", source)
	}
	found := &problems{source: source}
	schema := checkSchema(root.Content[0], found)
	config := &Config{Source: source}
	if err := decode(&root, config); err != nil {
		var typeErr *yaml.TypeError
		if !errors.As(err, &typeErr) {
			return nil, yamlError(source, err)
		}
		// The rest of the document is decoded: carry on, so that every
		// problem is reported together.
		for _, message := range typeErr.Errors {
			schema.addYAML(found, message)
		}
	}
	recordLines(config, &root)
	config.resolveZooCfgs(found)
	config.validate(found)
	if err := found.err(); err != nil {
		return nil, err
	}
	return config, nil
}

// decode decodes the tree into config. yaml.v3 panics on some odd input
// (a merge key whose value is an alias used as a mapping key, say) instead
// of returning an error; a configuration file must never take the exporter
// down, least of all on reload.
func decode(root *yaml.Node, config *Config) (err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			err = fmt.Errorf("cannot decode this YAML: %v", recovered)
		}
	}()
	return root.Decode(config)
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlError turns yaml.v3's "yaml: line N: ..." into "file:N: ...".
func yamlError(source string, err error) error {
	message := strings.TrimPrefix(err.Error(), "yaml: ")
	if match := yamlLine.FindStringSubmatch(message); match != nil {
		return fmt.Errorf("%s:%s: %s", source, match[1], match[2])
	}
	return fmt.Errorf("%s: %s", source, message)
}

// recordLines remembers where each ensemble and member was written, so that
// validation errors can point at the line.
func recordLines(config *Config, root *yaml.Node) {
	ensembles := mappingValue(root.Content[0], "ensembles")
	if ensembles == nil || ensembles.Kind != yaml.SequenceNode {
		return
	}
	for i, ensembleNode := range ensembles.Content {
		if i >= len(config.Ensembles) || config.Ensembles[i] == nil {
			break
		}
		ensemble := config.Ensembles[i]
		ensemble.line = ensembleNode.Line
		members := mappingValue(ensembleNode, "members")
		if members == nil || members.Kind != yaml.SequenceNode {
			continue
		}
		for j, memberNode := range members.Content {
			if j < len(ensemble.Members) && ensemble.Members[j] != nil {
				ensemble.Members[j].line = memberNode.Line
			}
		}
	}
}

func mappingValue(node *yaml.Node, key string) *yaml.Node {
	if node.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i+1]
		}
	}
	return nil
}

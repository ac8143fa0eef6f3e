package config

import (
	"bufio"
	"bytes"
	"errors"
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

// maxZooCfgBytes caps a zoo.cfg or dynamic config file: a real one is a few
// kilobytes.
const maxZooCfgBytes = 1 << 20

// position is a line of a zoo.cfg (file 0) or of its dynamic file (1).
type position struct {
	path       string
	file, line int
}

func (p position) String() string {
	if p.line == 0 {
		return p.path
	}
	return fmt.Sprintf("%s:%d", p.path, p.line)
}

type zooProblem struct {
	at   position
	text string
}

// zooCfg is what a zoo.cfg and its dynamic configuration file say about the
// ensemble, with the position of each line for messages.
type zooCfg struct {
	settings  map[string]string
	settingAt map[string]position
	servers   map[int]zk.Server
	serverAt  map[int]position
	groupOf   map[int]int // server id -> group id
	groupAt   map[int]position
	weights   map[int]int // server id -> weight
	weightAt  map[int]position
	problems  []zooProblem
}

func newZooCfg() *zooCfg {
	return &zooCfg{
		settings: map[string]string{}, settingAt: map[string]position{},
		servers: map[int]zk.Server{}, serverAt: map[int]position{},
		groupOf: map[int]int{}, groupAt: map[int]position{},
		weights: map[int]int{}, weightAt: map[int]position{},
	}
}

func (z *zooCfg) problem(at position, format string, args ...any) {
	z.problems = append(z.problems, zooProblem{at: at, text: at.String() + ": " + fmt.Sprintf(format, args...)})
}

// problemTexts returns the problems in the order of the files' lines.
func (z *zooCfg) problemTexts() []string {
	sort.SliceStable(z.problems, func(i, j int) bool {
		a, b := z.problems[i].at, z.problems[j].at
		return a.file < b.file || (a.file == b.file && a.line < b.line)
	})
	texts := make([]string, len(z.problems))
	for i, problem := range z.problems {
		texts[i] = problem.text
	}
	return texts
}

// ReadZooCfg reads an ensemble (without a name) from a zoo.cfg: members from
// its server.N lines and those of the dynamicConfigFile it names (where 3.5+
// keeps them), hierarchical quorums from group.N and weight.N lines, or a
// standalone server when there are no server.N lines. A member's client
// port is the one after ";" on its line, else the file's clientPort, else
// its secureClientPort (which needs the ensemble's tls settings).
func ReadZooCfg(path string) (*Ensemble, error) {
	ensemble, problems := readZooCfg(path)
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return ensemble, nil
}

// readZooCfg returns the ensemble and every problem found, each naming its
// file and line. The ensemble is nil only when path cannot be read.
func readZooCfg(path string) (*Ensemble, []string) {
	data, err := readFile(path)
	if err != nil {
		return nil, []string{err.Error()}
	}
	z := newZooCfg()
	z.parse(path, 0, data)
	if dynamic := z.settings["dynamicConfigFile"]; dynamic != "" {
		if !filepath.IsAbs(dynamic) {
			dynamic = filepath.Join(filepath.Dir(path), dynamic)
		}
		if data, err := readFile(dynamic); err != nil {
			z.problem(z.settingAt["dynamicConfigFile"], "dynamicConfigFile: %v", err)
		} else {
			z.parse(dynamic, 1, data)
		}
	}
	ensemble := z.ensemble(path)
	// No members for a reason already given: "no members" is no news.
	ensemble.zooCfgFailed = len(ensemble.Members) == 0 && len(z.problems) > 0
	return ensemble, z.problemTexts()
}

// ensemble builds the ensemble from the lines read so far.
func (z *zooCfg) ensemble(path string) *Ensemble {
	ensemble := &Ensemble{ZooCfg: path}
	if len(z.servers) == 0 {
		z.standalone(ensemble, path)
	} else {
		z.members(ensemble, path)
	}
	z.applyGroups(ensemble)
	return ensemble
}

// parse reads the lines of the static file (file 0) or of the dynamic one
// (1). Settings other than server, group and weight count only in the
// static file: a dynamic file holds nothing else.
func (z *zooCfg) parse(path string, file int, data []byte) {
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(nil, maxZooCfgBytes+1)
	for lineNumber := 1; scanner.Scan(); lineNumber++ {
		text := strings.TrimSpace(scanner.Text())
		if text == "" || strings.HasPrefix(text, "#") || strings.HasPrefix(text, "!") {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		where := position{path: path, file: file, line: lineNumber}
		kind, idText, numbered := strings.Cut(key, ".")
		switch {
		case numbered && kind == "server":
			z.addServer(where, key, idText, value)
		case numbered && kind == "group":
			z.addGroup(where, key, idText, value)
		case numbered && kind == "weight":
			z.addWeight(where, key, idText, value)
		case file == 0:
			z.settings[key], z.settingAt[key] = value, where
		}
	}
	if err := scanner.Err(); err != nil {
		z.problem(position{path: path, file: file}, "%v", err)
	}
}

func (z *zooCfg) addServer(where position, key, idText, value string) {
	id, err := strconv.Atoi(idText)
	if err != nil {
		z.problem(where, "%q is not server.<number>", key)
		return
	}
	// ZooKeeper's guide asks for ids from 1 to 255; here 0 means unknown.
	if id < 1 {
		z.problem(where, "server.%d: a server id is a number from 1 up", id)
		return
	}
	server, err := zk.ParseServerLine(id, value)
	if err != nil {
		z.problem(where, "%v", err)
		return
	}
	if previous, dup := z.serverAt[id]; dup {
		z.problem(where, "server.%d is also at %s", id, previous)
		return
	}
	z.servers[id], z.serverAt[id] = server, where
}

func (z *zooCfg) addGroup(where position, key, groupText, value string) {
	group, err := strconv.Atoi(groupText)
	if err != nil {
		z.problem(where, "%q is not group.<number>", key)
		return
	}
	for _, idText := range strings.Split(value, ":") {
		id, err := strconv.Atoi(strings.TrimSpace(idText))
		if err != nil {
			z.problem(where, "group.%d: %q is not a server id", group, idText)
			continue
		}
		if previous, dup := z.groupAt[id]; dup {
			z.problem(where, "server %d is also in group.%d (%s): a server is in one group", id, z.groupOf[id], previous)
			continue
		}
		z.groupOf[id], z.groupAt[id] = group, where
	}
}

func (z *zooCfg) addWeight(where position, key, idText, value string) {
	id, err := strconv.Atoi(idText)
	if err != nil {
		z.problem(where, "%q is not weight.<server id>", key)
		return
	}
	weight, err := strconv.Atoi(value)
	if err != nil {
		z.problem(where, "weight.%d: %q is not a number", id, value)
		return
	}
	if weight < 0 {
		z.problem(where, "weight.%d=%d is negative", id, weight)
		return
	}
	if previous, dup := z.weightAt[id]; dup {
		z.problem(where, "weight.%d is also at %s", id, previous)
		return
	}
	z.weights[id], z.weightAt[id] = weight, where
}

// clientPort is the port clients use where a server line gives none:
// clientPort, else secureClientPort (then secure is true), else "".
func (z *zooCfg) clientPort() (port, address string, secure bool) {
	if port := z.settings["clientPort"]; port != "" {
		return port, z.settings["clientPortAddress"], false
	}
	if port := z.settings["secureClientPort"]; port != "" {
		return port, z.settings["secureClientPortAddress"], true
	}
	return "", "", false
}

// checkedClientPort returns clientPort (or secureClientPort), reporting a
// value that is no port. A secure one leaves a note: plain probes of a TLS
// port fail, and only a configuration file can give the ensemble tls.
func (z *zooCfg) checkedClientPort(ensemble *Ensemble) (port, address string, ok bool) {
	port, address, secure := z.clientPort()
	if port == "" {
		return "", "", false
	}
	key := "clientPort"
	if secure {
		key = "secureClientPort"
	}
	if number, err := strconv.Atoi(port); err != nil || number < 1 || number > 65535 {
		z.problem(z.settingAt[key], "%s %q is not a port", key, port)
		return "", "", false
	}
	if secure {
		ensemble.secureOnly = true
	}
	return port, address, true
}

// standalone makes the one member of a zoo.cfg without server.N lines, such
// as Debian's default: the server listens on clientPortAddress (all
// addresses by default) and is probed on the loopback.
func (z *zooCfg) standalone(ensemble *Ensemble, path string) {
	port, host, ok := z.checkedClientPort(ensemble)
	if !ok {
		z.problem(position{path: path}, "neither server.N lines nor a clientPort: no server to probe")
		return
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "0:0:0:0:0:0:0:0", "[::]":
		host = "::1"
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	ensemble.Standalone = true
	ensemble.Members = []*Member{{Address: net.JoinHostPort(host, port), Role: RoleVoter}}
}

// members makes one member per server line, sorted by server id. One voter
// runs standalone too, unless standaloneEnabled=false (3.5+).
func (z *zooCfg) members(ensemble *Ensemble, path string) {
	ids := sortedKeys(z.servers)
	var port string
	checked, hasPort := false, false
	voters := 0
	for _, id := range ids {
		server := z.servers[id]
		address := server.ClientAddress
		if address == "" {
			if !checked {
				port, _, hasPort = z.checkedClientPort(ensemble)
				checked = true
			}
			if !hasPort {
				z.problem(z.serverAt[id], "server.%d has no client port, and %s gives no usable clientPort", id, path)
				continue
			}
			address = net.JoinHostPort(server.Host, port)
		}
		role := RoleVoter
		if !server.Voter() {
			role = RoleObserver
		} else {
			voters++
		}
		ensemble.Members = append(ensemble.Members, &Member{Address: address, Role: role, ServerID: id})
	}
	ensemble.Standalone = voters == 1 && z.settings["standaloneEnabled"] != "false"
	ensemble.Oracle = ensemble.Oracle || z.settings["oraclePath"] != ""
}

// applyGroups puts group.N and weight.N on the members, for Validate to
// check and turn into the ensemble's Groups and Weights. What cannot be
// said on a member (a group naming an unknown server) is reported here.
func (z *zooCfg) applyGroups(ensemble *Ensemble) {
	if len(z.groupOf) == 0 {
		if len(z.weights) > 0 {
			ensemble.notes = append(ensemble.notes,
				"weight.N lines without group.N lines: ZooKeeper ignores them, and so does the exporter")
		}
		return
	}
	byID := map[int]*Member{}
	for _, member := range ensemble.Members {
		byID[member.ServerID] = member
	}
	for _, id := range sortedKeys(z.groupOf) {
		group, member := z.groupOf[id], byID[id]
		_, hasLine := z.servers[id]
		switch {
		case member == nil && hasLine:
			// Its server line is unusable, which is reported already.
		case member == nil:
			z.problem(z.groupAt[id], "group.%d names server %d, which has no server.%d line", group, id, id)
		case !member.Voter():
			z.problem(z.groupAt[id], "group.%d names server %d, an observer: groups hold voters", group, id)
		default:
			member.Group = &group
		}
	}
	for _, id := range sortedKeys(z.weights) {
		weight, member := z.weights[id], byID[id]
		_, hasLine := z.servers[id]
		switch {
		case member == nil && hasLine:
		case member == nil:
			z.problem(z.weightAt[id], "weight.%d names no server: there is no server.%d line", id, id)
		case member.Voter():
			member.Weight = &weight
		}
	}
}

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
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > maxZooCfgBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxZooCfgBytes)
	}
	return data, nil
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Ints(keys)
	return keys
}

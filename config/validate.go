package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// reservedLabels are set by the exporter itself.
var reservedLabels = map[string]bool{
	"ensemble": true, "member": true, "role": true, "server_id": true,
	"datacenter": true, "mode": true, "version": true, "command": true,
	"reason": true, "job": true, "instance": true, "discovered": true,
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// problem is one thing wrong with a configuration, at a line of its source
// (0 when it has none).
type problem struct {
	line int
	text string
}

// problems collects everything wrong with a configuration, so that it is
// reported at once rather than one fix and reload at a time.
type problems struct {
	source string
	list   []problem
}

func (p *problems) add(line int, format string, args ...any) {
	where := p.source
	if line > 0 {
		where = fmt.Sprintf("%s:%d", p.source, line)
	}
	p.list = append(p.list, problem{line: line, text: where + ": " + fmt.Sprintf(format, args...)})
}

// err returns every problem in the order of the file, one per line, or nil.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	sort.SliceStable(p.list, func(i, j int) bool { return p.list[i].line < p.list[j].line })
	texts := make([]string, len(p.list))
	for i, problem := range p.list {
		texts[i] = problem.text
	}
	return errors.New(strings.Join(texts, "\n"))
}

// Validate checks the whole configuration and fills defaults (role voter)
// and each ensemble's Groups and Weights. Every problem is reported, each
// naming its file, line and member.
func (c *Config) Validate() error {
	found := &problems{source: c.Source}
	c.validate(found)
	return found.err()
}

func (c *Config) validate(found *problems) {
	c.Warnings = nil
	if c.Timeout < 0 {
		found.add(0, "timeout %s is negative", c.Timeout)
	}
	if len(c.Ensembles) == 0 {
		found.add(0, "no ensembles configured")
	}
	names := map[string]bool{}
	for i, ensemble := range c.Ensembles {
		if ensemble == nil {
			found.add(0, "ensemble #%d is empty", i+1)
			continue
		}
		switch {
		case ensemble.Name == "":
			found.add(ensemble.line, "ensemble #%d has no name", i+1)
		case names[ensemble.Name]:
			found.add(ensemble.line, "ensemble %q is configured twice", ensemble.Name)
		}
		names[ensemble.Name] = true
		c.validateEnsemble(ensemble, found.add)
		c.validateMembers(ensemble, found.add)
		validateGroups(ensemble, found.add)
		c.warnVoters(ensemble)
	}
}

func (c *Config) validateEnsemble(ensemble *Ensemble, report reporter) {
	if !utf8.ValidString(ensemble.Name) {
		report(ensemble.line, "ensemble name %q is not UTF-8: it cannot be a label value", ensemble.Name)
	}
	if ensemble.Timeout < 0 {
		report(ensemble.line, "ensemble %q: timeout %s is negative", ensemble.Name, ensemble.Timeout)
	}
	if ensemble.TLS != nil {
		for _, file := range []string{ensemble.TLS.CAFile, ensemble.TLS.CertFile, ensemble.TLS.KeyFile} {
			if _, err := os.Stat(file); file != "" && err != nil {
				report(ensemble.line, "ensemble %q: tls: %v", ensemble.Name, err)
			}
		}
		if (ensemble.TLS.CertFile == "") != (ensemble.TLS.KeyFile == "") {
			report(ensemble.line, "ensemble %q: tls: cert_file and key_file go together", ensemble.Name)
		}
	}
	switch ensemble.Discover {
	case "", DiscoverConf, DiscoverOff:
	default:
		report(ensemble.line, "ensemble %q: discover %q is neither %s nor %s", ensemble.Name, ensemble.Discover, DiscoverConf, DiscoverOff)
	}
	if ensemble.MaxDiscovered < 0 {
		report(ensemble.line, "ensemble %q: max_discovered %d is negative", ensemble.Name, ensemble.MaxDiscovered)
	}
	if ensemble.AdminPort < 0 || ensemble.AdminPort > 65535 {
		report(ensemble.line, "ensemble %q: admin_port %d is not a port", ensemble.Name, ensemble.AdminPort)
	}
}

// warnVoters adds the ensemble's warnings: its zoo.cfg's, and an even
// number of voters under a simple majority (hierarchical quorums are
// sized by groups, not by the voter count).
func (c *Config) warnVoters(ensemble *Ensemble) {
	for _, note := range ensemble.notes {
		c.Warnings = append(c.Warnings, fmt.Sprintf("ensemble %q: %s", ensemble.Name, note))
	}
	if ensemble.secureOnly && ensemble.TLS == nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf(
			"ensemble %q: its zoo.cfg gives only a secureClientPort: probes need the ensemble's tls settings (a configuration file with zoo_cfg and tls), else they fail",
			ensemble.Name))
	}
	if voters := len(ensemble.Voters()); voters > 0 && voters%2 == 0 && ensemble.Groups == nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf(
			"ensemble %q has %d voters: an even count tolerates no more failures than %d voters and needs a larger quorum",
			ensemble.Name, voters, voters-1))
	}
}

// reporter reports a problem at a line.
type reporter func(line int, format string, args ...any)

// memberReporter reports problems of one member, naming its ensemble and
// address (or position, when it has none).
func memberReporter(ensemble *Ensemble, index int, member *Member, report reporter) func(string, ...any) {
	name := fmt.Sprintf("%q", member.Address)
	if member.Address == "" {
		name = fmt.Sprintf("#%d", index+1)
	}
	return func(format string, args ...any) {
		report(member.line, "ensemble %q member %s: %s", ensemble.Name, name, fmt.Sprintf(format, args...))
	}
}

func (c *Config) validateMembers(ensemble *Ensemble, report reporter) {
	if ensemble.DNS != nil {
		validateDNS(ensemble, report)
		return
	}
	if len(ensemble.Members) == 0 {
		if !ensemble.zooCfgFailed {
			report(ensemble.line, "ensemble %q has no members", ensemble.Name)
		}
		return
	}
	addresses := map[string]*Member{}
	serverIDs := map[int]string{}
	for j, member := range ensemble.Members {
		if member == nil {
			report(ensemble.line, "ensemble %q: member #%d is empty", ensemble.Name, j+1)
			continue
		}
		problem := memberReporter(ensemble, j, member, report)
		validateMember(member, problem)
		if first := addresses[member.Address]; first != nil {
			problem("%s", duplicateMember(ensemble, first))
		} else {
			addresses[member.Address] = member
		}
		if other, taken := serverIDs[member.ServerID]; member.ServerID > 0 && taken {
			problem("server_id %d is also %s's", member.ServerID, other)
		}
		if member.ServerID > 0 {
			serverIDs[member.ServerID] = member.Address
		}
	}
	if len(ensemble.Voters()) == 0 {
		report(ensemble.line, "ensemble %q has no voters: a quorum needs at least one", ensemble.Name)
	}
}

// duplicateMember points at the first entry when the YAML lists it: a
// zoo.cfg's members all carry their ensemble's line.
func duplicateMember(ensemble *Ensemble, first *Member) string {
	if first.line > 0 && ensemble.ZooCfg == "" {
		return fmt.Sprintf("duplicate member (first on line %d)", first.line)
	}
	return "duplicate member"
}

// validateMember checks one member on its own, and defaults its role.
func validateMember(member *Member, problem func(string, ...any)) {
	if err := checkAddress(member.Address); err != nil {
		problem("%v", err)
	}
	// Each of these becomes a label value, and client_golang panics on a
	// label value that is not UTF-8.
	if !utf8.ValidString(member.Address) {
		problem("address %q is not UTF-8", member.Address)
	}
	if !utf8.ValidString(member.Datacenter) {
		problem("datacenter %q is not UTF-8", member.Datacenter)
	}
	if member.AdminURL != "" {
		if parsed, err := url.Parse(member.AdminURL); err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			problem("admin_url %q: want http(s)://host:port/commands", member.AdminURL)
		}
	}
	switch member.Role {
	case "":
		member.Role = RoleVoter
	case RoleVoter, RoleObserver:
	default:
		problem("role %q is neither voter nor observer", member.Role)
	}
	if member.ServerID < 0 {
		problem("server_id %d is negative", member.ServerID)
	}
	for label := range member.Labels {
		switch {
		case !labelName.MatchString(label) || strings.HasPrefix(label, "__"):
			problem("label %q is not a valid Prometheus label name", label)
		case reservedLabels[label]:
			problem("label %q is set by the exporter; choose another name", label)
		case !utf8.ValidString(member.Labels[label]):
			problem("label %q: value %q is not UTF-8", label, member.Labels[label])
		}
	}
}

// checkAddress accepts host:port with a numeric port.
func checkAddress(address string) error {
	if address == "" {
		return errors.New("no address (want host:port)")
	}
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("address %q: want host:port", address)
	}
	if host == "" {
		return fmt.Errorf("address %q has no host", address)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("address %q: port %q is not a number from 1 to 65535", address, portText)
	}
	return nil
}

package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// reservedLabels are set by the exporter itself.
var reservedLabels = map[string]bool{
	"ensemble": true, "member": true, "role": true, "server_id": true,
	"datacenter": true, "mode": true, "version": true, "command": true,
	"reason": true, "job": true, "instance": true,
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Validate checks the whole configuration and fills defaults (role voter).
// Every problem is reported, each naming its file, line and member.
func (c *Config) Validate() error {
	var problems []string
	report := func(line int, format string, args ...any) {
		where := c.Source
		if line > 0 {
			where = fmt.Sprintf("%s:%d", c.Source, line)
		}
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}
	c.Warnings = nil
	if c.Timeout < 0 {
		report(0, "timeout %s is negative", c.Timeout)
	}
	if len(c.Ensembles) == 0 {
		report(0, "no ensembles configured")
	}
	names := map[string]bool{}
	for i, ensemble := range c.Ensembles {
		if ensemble == nil {
			report(0, "ensemble #%d is empty", i+1)
			continue
		}
		switch {
		case ensemble.Name == "":
			report(ensemble.line, "ensemble #%d has no name", i+1)
		case names[ensemble.Name]:
			report(ensemble.line, "ensemble %q is configured twice", ensemble.Name)
		}
		names[ensemble.Name] = true
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
		if ensemble.AdminPort < 0 || ensemble.AdminPort > 65535 {
			report(ensemble.line, "ensemble %q: admin_port %d is not a port", ensemble.Name, ensemble.AdminPort)
		}
		c.validateMembers(ensemble, report)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

func (c *Config) validateMembers(ensemble *Ensemble, report func(int, string, ...any)) {
	if len(ensemble.Members) == 0 {
		report(ensemble.line, "ensemble %q has no members", ensemble.Name)
		return
	}
	addresses := map[string]bool{}
	serverIDs := map[int]string{}
	for j, member := range ensemble.Members {
		if member == nil {
			report(ensemble.line, "ensemble %q: member #%d is empty", ensemble.Name, j+1)
			continue
		}
		name := member.Address
		if name == "" {
			name = fmt.Sprintf("#%d", j+1)
		}
		problem := func(format string, args ...any) {
			report(member.line, "ensemble %q member %q: %s", ensemble.Name, name, fmt.Sprintf(format, args...))
		}
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
		if addresses[member.Address] {
			problem("duplicate member")
		}
		addresses[member.Address] = true
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
		if other, taken := serverIDs[member.ServerID]; member.ServerID > 0 && taken {
			problem("server_id %d is also %s's", member.ServerID, other)
		}
		if member.ServerID > 0 {
			serverIDs[member.ServerID] = member.Address
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
	voters := len(ensemble.Voters())
	switch {
	case voters == 0:
		report(ensemble.line, "ensemble %q has no voters: a quorum needs at least one", ensemble.Name)
	case voters%2 == 0:
		c.Warnings = append(c.Warnings, fmt.Sprintf(
			"ensemble %q has %d voters: an even count tolerates no more failures than %d voters and needs a larger quorum",
			ensemble.Name, voters, voters-1))
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

package config

import (
	"net"
	"strings"
	"time"
)

// DNS record types an ensemble's members can come from.
const (
	DNSTypeA   = "A"   // every A and AAAA record of the name, on Port
	DNSTypeSRV = "SRV" // every SRV record: target and port
)

// DefaultDNSRefresh is how often a DNS name is resolved again.
const DefaultDNSRefresh = 30 * time.Second

// DNSConfig makes an ensemble's members the records of a DNS name, as a
// StatefulSet's headless service gives them, resolved again every
// RefreshInterval. Their roles are the ensemble's own (from conf).
type DNSConfig struct {
	Name            string        `yaml:"name"`
	Type            string        `yaml:"type"`
	Port            int           `yaml:"port"`
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	// Resolver is the host:port of the DNS server to ask; "" means the
	// system's.
	Resolver string `yaml:"resolver"`
}

// Refresh is the interval between resolutions.
func (d *DNSConfig) Refresh() time.Duration {
	if d.RefreshInterval > 0 {
		return d.RefreshInterval
	}
	return DefaultDNSRefresh
}

// RecordType is DNSTypeA or DNSTypeSRV; A when not given.
func (d *DNSConfig) RecordType() string {
	if strings.EqualFold(d.Type, DNSTypeSRV) {
		return DNSTypeSRV
	}
	return DNSTypeA
}

// ClientPort is the port of members from A records: 2181 when not given.
func (d *DNSConfig) ClientPort() int {
	if d.Port > 0 {
		return d.Port
	}
	return 2181
}

// validateDNS checks an ensemble's dns block.
func validateDNS(ensemble *Ensemble, report reporter) {
	d := ensemble.DNS
	problem := func(format string, args ...any) {
		report(ensemble.line, "ensemble %q: dns: "+format, append([]any{ensemble.Name}, args...)...)
	}
	if d.Name == "" {
		problem("no name")
	}
	if d.Type != "" && !strings.EqualFold(d.Type, DNSTypeA) && !strings.EqualFold(d.Type, DNSTypeSRV) {
		problem("type %q is neither A nor SRV", d.Type)
	}
	if d.Port < 0 || d.Port > 65535 {
		problem("port %d is not a port", d.Port)
	}
	if d.RecordType() == DNSTypeSRV && d.Port != 0 {
		problem("port comes from the SRV records: leave it out")
	}
	if d.RefreshInterval < 0 {
		problem("refresh_interval %s is negative", d.RefreshInterval)
	}
	if _, _, err := net.SplitHostPort(d.Resolver); d.Resolver != "" && err != nil {
		problem("resolver %q is not host:port", d.Resolver)
	}
	if len(ensemble.Members) > 0 || ensemble.ZooCfg != "" {
		problem("members come from DNS: give no members and no zoo_cfg")
	}
}

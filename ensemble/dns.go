package ensemble

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/config"
)

// dnsMembers is what an ensemble's DNS name gave last.
type dnsMembers struct {
	spec    *config.DNSConfig
	members []*config.Member
	at      time.Time // last lookup, successful or not
	err     error     // the last lookup's failure, nil if it succeeded
}

// DNSStatus is, for an ensemble whose members come from DNS, how the last
// lookup went.
type DNSStatus struct {
	OK  bool
	Err error
	// Members is how many members the name gave last time it resolved.
	Members int
}

// lookupMembers resolves spec to member addresses, sorted.
func lookupMembers(ctx context.Context, spec *config.DNSConfig) ([]string, error) {
	resolver := resolverFor(spec)
	var addresses []string
	switch spec.RecordType() {
	case config.DNSTypeSRV:
		_, records, err := resolver.LookupSRV(ctx, "", "", spec.Name)
		if err != nil {
			return nil, err
		}
		for _, record := range records {
			addresses = append(addresses, net.JoinHostPort(strings.TrimSuffix(record.Target, "."), strconv.Itoa(int(record.Port))))
		}
	default:
		ips, err := resolver.LookupIPAddr(ctx, spec.Name)
		if err != nil {
			return nil, err
		}
		for _, ip := range ips {
			addresses = append(addresses, net.JoinHostPort(ip.IP.String(), strconv.Itoa(spec.ClientPort())))
		}
	}
	if len(addresses) == 0 {
		return nil, errors.New("no records")
	}
	sort.Strings(addresses)
	return addresses, nil
}

// resolverFor is the resolver the spec names, the system's by default. The
// members' names (SRV targets) are dialled through it too.
func resolverFor(spec *config.DNSConfig) *net.Resolver {
	if spec == nil || spec.Resolver == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, spec.Resolver)
	}}
}

// resolveDNS looks the ensemble's DNS name up again when due. A name that
// stops resolving keeps the members it gave last: an ensemble never loses
// its members to a DNS outage, and the failure is logged and exported.
func (r *Registry) resolveDNS(t *tracker, s *setup) {
	spec := s.ensemble.DNS
	if spec == nil {
		return
	}
	t.mu.Lock()
	last := t.dns
	t.mu.Unlock()
	if last.spec == spec && time.Since(last.at) < spec.Refresh() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	addresses, err := lookupMembers(ctx, spec)
	cancel()
	next := dnsMembers{spec: spec, members: last.members, at: time.Now()}
	switch {
	case err != nil:
		next.err = fmt.Errorf("dns %s %s: %w", spec.RecordType(), spec.Name, err)
		r.metrics.dnsErrors.WithLabelValues(s.ensemble.Name).Inc()
		if last.err == nil {
			r.logger.Error("members from DNS: lookup failed, keeping the last members", "ensemble", s.ensemble.Name, "members", len(last.members), "err", next.err)
		}
	default:
		next.members = membersAt(addresses)
		r.metrics.forgetMembers(s.ensemble.Name, last.members, next.members)
		if last.err != nil {
			r.logger.Info("members from DNS: lookup works again", "ensemble", s.ensemble.Name, "members", len(next.members))
		}
	}
	t.mu.Lock()
	t.dns = next
	t.mu.Unlock()
}

// withDNSMembers returns the setup with the members the ensemble's DNS name
// gave last, and how its last lookup went; the setup as it is when its
// members are configured.
func (r *Registry) withDNSMembers(t *tracker, s *setup) (*setup, *DNSStatus) {
	if s.ensemble.DNS == nil {
		return s, nil
	}
	t.mu.Lock()
	last := t.dns
	t.mu.Unlock()
	resolved := *s.ensemble
	resolved.Members = last.members
	return &setup{ensemble: &resolved, client: s.client, timeout: s.timeout, fingerprint: s.fingerprint},
		&DNSStatus{OK: last.err == nil && !last.at.IsZero(), Err: last.err, Members: len(last.members)}
}

// membersAt makes voters of the addresses: the ensemble's own membership
// says which vote.
func membersAt(addresses []string) []*config.Member {
	members := make([]*config.Member, len(addresses))
	for i, address := range addresses {
		members[i] = &config.Member{Address: address, Role: config.RoleVoter}
	}
	return members
}

// Package dnstest is a DNS server stand-in for tests: it answers A, AAAA and
// SRV questions over UDP on loopback from records the test sets and changes,
// and SERVFAIL for a name it is told to fail. It stands in for a cluster's
// DNS (a StatefulSet's headless service), which tests cannot run.
package dnstest

import (
	"net"
	"strings"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// SRV is one SRV record's target and port.
type SRV struct {
	Target string
	Port   uint16
}

// Server answers DNS questions from its records.
type Server struct {
	conn net.PacketConn

	mu      sync.Mutex
	a       map[string][]net.IP
	srv     map[string][]SRV
	failing map[string]bool
	wg      sync.WaitGroup
}

// Start listens on 127.0.0.1, a free UDP port.
func Start() (*Server, error) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{conn: conn, a: map[string][]net.IP{}, srv: map[string][]SRV{}, failing: map[string]bool{}}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Address is the server's host:port.
func (s *Server) Address() string { return s.conn.LocalAddr().String() }

// Close stops the server.
func (s *Server) Close() error {
	err := s.conn.Close()
	s.wg.Wait()
	return err
}

func canonical(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) + "." }

// SetA sets a name's A and AAAA records.
func (s *Server) SetA(name string, ips ...net.IP) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.a[canonical(name)] = ips
}

// SetSRV sets a name's SRV records.
func (s *Server) SetSRV(name string, records ...SRV) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srv[canonical(name)] = records
}

// Fail makes every question about name answer SERVFAIL, or stops that.
func (s *Server) Fail(name string, failing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing[canonical(name)] = failing
}

func (s *Server) serve() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if answer, err := s.answer(buf[:n]); err == nil {
			_, _ = s.conn.WriteTo(answer, from)
		}
	}
}

// answer builds the reply to one query.
func (s *Server) answer(query []byte) ([]byte, error) {
	var parser dnsmessage.Parser
	header, err := parser.Start(query)
	if err != nil {
		return nil, err
	}
	question, err := parser.Question()
	if err != nil {
		return nil, err
	}
	name := canonical(question.Name.String())
	s.mu.Lock()
	failing, ips, srvs := s.failing[name], s.a[name], s.srv[name]
	s.mu.Unlock()
	reply := dnsmessage.Header{ID: header.ID, Response: true, Authoritative: true, RecursionAvailable: true}
	switch {
	case failing:
		reply.RCode = dnsmessage.RCodeServerFailure
	case len(ips) == 0 && len(srvs) == 0:
		reply.RCode = dnsmessage.RCodeNameError
	}
	builder := dnsmessage.NewBuilder(nil, reply)
	builder.EnableCompression()
	if err := builder.StartQuestions(); err != nil {
		return nil, err
	}
	if err := builder.Question(question); err != nil {
		return nil, err
	}
	if err := builder.StartAnswers(); err != nil {
		return nil, err
	}
	if reply.RCode == dnsmessage.RCodeSuccess {
		if err := records(&builder, question, ips, srvs); err != nil {
			return nil, err
		}
	}
	return builder.Finish()
}

func records(builder *dnsmessage.Builder, question dnsmessage.Question, ips []net.IP, srvs []SRV) error {
	head := dnsmessage.ResourceHeader{Name: question.Name, Class: dnsmessage.ClassINET, TTL: 1}
	for _, ip := range ips {
		switch v4 := ip.To4(); {
		case question.Type == dnsmessage.TypeA && v4 != nil:
			var a dnsmessage.AResource
			copy(a.A[:], v4)
			if err := builder.AResource(head, a); err != nil {
				return err
			}
		case question.Type == dnsmessage.TypeAAAA && v4 == nil:
			var aaaa dnsmessage.AAAAResource
			copy(aaaa.AAAA[:], ip.To16())
			if err := builder.AAAAResource(head, aaaa); err != nil {
				return err
			}
		}
	}
	if question.Type != dnsmessage.TypeSRV {
		return nil
	}
	for _, record := range srvs {
		target, err := dnsmessage.NewName(canonical(record.Target))
		if err != nil {
			return err
		}
		if err := builder.SRVResource(head, dnsmessage.SRVResource{Priority: 0, Weight: 1, Port: record.Port, Target: target}); err != nil {
			return err
		}
	}
	return nil
}

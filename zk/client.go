// Package zk speaks ZooKeeper's four-letter words and parses their answers.
// It knows nothing of Prometheus: it turns bytes on the wire into typed values
// and named failures.
package zk

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// DefaultMaxAnswerBytes caps an answer. A real mntr of a busy 3.8 leader is a
// few kilobytes; anything near a megabyte is not ZooKeeper talking.
const DefaultMaxAnswerBytes = 1 << 20

// Client sends one four-letter word per TCP connection, as ZooKeeper expects:
// the server answers and closes.
type Client struct {
	// Timeout bounds one word (dial, write and read) when the context has no
	// earlier deadline. Zero means the context alone decides.
	Timeout time.Duration
	// MaxAnswerBytes caps the answer; zero means DefaultMaxAnswerBytes.
	MaxAnswerBytes int64
	// TLSConfig, when set, wraps the connection in TLS (secureClientPort).
	TLSConfig *tls.Config
	// Dialer dials the member; nil means a plain net.Dialer.
	Dialer interface {
		DialContext(ctx context.Context, network, address string) (net.Conn, error)
	}
}

// Command sends word to the member at address and returns its raw answer.
// The special answers of ZooKeeper (not serving, not whitelisted) come back
// as errors so that callers cannot mistake them for data.
func (c *Client) Command(ctx context.Context, address, word string) ([]byte, error) {
	var answer []byte
	err := c.CommandFunc(ctx, address, word, func(read []byte) error {
		answer = bytes.Clone(read)
		return nil
	})
	return answer, err
}

// CommandFunc is Command handing the answer to use instead of returning
// it: the answer lives in a pooled buffer, valid only during the call, so a
// parser that copies what it keeps costs no allocation for the answer
// itself. An error from use is returned as is.
func (c *Client) CommandFunc(ctx context.Context, address, word string, use func(answer []byte) error) error {
	// A deadline of the caller's that comes first makes the timeout moot:
	// no context to derive for every word then.
	if deadline, ok := ctx.Deadline(); c.Timeout > 0 && (!ok || time.Until(deadline) > c.Timeout) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	buffer := answerBuffers.Get().(*bytes.Buffer)
	defer putAnswerBuffer(buffer)
	if err := c.exchange(ctx, address, word, buffer); err != nil {
		return err
	}
	answer := buffer.Bytes()
	if err := Special(word, answer); err != nil {
		return &Error{Word: word, Address: address, Reason: reasonOf(err), Err: err}
	}
	return use(answer)
}

// answerBuffers holds read buffers between words: a leader's mntr is about
// 20 KB, and growing a fresh buffer to it for every member and round was
// most of a probe's garbage.
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps a rare huge answer's buffer out of the pool.
const maxPooledBuffer = 256 << 10

func putAnswerBuffer(buffer *bytes.Buffer) {
	if buffer.Cap() > maxPooledBuffer {
		return
	}
	buffer.Reset()
	answerBuffers.Put(buffer)
}

// exchange dials, sends word and reads the whole answer into buffer.
func (c *Client) exchange(ctx context.Context, address, word string, buffer *bytes.Buffer) error {
	conn, err := c.dial(ctx, address)
	if err != nil {
		return &Error{Word: word, Address: address, Reason: classify(ctx, err), Err: err}
	}
	defer conn.Close()

	// The context may be cancelled while we block in Read: close the
	// connection then, so a frozen member cannot hold the goroutine.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}

	if _, err := io.WriteString(conn, word); err != nil {
		return &Error{Word: word, Address: address, Reason: classify(ctx, err), Err: err}
	}
	limit := c.MaxAnswerBytes
	if limit <= 0 {
		limit = DefaultMaxAnswerBytes
	}
	n, err := buffer.ReadFrom(io.LimitReader(conn, limit+1))
	if err != nil {
		return &Error{Word: word, Address: address, Reason: classify(ctx, err), Err: err}
	}
	if n > limit {
		return &Error{Word: word, Address: address, Reason: ReasonAnswerTooLarge,
			Err: fmt.Errorf("answer exceeds %d bytes", limit)}
	}
	if n == 0 {
		return &Error{Word: word, Address: address, Reason: ReasonEmptyAnswer,
			Err: errors.New("connection closed without an answer")}
	}
	resetOnClose(conn)
	return nil
}

// resetOnClose makes Close end a connection whose answer was read to the
// end with a reset (SO_LINGER 0). The member closed its side first, as
// ZooKeeper does after every word; a reset then spares both ends the FIN
// exchange, and leaves the member no TIME_WAIT socket for each word (two
// per member and scrape).
func resetOnClose(conn net.Conn) {
	if tlsConn, ok := conn.(*tls.Conn); ok {
		conn = tlsConn.NetConn()
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
}

// dialTCP dials address. A literal IP address and port needs no lookup:
// Dialer.DialTCP skips the resolver and its garbage (a third of a word's
// allocations at 1,000 members).
func (c *Client) dialTCP(ctx context.Context, address string) (net.Conn, error) {
	dialer := wordDialer
	if c.Dialer != nil {
		netDialer, ok := c.Dialer.(*net.Dialer)
		if !ok {
			return c.Dialer.DialContext(ctx, "tcp", address)
		}
		dialer = netDialer
	}
	if literal, err := netip.ParseAddrPort(address); err == nil {
		conn, err := dialer.DialTCP(ctx, "tcp", netip.AddrPort{}, literal)
		if err != nil {
			return nil, err
		}
		return conn, nil
	}
	return dialer.DialContext(ctx, "tcp", address)
}

// wordDialer dials without TCP keep-alive: a word's connection lives for
// one answer, so keep-alive would only add socket options to set.
var wordDialer = &net.Dialer{KeepAlive: -1}

// NewDialer returns a dialer like the client's default one, through
// resolver.
func NewDialer(resolver *net.Resolver) *net.Dialer {
	return &net.Dialer{KeepAlive: -1, Resolver: resolver}
}

func (c *Client) dial(ctx context.Context, address string) (net.Conn, error) {
	conn, err := c.dialTCP(ctx, address)
	if err != nil || c.TLSConfig == nil {
		return conn, err
	}
	config := c.TLSConfig.Clone()
	if config.ServerName == "" {
		host, _, _ := net.SplitHostPort(address)
		config.ServerName = host
	}
	tlsConn := tls.Client(conn, config)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, &tlsHandshakeError{err: err}
	}
	return tlsConn, nil
}

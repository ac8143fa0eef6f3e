package zk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// Reasons name why a word got no usable answer. They are label values of the
// exporter's error counter, so they are few, fixed and snake_case.
const (
	ReasonTimeout        = "timeout"
	ReasonRefused        = "connection_refused"
	ReasonReset          = "connection_reset"
	ReasonUnreachable    = "unreachable"
	ReasonResolve        = "dns"
	ReasonTLS            = "tls"
	ReasonEmptyAnswer    = "empty_answer"
	ReasonAnswerTooLarge = "answer_too_large"
	ReasonNotServing     = "not_serving"
	ReasonNotWhitelisted = "not_whitelisted"
	ReasonUnparsable     = "unparsable_answer"
	ReasonHTTP           = "http_error"
	ReasonOther          = "other"
	notServingAnswer     = "This ZooKeeper instance is not currently serving requests"
	notWhitelistedSuffix = "is not executed because it is not in the whitelist."
)

// ErrNotServing is ZooKeeper's own "This ZooKeeper instance is not currently
// serving requests": the process answers but has no quorum (or is a leader
// started with leaderServes=no).
var ErrNotServing = errors.New("member is not currently serving requests")

// NotWhitelistedError is the answer of a member whose 4lw.commands.whitelist
// does not include the word.
type NotWhitelistedError struct{ Word string }

func (e *NotWhitelistedError) Error() string {
	return fmt.Sprintf("%q is not in the member's 4lw.commands.whitelist", e.Word)
}

// ParseError says an answer was not what ZooKeeper sends.
type ParseError struct {
	Word string
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("unexpected %s answer: %s", e.Word, e.Msg) }

// Error is a failed word, with the member it was sent to and a Reason.
type Error struct {
	Word    string
	Address string
	Reason  string
	Err     error
}

func (e *Error) Error() string { return fmt.Sprintf("%s to %s: %v", e.Word, e.Address, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Reason returns the reason label for any error of this package; "" for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var zkErr *Error
	if errors.As(err, &zkErr) {
		return zkErr.Reason
	}
	return reasonOf(err)
}

// IsNotWhitelisted reports whether err says the word is not whitelisted.
func IsNotWhitelisted(err error) bool {
	var notWhitelisted *NotWhitelistedError
	return errors.As(err, &notWhitelisted)
}

// Special recognises ZooKeeper's answers that are states, not data.
func Special(word string, answer []byte) error {
	trimmed := bytes.TrimSpace(answer)
	switch {
	case bytes.Equal(trimmed, []byte(notServingAnswer)):
		return ErrNotServing
	case bytes.HasSuffix(trimmed, []byte(notWhitelistedSuffix)):
		return &NotWhitelistedError{Word: word}
	}
	return nil
}

func reasonOf(err error) string {
	var parseErr *ParseError
	switch {
	case errors.Is(err, ErrNotServing):
		return ReasonNotServing
	case IsNotWhitelisted(err):
		return ReasonNotWhitelisted
	case errors.As(err, &parseErr):
		return ReasonUnparsable
	}
	return ReasonOther
}

// classify names a network failure. The context is consulted first: a
// connection closed because the deadline passed is a timeout, not a reset.
func classify(ctx context.Context, err error) string {
	if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return ReasonTimeout
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return ReasonTimeout
	}
	var dnsErr *net.DNSError
	var handshakeErr *tlsHandshakeError
	var opErr *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReasonRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ReasonReset
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return ReasonUnreachable
	case errors.As(err, &dnsErr):
		return ReasonResolve
	case errors.As(err, &handshakeErr):
		return ReasonTLS
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		// A TLS 1.3 server refuses a client certificate after the
		// handshake: the alert arrives on the first read.
		return ReasonTLS
	}
	return ReasonOther
}

// tlsHandshakeError marks a failure before any word was sent over TLS.
type tlsHandshakeError struct{ err error }

func (e *tlsHandshakeError) Error() string { return "TLS handshake: " + e.err.Error() }
func (e *tlsHandshakeError) Unwrap() error { return e.err }

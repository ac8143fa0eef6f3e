package zk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeMember is a TCP server on loopback that behaves as no real ZooKeeper
// can be made to: silent, endless, resetting; or, for the benchmarks, one
// that answers at once. Real answers are tested against real members
// elsewhere.
func fakeMember(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { listener.Close(); <-done })
	go func() {
		defer close(done)
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				word := make([]byte, 4)
				_, _ = io.ReadFull(conn, word)
				handle(conn)
			}()
		}
	}()
	return listener.Addr().String()
}

func TestCommandFailures(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name   string
		handle func(net.Conn)
		reason string
	}{
		{"silent member", func(net.Conn) { <-release }, ReasonTimeout},
		{"closes without a word", func(net.Conn) {}, ReasonEmptyAnswer},
		{"endless answer", func(conn net.Conn) {
			chunk := bytes.Repeat([]byte("x"), 64<<10)
			for {
				if _, err := conn.Write(chunk); err != nil {
					return
				}
			}
		}, ReasonAnswerTooLarge},
		{"connection reset", func(conn net.Conn) {
			_, _ = conn.Write([]byte("Zookeeper version: 3.8.0\n"))
			time.Sleep(50 * time.Millisecond)
			_ = conn.(*net.TCPConn).SetLinger(0)
		}, ReasonReset},
		{"not serving", func(conn net.Conn) { _, _ = io.WriteString(conn, notServingAnswer+"\n") }, ReasonNotServing},
		{"not whitelisted", func(conn net.Conn) {
			_, _ = io.WriteString(conn, "mntr is not executed because it is not in the whitelist.\n")
		}, ReasonNotWhitelisted},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			address := fakeMember(t, test.handle)
			client := &Client{Timeout: 300 * time.Millisecond, MaxAnswerBytes: 1 << 20}
			answer, err := client.Command(context.Background(), address, "mntr")
			if err == nil {
				t.Fatalf("Command() = %q, want an error", answer)
			}
			if got := Reason(err); got != test.reason {
				t.Errorf("Reason(%v) = %q, want %q", err, got, test.reason)
			}
			if !strings.Contains(err.Error(), address) {
				t.Errorf("error %q does not name the member", err)
			}
		})
	}
}

func TestCommandRefused(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := listener.Addr().String()
	listener.Close()
	_, err = (&Client{Timeout: time.Second}).Command(context.Background(), address, "srvr")
	if got := Reason(err); got != ReasonRefused {
		t.Errorf("Reason(%v) = %q, want %q", err, got, ReasonRefused)
	}
}

func TestCommandHonoursCancellation(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	address := fakeMember(t, func(net.Conn) { <-release })
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		_, err := (&Client{}).Command(ctx, address, "srvr")
		errs <- err
	}()
	cancel()
	select {
	case err := <-errs:
		if !errors.Is(err, context.Canceled) && Reason(err) != ReasonTimeout {
			t.Errorf("err = %v, want a cancellation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Command() did not return after its context was cancelled")
	}
}

func TestCommandAnswer(t *testing.T) {
	address := fakeMember(t, func(conn net.Conn) { _, _ = io.WriteString(conn, "imok") })
	answer, err := (&Client{Timeout: time.Second}).Command(context.Background(), address, "ruok")
	if err != nil || string(answer) != "imok" {
		t.Fatalf("Command() = %q, %v; want imok", answer, err)
	}
}

// TestCommandFunc: the answer reaches use whole, use's error comes back as
// is, and a special answer never reaches use.
func TestCommandFunc(t *testing.T) {
	errUse := errors.New("use failed")
	cases := []struct {
		name, answer string
		useErr, want error
		used         bool
	}{
		{"answer", "imok", nil, nil, true},
		{"use error", "imok", errUse, errUse, true},
		{"not serving", notServingAnswer + "\n", nil, ErrNotServing, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			address := fakeMember(t, func(conn net.Conn) { _, _ = io.WriteString(conn, c.answer) })
			var got string
			err := (&Client{Timeout: 5 * time.Second}).CommandFunc(context.Background(), address, "ruok", func(answer []byte) error {
				got = string(answer)
				return c.useErr
			})
			if !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
			if used := got != ""; used != c.used || used && got != c.answer {
				t.Errorf("use got %q (used %v), want %q (used %v)", got, used, c.answer, c.used)
			}
		})
	}
}

// TestCommandResetsAfterAnswer: once the answer is read to the end, the
// client ends the connection with a reset, so a member that closed first
// (as ZooKeeper does) keeps no TIME_WAIT socket for the word. The member
// here half-closes after answering and sees how the client ends it.
func TestCommandResetsAfterAnswer(t *testing.T) {
	ended := make(chan error, 1)
	address := fakeMember(t, func(conn net.Conn) {
		_, _ = io.WriteString(conn, "imok")
		_ = conn.(*net.TCPConn).CloseWrite()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := conn.Read(make([]byte, 1))
		ended <- err
	})
	if _, err := (&Client{Timeout: 5 * time.Second}).Command(context.Background(), address, "ruok"); err != nil {
		t.Fatal(err)
	}
	if err := <-ended; !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the member saw the connection end with %v, want a reset (%v)", err, syscall.ECONNRESET)
	}
}

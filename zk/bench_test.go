package zk

import (
	"context"
	"net"
	"testing"
)

// The parser benchmarks run over answers captured from real ZooKeeper 3.8
// members (testdata/README.md); -benchmem shows what one answer costs the
// exporter per member and round.

func BenchmarkParseSrvr(b *testing.B) {
	for _, state := range []string{"leader", "follower", "read_only"} {
		b.Run(state, func(b *testing.B) {
			benchParse(b, capture(b, state, "srvr"), func(answer []byte) error {
				_, err := ParseSrvr(answer)
				return err
			})
		})
	}
}

func BenchmarkParseStat(b *testing.B) {
	benchParse(b, capture(b, "leader", "stat"), func(answer []byte) error {
		_, err := ParseSrvr(answer)
		return err
	})
}

func BenchmarkParseMntr(b *testing.B) {
	for _, state := range []string{"leader", "follower", "observer", "standalone"} {
		b.Run(state, func(b *testing.B) {
			benchParse(b, capture(b, state, "mntr"), func(answer []byte) error {
				_, err := ParseMntr(answer)
				return err
			})
		})
	}
}

func BenchmarkParseConf(b *testing.B) {
	for _, state := range []string{"leader", "observer", "standalone"} {
		b.Run(state, func(b *testing.B) {
			benchParse(b, capture(b, state, "conf"), func(answer []byte) error {
				_, err := ParseConf(answer)
				return err
			})
		})
	}
}

func BenchmarkParseAdminMonitor(b *testing.B) {
	for _, state := range []string{"leader", "follower"} {
		b.Run(state, func(b *testing.B) {
			benchParse(b, capture(b, state, "admin_monitor.json"), func(answer []byte) error {
				_, err := ParseAdminMonitor(answer)
				return err
			})
		})
	}
}

func BenchmarkParseRuok(b *testing.B) {
	benchParse(b, capture(b, "leader", "ruok"), func(answer []byte) error {
		_, err := ParseRuok(answer)
		return err
	})
}

func BenchmarkParseIsro(b *testing.B) {
	benchParse(b, capture(b, "leader", "isro"), func(answer []byte) error {
		_, err := ParseIsro(answer)
		return err
	})
}

// BenchmarkParseAdminLeader is the AdminServer's leader command, asked of a
// voter that says not serving (a leader with leaderServes=no).
func BenchmarkParseAdminLeader(b *testing.B) {
	benchParse(b, capture(b, "leader_serves_no", "admin_leader.json"), func(answer []byte) error {
		_, err := ParseAdminLeader(answer)
		return err
	})
}

// BenchmarkParseServerLine is one server.N line of conf or zoo.cfg, with a
// second address (3.6+ multi-address) and the client port.
func BenchmarkParseServerLine(b *testing.B) {
	const line = "127.0.0.1:2888:3888|127.0.0.2:2888:3888:participant;0.0.0.0:2181"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseServerLine(1, line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseNotServing is the answer of every member without quorum.
func BenchmarkParseNotServing(b *testing.B) {
	answer := capture(b, "not_serving", "mntr")
	b.SetBytes(int64(len(answer)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMntr(answer); err != ErrNotServing {
			b.Fatalf("ParseMntr = %v, want ErrNotServing", err)
		}
	}
}

func benchParse(b *testing.B, answer []byte, parse func([]byte) error) {
	b.Helper()
	if err := parse(answer); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(answer)))
	b.ReportAllocs()
	for b.Loop() {
		if err := parse(answer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommand is one word's round trip over loopback, connection set-up
// included, against a listener that answers like a real leader (its
// captured answer) and closes, as ZooKeeper does.
func BenchmarkCommand(b *testing.B) {
	for _, word := range []string{"srvr", "mntr"} {
		b.Run(word, func(b *testing.B) {
			answer := capture(b, "leader", word)
			address := fakeMember(b, func(conn net.Conn) { _, _ = conn.Write(answer) })
			client := &Client{}
			ctx := context.Background()
			b.SetBytes(int64(len(answer)))
			b.ReportAllocs()
			for b.Loop() {
				got, err := client.Command(ctx, address, word)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != len(answer) {
					b.Fatalf("answer of %d bytes, want %d", len(got), len(answer))
				}
			}
		})
	}
}

// BenchmarkProbeMntr is what a probe pays for a leader's mntr: the round
// trip and the parse, the answer read into a pooled buffer.
func BenchmarkProbeMntr(b *testing.B) {
	answer := capture(b, "leader", "mntr")
	address := fakeMember(b, func(conn net.Conn) { _, _ = conn.Write(answer) })
	client := &Client{}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var mntr *Mntr
		err := client.CommandFunc(ctx, address, "mntr", func(answer []byte) (err error) {
			mntr, err = ParseMntr(answer)
			return err
		})
		if err != nil || mntr.ServerState != ModeLeader {
			b.Fatalf("mntr %+v, error %v", mntr, err)
		}
	}
}

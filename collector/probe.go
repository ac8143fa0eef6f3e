package collector

import (
	"context"
	"errors"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Four-letter words the probe may send.
const (
	wordSrvr = "srvr"
	wordMntr = "mntr"
	wordConf = "conf"
	wordRuok = "ruok"
	wordIsro = "isro"
)

// MemberResult is what one probe learned about one member.
type MemberResult struct {
	Member *config.Member
	// Up: the process answered at all, "not serving" included.
	Up   bool
	Mode zk.Mode
	Srvr *zk.Srvr // nil unless srvr answered with data
	Mntr *zk.Mntr // nil unless mntr answered with data
	Conf *zk.Conf // nil unless conf answered with data
	// Allowed records, for each word tried, whether the member executes it.
	Allowed map[string]bool
	// LeaderNotServing is set when the AdminServer says a member that
	// answers "not serving" leads: a leader started with leaderServes=no.
	LeaderNotServing bool
	// Err is the first failure that left the member down or a word unused.
	Err      error
	Duration time.Duration
}

// Zxid returns the member's zxid and whether it is known (only srvr says).
func (r *MemberResult) Zxid() (zk.Zxid, bool) {
	if r.Srvr == nil {
		return 0, false
	}
	return r.Srvr.Zxid, true
}

// refused reports whether the member's whitelist refused word.
func (r *MemberResult) refused(word string) bool {
	allowed, tried := r.Allowed[word]
	return tried && !allowed
}

// wordClient sends one word to one member; zk.Client satisfies it, and the
// tests count calls through it.
type wordClient interface {
	Command(ctx context.Context, address, word string) ([]byte, error)
}

// adminCaller calls one AdminServer command; zk.AdminClient satisfies it.
type adminCaller interface {
	Command(ctx context.Context, base, command string) ([]byte, error)
}

// memberProber holds what probing one member needs.
type memberProber struct {
	words    wordClient
	admin    adminCaller // nil: no AdminServer fallback
	adminURL string
	onError  func(word string, err error)
}

// probe asks one member srvr, then mntr and conf, within ctx.
//
// srvr comes first because it is whitelisted by default and alone carries
// the zxid. A member that does not answer srvr at all (refused, timeout) is
// down: the other words would only spend the deadline on a dead member.
// ruok and isro are asked only when srvr is not whitelisted, to learn
// whether the process answers and whether it is read-only (ZooKeeper 3.5+
// always executes srvr, so this is for servers that do not). Where mntr is
// refused and the member has an AdminServer configured, its monitor command
// stands in.
func (p *memberProber) probe(ctx context.Context, member *config.Member) *MemberResult {
	start := time.Now()
	result := &MemberResult{Member: member, Mode: zk.ModeUnknown, Allowed: map[string]bool{}}
	defer func() { result.Duration = time.Since(start) }()

	fail := func(word string, err error) {
		if result.Err == nil {
			result.Err = err
		}
		p.onError(word, err)
	}
	ask := func(word string) ([]byte, bool) {
		answer, err := p.words.Command(ctx, member.Address, word)
		switch {
		case err == nil:
			result.Up = true
			result.Allowed[word] = true
			return answer, true
		case errors.Is(err, zk.ErrNotServing):
			result.Up = true
			result.Allowed[word] = true
			if result.Mode == zk.ModeUnknown {
				result.Mode = zk.ModeNotServing
			}
		case zk.IsNotWhitelisted(err):
			result.Up = true
			result.Allowed[word] = false
		default:
			fail(word, err)
		}
		return nil, false
	}

	if answer, ok := ask(wordSrvr); ok {
		srvr, err := zk.ParseSrvr(answer)
		if err != nil {
			// Not srvr's answer (garbage, HTTP, cut short): nothing to count
			// as an answering member.
			result.Up = false
			delete(result.Allowed, wordSrvr)
			fail(wordSrvr, err)
			return result
		}
		result.Srvr, result.Mode = srvr, srvr.Mode
	}
	if !result.Up {
		return result
	}
	if answer, ok := ask(wordMntr); ok {
		if mntr, err := zk.ParseMntr(answer); err != nil {
			fail(wordMntr, err)
		} else {
			result.Mntr = mntr
		}
	} else if result.refused(wordMntr) && p.admin != nil {
		if answer, ok := p.askAdmin(ctx, "monitor", fail); ok {
			if mntr, err := zk.ParseAdminMonitor(answer); err != nil {
				fail("admin monitor", err)
			} else {
				result.Mntr = mntr
			}
		}
	}
	if result.Mntr != nil && result.Srvr == nil && result.Mode == zk.ModeUnknown {
		result.Mode = result.Mntr.ServerState
	}
	if result.Mode == zk.ModeNotServing && p.admin != nil && member.Voter() {
		if answer, ok := p.askAdmin(ctx, "leader", fail); ok {
			result.LeaderNotServing, _ = zk.ParseAdminLeader(answer)
		}
	}
	if result.Mode.Serving() {
		if answer, ok := ask(wordConf); ok {
			if conf, err := zk.ParseConf(answer); err != nil {
				fail(wordConf, err)
			} else {
				result.Conf = conf
			}
		}
	}
	if result.Allowed[wordSrvr] {
		return result
	}
	// srvr is refused: ruok proves the process answers, isro says read-only.
	if answer, ok := ask(wordRuok); ok {
		if imok, _ := zk.ParseRuok(answer); !imok {
			fail(wordRuok, &zk.ParseError{Word: wordRuok, Msg: "not imok"})
		}
	}
	if result.Mode == zk.ModeUnknown {
		if answer, ok := ask(wordIsro); ok {
			if readOnly, err := zk.ParseIsro(answer); err == nil && readOnly {
				result.Mode = zk.ModeReadOnly
			}
		}
	}
	return result
}

// askAdmin calls an AdminServer command; "not serving" is an answer, not a
// failure.
func (p *memberProber) askAdmin(ctx context.Context, command string, fail func(string, error)) ([]byte, bool) {
	if p.adminURL == "" {
		return nil, false
	}
	answer, err := p.admin.Command(ctx, p.adminURL, command)
	if err != nil {
		if !errors.Is(err, zk.ErrNotServing) {
			fail("admin "+command, err)
		}
		return nil, false
	}
	return answer, true
}

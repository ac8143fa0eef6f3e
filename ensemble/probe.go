package ensemble

import (
	"context"
	"errors"
	"sync"
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

// WordClient sends one word to one member and hands the answer to use,
// valid only during the call (zk.Client reads it into a pooled buffer);
// tests count calls through it.
type WordClient interface {
	CommandFunc(ctx context.Context, address, word string, use func(answer []byte) error) error
}

// parsers turn each word's answer into what the probe keeps, while the
// answer's buffer is still valid.
var parsers = map[string]func([]byte) (any, error){
	wordSrvr: func(b []byte) (any, error) { return zk.ParseSrvr(b) },
	wordMntr: func(b []byte) (any, error) { return zk.ParseMntr(b) },
	wordConf: func(b []byte) (any, error) { return zk.ParseConf(b) },
	wordRuok: func(b []byte) (any, error) { return zk.ParseRuok(b) },
	wordIsro: func(b []byte) (any, error) { return zk.ParseIsro(b) },
}

// ask sends one word and parses its answer.
func ask(ctx context.Context, client WordClient, address, word string) answer {
	a := answer{word: word}
	a.err = client.CommandFunc(ctx, address, word, func(b []byte) error {
		a.value, a.parseErr = parsers[word](b)
		return nil
	})
	return a
}

// AdminCaller calls one AdminServer command; zk.AdminClient satisfies it.
type AdminCaller interface {
	Command(ctx context.Context, base, command string) ([]byte, error)
}

// memberProber holds what probing one member needs.
type memberProber struct {
	words    WordClient
	admin    AdminCaller // nil: no AdminServer fallback
	adminURL string
	onError  func(word string, err error)
}

// answer is one word's outcome: err when it got no answer, parseErr when
// the answer was not what ZooKeeper sends.
type answer struct {
	word     string
	value    any
	err      error
	parseErr error
}

// probe asks one member srvr and mntr at once, on two connections, within
// ctx: a member costs one round trip, not two.
//
// srvr is whitelisted by default and alone carries the zxid; mntr carries
// the quorum size and, on the leader, its own count of voters. Where mntr is
// refused and the member has an AdminServer, its monitor command stands in.
// ruok and isro are asked only when srvr is refused, to learn whether the
// process answers and whether it is read-only (ZooKeeper 3.5+ always
// executes srvr, so this is for servers that do not). conf is not asked
// here: the ensemble's membership changes rarely, and is refreshed on its
// own cycle (see confCache).
func (p *memberProber) probe(ctx context.Context, configured *config.Member) *ProbedMember {
	start := time.Now()
	m := &ProbedMember{Member: configured, ServerID: configured.ServerID, Mode: zk.ModeUnknown, Allowed: map[string]bool{}}
	defer func() { m.Duration = time.Since(start) }()

	answers := p.askAll(ctx, configured.Address, wordSrvr, wordMntr)
	srvr, mntr := answers[0], answers[1]
	if unreachable(srvr.err) && unreachable(mntr.err) {
		// One failure to reach the member, not one per word.
		p.fail(m, wordSrvr, srvr.err)
		return m
	}
	if srvr.err == nil && srvr.parseErr != nil {
		// Not srvr's answer (garbage, HTTP, cut short): nothing to count as
		// an answering member, whatever mntr said.
		p.fail(m, wordSrvr, srvr.parseErr)
		return m
	}
	if value, ok := p.take(m, srvr); ok {
		m.takeSrvr(value.(*zk.Srvr))
	}
	srvrAnswered := m.ZxidKnown
	if value, ok := p.take(m, mntr); ok {
		m.takeMntr(value.(*zk.Mntr), srvrAnswered)
	} else if m.refused(wordMntr) {
		p.adminMonitor(ctx, m, srvrAnswered)
	}
	if !m.Up {
		return m
	}
	if m.Mode == zk.ModeNotServing && configured.Voter() {
		if data, ok := p.askAdmin(ctx, m, "leader"); ok {
			m.LeaderNotServing, _ = zk.ParseAdminLeader(data)
		}
	}
	if m.refused(wordSrvr) {
		p.withoutSrvr(ctx, m)
	}
	return m
}

// askAll sends the words at once, each on its own connection; the first
// from the calling goroutine.
func (p *memberProber) askAll(ctx context.Context, address string, words ...string) []answer {
	answers := make([]answer, len(words))
	var wg sync.WaitGroup
	for i, word := range words[1:] {
		wg.Go(func() { answers[i+1] = ask(ctx, p.words, address, word) })
	}
	answers[0] = ask(ctx, p.words, address, words[0])
	wg.Wait()
	return answers
}

// unreachable: the word got no answer at all (not even ZooKeeper's "not
// serving" or "not whitelisted").
func unreachable(err error) bool {
	return err != nil && !errors.Is(err, zk.ErrNotServing) && !zk.IsNotWhitelisted(err)
}

// take records one word's outcome on m and returns its parsed answer when
// there is one. "Not serving" and "not whitelisted" are answers: the member
// is up.
func (p *memberProber) take(m *ProbedMember, a answer) (any, bool) {
	switch {
	case a.err == nil && a.parseErr != nil:
		m.Up = true
		m.Allowed[a.word] = true
		p.fail(m, a.word, a.parseErr)
	case a.err == nil:
		m.Up = true
		m.Allowed[a.word] = true
		return a.value, true
	case errors.Is(a.err, zk.ErrNotServing):
		m.Up = true
		m.Allowed[a.word] = true
		if m.Mode == zk.ModeUnknown {
			m.Mode = zk.ModeNotServing
		}
	case zk.IsNotWhitelisted(a.err):
		m.Up = true
		m.Allowed[a.word] = false
	default:
		p.fail(m, a.word, a.err)
	}
	return nil, false
}

// fail records a word that got no usable answer.
func (p *memberProber) fail(m *ProbedMember, word string, err error) {
	if m.Err == nil {
		m.Err, m.Reason = err, zk.Reason(err)
	}
	p.onError(word, err)
}

// adminMonitor asks the AdminServer's monitor command for what mntr says.
func (p *memberProber) adminMonitor(ctx context.Context, m *ProbedMember, srvrAnswered bool) {
	data, ok := p.askAdmin(ctx, m, "monitor")
	if !ok {
		return
	}
	parsed, err := zk.ParseAdminMonitor(data)
	if err != nil {
		p.fail(m, "admin monitor", err)
		return
	}
	m.takeMntr(parsed, srvrAnswered)
}

// withoutSrvr: srvr is refused, so ruok proves the process answers and isro
// says whether it is read-only.
func (p *memberProber) withoutSrvr(ctx context.Context, m *ProbedMember) {
	if value, ok := p.take(m, ask(ctx, p.words, m.Address, wordRuok)); ok && !value.(bool) {
		p.fail(m, wordRuok, &zk.ParseError{Word: wordRuok, Msg: "not imok"})
	}
	if m.Mode != zk.ModeUnknown {
		return
	}
	if value, ok := p.take(m, ask(ctx, p.words, m.Address, wordIsro)); ok && value.(bool) {
		m.Mode = zk.ModeReadOnly
	}
}

// askAdmin calls an AdminServer command; "not serving" is an answer, not a
// failure.
func (p *memberProber) askAdmin(ctx context.Context, m *ProbedMember, command string) ([]byte, bool) {
	if p.admin == nil || p.adminURL == "" {
		return nil, false
	}
	data, err := p.admin.Command(ctx, p.adminURL, command)
	if err != nil {
		if !errors.Is(err, zk.ErrNotServing) {
			p.fail(m, "admin "+command, err)
		}
		return nil, false
	}
	return data, true
}

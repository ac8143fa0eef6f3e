// Package standin is a stand-in for ZooKeeper ensembles in scale tests and
// benchmarks, never in correctness tests: a thousand real JVMs do not fit on
// a test machine. Each stand-in member is a loopback listener that answers
// the four-letter words srvr, stat, mntr, conf, ruok and isro with answers
// captured from real ZooKeeper 3.8 members (zk/testdata), edited so that the
// members of one stand-in ensemble agree: one leader, followers and
// observers, a conf listing their real stand-in addresses, and the leader's
// follower counts matching. A stand-in answers after a chosen delay, counts
// the words it receives, and stops by itself after a maximum duration.
package standin

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Role is a stand-in member's part in its ensemble.
type Role string

// Roles a stand-in member can play.
const (
	Leader   Role = "leader"
	Follower Role = "follower"
	Observer Role = "observer"
)

// Words are the words a stand-in answers; any other is counted as "other"
// and answered with nothing, as a real member closes on an unknown word.
var Words = []string{"srvr", "stat", "mntr", "conf", "ruok", "isro"}

// DefaultMaxDuration is how long stand-ins serve when Config says nothing:
// a forgotten process must not outlive a benchmark by much.
const DefaultMaxDuration = 10 * time.Minute

// Config says what to start.
type Config struct {
	// Ensembles is the number of stand-in ensembles (default 1).
	Ensembles int
	// Roles are the roles of each ensemble's members, in server id order
	// (default five voters, the first leading). Exactly one must lead.
	Roles []Role
	// Delay is how long a member waits between reading a word and
	// answering, the round trip of a distant member.
	Delay time.Duration
	// MaxDuration stops every member after this long (default
	// DefaultMaxDuration).
	MaxDuration time.Duration
	// Captures is the directory of captured answers; empty means this
	// source tree's zk/testdata.
	Captures string
}

// Member is one stand-in member.
type Member struct {
	Address  string
	ServerID int
	Role     Role

	listener net.Listener
	answers  map[string][]byte
	counts   []atomic.Int64 // one per Words entry, then "other"
	// srvrInFlight and srvrMaxInFlight count srvr words being answered at
	// once: more than one means two probes of one member overlapped.
	srvrInFlight, srvrMaxInFlight atomic.Int64
}

// Voter reports whether the member votes.
func (m *Member) Voter() bool { return m.Role != Observer }

// Stand is a running set of stand-in ensembles.
type Stand struct {
	ensembles [][]*Member
	delay     time.Duration
	stop      chan struct{}
	stopOnce  sync.Once
	timer     *time.Timer
	wg        sync.WaitGroup
}

// Start listens for every member on 127.0.0.1, port 0, and serves until
// Close or cfg.MaxDuration.
func Start(cfg Config) (*Stand, error) {
	cfg = withDefaults(cfg)
	if err := checkRoles(cfg.Roles); err != nil {
		return nil, err
	}
	captured, err := loadCaptures(cfg.Captures)
	if err != nil {
		return nil, err
	}
	s := &Stand{delay: cfg.Delay, stop: make(chan struct{})}
	for range cfg.Ensembles {
		members, err := listen(cfg.Roles)
		if err != nil {
			s.Close()
			return nil, err
		}
		answerAll(members, captured)
		s.ensembles = append(s.ensembles, members)
		for _, member := range members {
			s.wg.Add(1)
			go s.serve(member)
		}
	}
	s.timer = time.AfterFunc(cfg.MaxDuration, func() { s.Close() })
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Ensembles <= 0 {
		cfg.Ensembles = 1
	}
	if len(cfg.Roles) == 0 {
		cfg.Roles = []Role{Leader, Follower, Follower, Follower, Follower}
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = DefaultMaxDuration
	}
	return cfg
}

func checkRoles(roles []Role) error {
	leaders := 0
	for _, role := range roles {
		switch role {
		case Leader:
			leaders++
		case Follower, Observer:
		default:
			return fmt.Errorf("stand-in role %q is not leader, follower or observer", role)
		}
	}
	if leaders != 1 {
		return fmt.Errorf("a stand-in ensemble needs exactly one leader, got %d", leaders)
	}
	return nil
}

// listen opens one loopback listener per member of an ensemble.
func listen(roles []Role) ([]*Member, error) {
	members := make([]*Member, 0, len(roles))
	for i, role := range roles {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, member := range members {
				member.listener.Close()
			}
			return nil, fmt.Errorf("stand-in member %d: %w", i+1, err)
		}
		members = append(members, &Member{
			Address:  listener.Addr().String(),
			ServerID: i + 1,
			Role:     role,
			listener: listener,
			counts:   make([]atomic.Int64, len(Words)+1),
		})
	}
	return members, nil
}

// Ensembles returns the members of every ensemble, in server id order.
func (s *Stand) Ensembles() [][]*Member { return s.ensembles }

// Addresses returns every member's address, ensemble after ensemble.
func (s *Stand) Addresses() []string {
	var addresses []string
	for _, members := range s.ensembles {
		for _, member := range members {
			addresses = append(addresses, member.Address)
		}
	}
	return addresses
}

// WordCounts returns, per member address, how many times each word was
// received so far ("other" for words no stand-in answers).
func (s *Stand) WordCounts() map[string]map[string]int64 {
	counts := map[string]map[string]int64{}
	for _, members := range s.ensembles {
		for _, member := range members {
			perWord := map[string]int64{}
			for i := range member.counts {
				if n := member.counts[i].Load(); n > 0 {
					perWord[wordName(i)] = n
				}
			}
			counts[member.Address] = perWord
		}
	}
	return counts
}

func wordName(i int) string {
	if i < len(Words) {
		return Words[i]
	}
	return "other"
}

// MaxSrvrInFlight returns, by member address, the most srvr words a member
// was answering at once.
func (s *Stand) MaxSrvrInFlight() map[string]int64 {
	out := map[string]int64{}
	for _, members := range s.ensembles {
		for _, m := range members {
			out[m.Address] = m.srvrMaxInFlight.Load()
		}
	}
	return out
}

// Done is closed once the stand-ins stopped (Close or MaxDuration).
func (s *Stand) Done() <-chan struct{} { return s.stop }

// Close stops every member and waits for their connections to end.
func (s *Stand) Close() error {
	s.stopOnce.Do(func() {
		close(s.stop)
		if s.timer != nil {
			s.timer.Stop()
		}
		for _, members := range s.ensembles {
			for _, member := range members {
				member.listener.Close()
			}
		}
	})
	s.wg.Wait()
	return nil
}

// serve accepts connections until the listener closes.
func (s *Stand) serve(member *Member) {
	defer s.wg.Done()
	for {
		conn, err := member.listener.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				select {
				case <-s.stop:
				default:
					time.Sleep(10 * time.Millisecond) // out of descriptors: let some close
					continue
				}
			}
			return
		}
		s.wg.Add(1)
		go s.answer(member, conn)
	}
}

// answer reads one word, waits the delay and answers it, as ZooKeeper
// answers one word per connection and closes.
func (s *Stand) answer(member *Member, conn net.Conn) {
	defer s.wg.Done()
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(s.delay + 10*time.Second))
	word := make([]byte, 4)
	if _, err := io.ReadFull(conn, word); err != nil {
		return
	}
	index := len(Words)
	for i, known := range Words {
		if string(word) == known {
			index = i
		}
	}
	member.counts[index].Add(1)
	if string(word) == "srvr" {
		now := member.srvrInFlight.Add(1)
		defer member.srvrInFlight.Add(-1)
		for seen := member.srvrMaxInFlight.Load(); now > seen && !member.srvrMaxInFlight.CompareAndSwap(seen, now); seen = member.srvrMaxInFlight.Load() {
		}
	}
	if s.delay > 0 {
		timer := time.NewTimer(s.delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-s.stop:
			return
		}
	}
	if answer, ok := member.answers[string(word)]; ok {
		_, _ = conn.Write(answer)
	}
}

package zk

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mntr is the answer to mntr: every key, numbers typed.
type Mntr struct {
	Version     string // release only, "3.8.0"
	ServerState Mode
	Numbers     map[string]float64
	Strings     map[string]string
}

// Number returns a numeric key; ok is false when the member did not send it
// (leader-only keys are absent on followers).
func (m *Mntr) Number(key string) (value float64, ok bool) {
	value, ok = m.Numbers[key]
	return value, ok
}

// LeaderVoters is the number of voters in the leader's quorum, the leader
// included: zk_synced_followers counts non-voting followers too. It returns
// false unless this is a leader's answer with counts that are counts: a
// NaN, a fraction or more non-voting followers than followers says nothing
// about the quorum.
func (m *Mntr) LeaderVoters() (int, bool) {
	synced, ok := m.Number("zk_synced_followers")
	if !ok || m.ServerState != ModeLeader || !isCount(synced) {
		return 0, false
	}
	nonVoting, ok := m.Number("zk_synced_non_voting_followers")
	if !ok {
		nonVoting = 0
	}
	if !isCount(nonVoting) || nonVoting > synced {
		return 0, false
	}
	return int(synced-nonVoting) + 1, true
}

// maxCount bounds the member counts believed from an answer: far above any
// ensemble, far below where a float stops holding whole numbers.
const maxCount = 1 << 20

// isCount reports whether v is a whole number from 0 to maxCount.
func isCount(v float64) bool { return v >= 0 && v <= maxCount && v == math.Trunc(v) }

// ParseMntr parses "key<TAB>value" lines.
func ParseMntr(answer []byte) (*Mntr, error) {
	if err := Special("mntr", answer); err != nil {
		return nil, err
	}
	mntr := &Mntr{Numbers: map[string]float64{}, Strings: map[string]string{}}
	scanner := bufio.NewScanner(bytes.NewReader(answer))
	scanner.Buffer(make([]byte, 0, 4096), DefaultMaxAnswerBytes)
	line := 0
	for scanner.Scan() {
		line++
		text := strings.TrimRight(scanner.Text(), "\r")
		if text == "" {
			continue
		}
		key, value, ok := strings.Cut(text, "\t")
		if !ok || !strings.HasPrefix(key, "zk_") {
			return nil, &ParseError{Word: "mntr", Msg: fmt.Sprintf("line %d is not a zk_ key and a tab-separated value", line)}
		}
		value = strings.TrimSpace(value)
		switch key {
		case "zk_version":
			if !utf8.ValidString(value) { // it becomes a label value
				return nil, &ParseError{Word: "mntr", Msg: fmt.Sprintf("line %d: zk_version is not UTF-8", line)}
			}
			mntr.Version = ReleaseVersion(value)
			mntr.Strings[key] = value
			continue
		case "zk_server_state":
			mntr.ServerState = ParseMode(value)
			mntr.Strings[key] = value
			continue
		}
		if number, err := strconv.ParseFloat(value, 64); err == nil {
			mntr.Numbers[key] = number
		} else {
			mntr.Strings[key] = value
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, &ParseError{Word: "mntr", Msg: err.Error()}
	}
	if mntr.Version == "" || mntr.ServerState == "" {
		return nil, &ParseError{Word: "mntr", Msg: "no zk_version or zk_server_state"}
	}
	return mntr, nil
}

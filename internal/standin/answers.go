package standin

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// captures holds the captured answers of each role, by word.
type captures map[Role]map[string][]byte

// capturedStates maps a role to the zk/testdata directory captured from a
// member in that role (a 3-voter + 1-observer ensemble, all serving).
var capturedStates = map[Role]string{Leader: "leader", Follower: "follower", Observer: "observer"}

func loadCaptures(dir string) (captures, error) {
	if dir == "" {
		_, source, _, ok := runtime.Caller(0)
		if !ok {
			return nil, fmt.Errorf("stand-in: cannot locate the captured answers; set Config.Captures")
		}
		dir = filepath.Join(filepath.Dir(source), "..", "..", "zk", "testdata")
	}
	loaded := captures{}
	for role, state := range capturedStates {
		loaded[role] = map[string][]byte{}
		for _, word := range Words {
			answer, err := os.ReadFile(filepath.Join(dir, state, word))
			if err != nil {
				return nil, fmt.Errorf("stand-in: captured answer: %w", err)
			}
			loaded[role][word] = answer
		}
	}
	return loaded, nil
}

// answerAll gives each member of one ensemble its answers, edited so that
// the ensemble is coherent: every member's zk_quorum_size is the number of
// voters, the leader counts every other voter as a synced follower and
// every observer as a synced observer, and conf lists the stand-ins.
func answerAll(members []*Member, captured captures) {
	voters, observers := 0, 0
	for _, member := range members {
		if member.Voter() {
			voters++
		} else {
			observers++
		}
	}
	membership := membershipLines(members)
	for _, member := range members {
		answers := map[string][]byte{}
		for word, answer := range captured[member.Role] {
			answers[word] = answer
		}
		mntr := map[string]string{"zk_quorum_size": strconv.Itoa(voters)}
		if member.Role == Leader {
			mntr["zk_synced_followers"] = strconv.Itoa(voters - 1)
			mntr["zk_synced_non_voting_followers"] = "0"
			mntr["zk_synced_observers"] = strconv.Itoa(observers)
			mntr["zk_learners"] = strconv.Itoa(voters - 1 + observers)
			mntr["zk_pending_syncs"] = "0"
		}
		answers["mntr"] = editMntr(answers["mntr"], mntr)
		answers["conf"] = editConf(answers["conf"], member, membership)
		member.answers = answers
	}
}

// editMntr replaces the values of the given keys.
func editMntr(answer []byte, values map[string]string) []byte {
	lines := strings.SplitAfter(string(answer), "\n")
	for i, line := range lines {
		key, _, ok := strings.Cut(line, "\t")
		if value, edit := values[key]; ok && edit {
			lines[i] = key + "\t" + value + "\n"
		}
	}
	return []byte(strings.Join(lines, ""))
}

// The stand-ins' quorum and election ports are never dialled: any valid
// port does.
const (
	quorumPort   = 2888
	electionPort = 3888
)

func membershipLines(members []*Member) string {
	var lines strings.Builder
	for _, member := range members {
		role := "participant"
		if !member.Voter() {
			role = "observer"
		}
		host, _, _ := net.SplitHostPort(member.Address)
		fmt.Fprintf(&lines, "server.%d=%s:%d:%d:%s;%s\n", member.ServerID, host, quorumPort, electionPort, role, member.Address)
	}
	return lines.String()
}

// editConf keeps the captured settings, makes the member-specific ones this
// member's, and replaces the membership with the stand-in ensemble's.
func editConf(answer []byte, member *Member, membership string) []byte {
	_, port, _ := net.SplitHostPort(member.Address)
	peerType := "0"
	if !member.Voter() {
		peerType = "1"
	}
	settings := map[string]string{
		"clientPort": port, "serverId": strconv.Itoa(member.ServerID), "peerType": peerType,
		"quorumPort": strconv.Itoa(quorumPort), "electionPort": strconv.Itoa(electionPort),
	}
	var conf strings.Builder
	for _, line := range strings.Split(string(answer), "\n") {
		if strings.HasPrefix(line, "membership:") {
			break
		}
		key, _, _ := strings.Cut(line, "=")
		if value, ok := settings[key]; ok {
			line = key + "=" + value
		}
		conf.WriteString(line + "\n")
	}
	// As a real member: "membership: " with its trailing space, the
	// servers, and version= without a trailing newline.
	conf.WriteString("membership: \n" + membership + "version=0")
	return []byte(conf.String())
}

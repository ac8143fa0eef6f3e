package status

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/quorumwatch/zookeeper_exporter/quorum"
)

// ANSI colours, used only on a terminal.
const (
	red    = "\033[31m"
	green  = "\033[32m"
	yellow = "\033[33m"
	cyan   = "\033[36m"
	bold   = "\033[1m"
	reset  = "\033[0m"
)

// cell is a table cell: its text and, on a terminal, its colour.
type cell struct{ text, color string }

// healthColor: green when healthy, yellow when degraded, red otherwise.
func healthColor(h quorum.Health) string {
	switch h {
	case quorum.HealthHealthy:
		return green
	case quorum.HealthDegraded:
		return yellow
	}
	return red
}

// Summary is the ensemble's one-line summary.
func (e Ensemble) Summary() string {
	if e.Error != "" {
		return fmt.Sprintf("%s: probe failed: %s", e.Name, e.Error)
	}
	leader := e.Leader
	if leader == "" {
		leader = "none"
	}
	partial := ""
	if e.Partial {
		partial = " (some members had not answered by the deadline)"
	}
	return fmt.Sprintf("%s: %s, voters %d (in quorum %d, from the %s), observers %d, quorum size %d, margin %d of %d, leader %s%s",
		e.Name, strings.ToUpper(string(e.Health)), e.Voters, e.VotersInQuorum, e.VoterSetSource, e.Observers, e.QuorumSize, e.Margin, e.FaultTolerance, leader, partial)
}

// details are the lines under an ensemble's table: datacenters, advice,
// outages.
func (e Ensemble) details() []string {
	var lines []string
	if len(e.Datacenters) > 0 {
		var parts []string
		for _, dc := range e.Datacenters {
			name := dc.Name
			if name == "" {
				name = `""`
			}
			verdict := "survives"
			if dc.LossMargin < 0 {
				verdict = "loses quorum"
			}
			parts = append(parts, fmt.Sprintf("%s %d (%s)", name, dc.LossMargin, verdict))
		}
		lines = append(lines, "if a datacenter is lost: "+strings.Join(parts, ", "))
	}
	for _, advice := range e.Advice {
		lines = append(lines, "advice: "+advice)
	}
	if e.Discovery == "configuration" {
		lines = append(lines, "members: the configured ones only, no membership known (conf refused, not answered, or ZooKeeper 3.4)")
	}
	for _, member := range e.Disagreeing {
		lines = append(lines, "left out, of another ensemble: "+member)
	}
	if e.UnavailableSince != nil {
		lines = append(lines, "no quorum since "+e.UnavailableSince.Format("15:04:05"))
	}
	if e.LastUnavailabilitySeconds != nil {
		lines = append(lines, fmt.Sprintf("last unavailability: %.1fs", *e.LastUnavailabilitySeconds))
	}
	if e.LastElectionSeconds != nil {
		lines = append(lines, fmt.Sprintf("leader changes: %d, the last after %.1fs without a leader", e.LeaderChanges, *e.LastElectionSeconds))
	}
	return lines
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// latencyText is "avg/max ms".
func (m Member) latencyText() string {
	if m.LatencyAvgMs == nil || m.LatencyMaxMs == nil {
		return "-"
	}
	return strconv.FormatFloat(*m.LatencyAvgMs, 'f', -1, 64) + "/" + strconv.FormatFloat(*m.LatencyMaxMs, 'f', -1, 64) + " ms"
}

// ModeText is the mode, and for a member that is down, why: "down:
// connection_refused".
func (m Member) ModeText() string {
	if !m.Up && m.DownReason != "" {
		return "down: " + m.DownReason
	}
	return m.Mode
}

// safeText says yes or no and what stopping costs.
func (m Member) safeText() string {
	if m.SafeToStop {
		return "yes (" + strings.ReplaceAll(m.StopImpact, "_", " ") + ")"
	}
	return "no"
}

var tableHeader = []string{"MEMBER", "ROLE", "DC", "MODE", "ZXID", "LATENCY avg/max", "SERVING", "CAUGHT UP", "SAFE TO STOP"}

// Name is the member's address with its server id, whether it was
// discovered, and its other names.
func (m Member) Name() string {
	var notes []string
	if m.ServerID != "" {
		notes = append(notes, m.ServerID)
	}
	if m.Discovered {
		notes = append(notes, "discovered")
	}
	if len(m.Aliases) > 0 {
		notes = append(notes, "also "+strings.Join(m.Aliases, ", "))
	}
	if len(notes) == 0 {
		return m.Member
	}
	return m.Member + " (" + strings.Join(notes, ", ") + ")"
}

func (m Member) cells() []cell {
	mode := cell{text: m.ModeText()}
	switch {
	case m.Mode == "leader":
		mode.color = cyan
	case !m.Serving:
		mode.color = red
	}
	serving := cell{yesNo(m.Serving), green}
	if !m.Serving {
		serving.color = red
	}
	caughtUp := cell{yesNo(m.CaughtUp), green}
	if !m.CaughtUp {
		caughtUp.color = red
	}
	safe := cell{m.safeText(), green}
	if !m.SafeToStop {
		safe.color = red
	}
	return []cell{{text: m.Name()}, {text: m.Role}, {text: orDash(m.Datacenter)}, mode, {text: orDash(m.Zxid)}, {text: m.latencyText()}, serving, caughtUp, safe}
}

// WriteTable writes one table per ensemble, with colour when color is set.
func WriteTable(w io.Writer, report Report, color bool) error {
	paint := func(c cell) string {
		if !color || c.color == "" {
			return c.text
		}
		return c.color + c.text + reset
	}
	var b strings.Builder
	for i, e := range report.Ensembles {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(paint(cell{e.Summary(), bold + healthColor(e.Health)}) + "\n")
		if e.Error != "" {
			continue
		}
		rows := [][]cell{}
		header := []cell{}
		for _, title := range tableHeader {
			header = append(header, cell{text: title})
		}
		rows = append(rows, header)
		for _, m := range e.Members {
			rows = append(rows, m.cells())
		}
		// Pad by the text's width, not its bytes: colour codes take none.
		widths := make([]int, len(tableHeader))
		for _, row := range rows {
			for j, c := range row {
				widths[j] = max(widths[j], utf8.RuneCountInString(c.text))
			}
		}
		for _, row := range rows {
			for j, c := range row {
				text := paint(c)
				if j < len(row)-1 {
					text += strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c.text)+2)
				}
				b.WriteString(text)
			}
			b.WriteString("\n")
		}
		for _, m := range e.Members {
			if !m.SafeToStop && m.Reason != "" {
				b.WriteString("  " + m.Member + ": " + m.Reason + "\n")
			}
		}
		for _, line := range e.details() {
			b.WriteString(line + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WritePlain writes logfmt lines, one per ensemble and one per member, for
// grep and awk.
func WritePlain(w io.Writer, report Report) error {
	var b strings.Builder
	pair := func(key, value string) string {
		if value == "" || strings.ContainsAny(value, " \"=") {
			value = strconv.Quote(value)
		}
		return key + "=" + value
	}
	for _, e := range report.Ensembles {
		fields := []string{pair("ensemble", e.Name), pair("health", string(e.Health))}
		if e.Error != "" {
			fields = append(fields, pair("error", e.Error))
		} else {
			fields = append(fields, pair("voters", strconv.Itoa(e.Voters)), pair("voters_in_quorum", strconv.Itoa(e.VotersInQuorum)),
				pair("quorum_size", strconv.Itoa(e.QuorumSize)), pair("margin", strconv.Itoa(e.Margin)),
				pair("fault_tolerance", strconv.Itoa(e.FaultTolerance)), pair("leader", e.Leader))
			for _, dc := range e.Datacenters {
				fields = append(fields, pair("datacenter_loss_margin."+orDash(dc.Name), strconv.Itoa(dc.LossMargin)))
			}
		}
		b.WriteString(strings.Join(fields, " ") + "\n")
		for _, m := range e.Members {
			discovered := ""
			if m.Discovered { // only then, so that configured members' lines stay as they were
				discovered = " " + pair("discovered", "yes")
			}
			b.WriteString(strings.Join([]string{
				pair("ensemble", e.Name), pair("member", m.Member), pair("server_id", m.ServerID), pair("role", m.Role),
				pair("datacenter", m.Datacenter), pair("mode", m.Mode), pair("up", yesNo(m.Up)), pair("down_reason", m.DownReason), pair("zxid", m.Zxid), pair("latency", m.latencyText()),
				pair("serving", yesNo(m.Serving)), pair("caught_up", yesNo(m.CaughtUp)), pair("safe_to_stop", yesNo(m.SafeToStop)), pair("impact", m.StopImpact), pair("reason", m.Reason),
			}, " ") + discovered + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, report Report) error {
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	return encoder.Encode(report)
}

package collector

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// textSink keeps each family's sample lines, in the text exposition format,
// until every round is written: a family's lines must stand together.
type textSink struct {
	// families holds the lines of specs[i] at i, member info's last.
	families [][]byte
	// members and ensembles size each family's buffer at its first line,
	// so that a scrape of a thousand members does not grow 4 MB of lines
	// by doubling, leaving three times that in garbage.
	members, ensembles int
}

// seriesPer is how many series a family has per member (or per ensemble,
// for ensemble families): one, or one per state of a state set.
func seriesPer(s *Spec) int {
	switch s {
	case modeSpec:
		return len(zk.Modes)
	case stopImpactSpec:
		return len(quorum.Impacts)
	case sizingSpec:
		return len(quorum.Advices)
	case voterSourceSpec:
		return len(ensemble.Sources)
	case commandSpec, dcLossSpec:
		return 3
	}
	return 1
}

// buffer returns the family's buffer, sized at its first line.
func (t *textSink) buffer(s *Spec, lineLength int) []byte {
	lines := t.families[s.index]
	if len(lines) > 0 {
		return lines
	}
	owners := t.ensembles
	if len(s.Labels) >= len(memberLabels) && s.Labels[1] == memberLabels[1] {
		owners = t.members
	}
	return make([]byte, 0, owners*seriesPer(s)*(lineLength+lineLength/8))
}

func (t *textSink) sample(s *Spec, value float64, labels []string) {
	length := len(s.Name) + 24
	for i, label := range labels {
		length += len(s.Labels[i]) + len(label) + 4
	}
	line := t.buffer(s, length)
	line = append(line, s.Name...)
	if len(labels) > 0 {
		line = append(line, '{')
		for i, value := range labels {
			if i > 0 {
				line = append(line, ',')
			}
			line = append(line, s.Labels[i]...)
			line = append(line, '=', '"')
			line = appendEscaped(line, value)
			line = append(line, '"')
		}
		line = append(line, '}')
	}
	line = append(line, ' ')
	line = appendValue(line, value)
	t.families[s.index] = append(line, '\n')
}

// labelEscaper escapes a label value as the text format wants it.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// helpEscaper escapes HELP text.
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func appendEscaped(b []byte, value string) []byte {
	// A byte loop, not strings.ContainsAny: half the exposition's time went
	// to it, for label values that almost never need escaping.
	for i := 0; i < len(value); i++ {
		if c := value[i]; c == '\\' || c == '"' || c == '\n' {
			return append(b, labelEscaper.Replace(value)...)
		}
	}
	return append(b, value...)
}

func appendValue(b []byte, value float64) []byte {
	switch {
	case math.IsInf(value, 1):
		return append(b, "+Inf"...)
	case math.IsInf(value, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(value):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, value, 'g', -1, 64)
}

// WriteText writes the rounds in the Prometheus text exposition format
// (version 0.0.4), family by family, in the order of docs/metrics.md.
// infoLabels are the configuration's extra member labels.
func WriteText(out io.Writer, rounds []*ensemble.Round, infoLabels []string) error {
	// Not pooled between scrapes: that held 10 MiB more at 1,000 members for
	// no CPU saved (measured with make bench-scale).
	sink := &textSink{families: make([][]byte, len(specs)+1), ensembles: len(rounds)}
	for _, round := range rounds {
		sink.members += len(round.Members)
	}
	w := newWriter(sink, infoLabels)
	for _, round := range rounds {
		w.round(round)
	}
	buffered := bufio.NewWriterSize(out, 64<<10)
	for _, s := range append(append([]*Spec{}, specs...), w.info) {
		lines := sink.families[s.index]
		if len(lines) == 0 {
			continue
		}
		kind := "gauge"
		if s.Type == prometheus.CounterValue {
			kind = "counter"
		}
		buffered.WriteString("# HELP " + s.Name + " " + helpEscaper.Replace(s.Help) + "\n# TYPE " + s.Name + " " + kind + "\n")
		buffered.Write(lines)
	}
	return buffered.Flush()
}

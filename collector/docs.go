package collector

import (
	"fmt"
	"io"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// WriteMetricsDoc writes docs/metrics.md: every metric's name, type,
// labels and help, from the same specs the descriptors are built from,
// then own: the exporter's own families (its counters, build info, the Go
// and process collectors), which the main package registers.
func WriteMetricsDoc(w io.Writer, own []Spec) error {
	var b strings.Builder
	b.WriteString("# Metrics\n\n")
	b.WriteString("Generated from the exporter's metric descriptors (`go test . -run TestMetricsDoc -update`); a test fails when it is stale.\n")
	b.WriteString("Every member metric has the labels `ensemble`, `member` (host:port as configured, or as the ensemble's membership gives it for a discovered member), `role` (configured `voter`/`observer`, or the membership's) and `server_id` (configured or learned; \"\" until known).\n\n")
	table(&b, Specs())
	b.WriteString("\n## The exporter's own metrics\n\nOn `/metrics` only, not on `/probe`.\n\n")
	table(&b, own)
	_, err := io.WriteString(w, b.String())
	return err
}

func table(b *strings.Builder, specs []Spec) {
	b.WriteString("| metric | type | labels | meaning |\n|---|---|---|---|\n")
	for _, s := range specs {
		labels := ""
		if len(s.Labels) > 0 {
			labels = "`" + strings.Join(s.Labels, "`, `") + "`"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", s.Name, typeName(s.Type), labels, strings.ReplaceAll(s.Help, "|", "\\|"))
	}
}

func typeName(t prometheus.ValueType) string {
	switch t {
	case prometheus.CounterValue:
		return "counter"
	case prometheus.UntypedValue:
		return "summary"
	}
	return "gauge"
}

package collector

import (
	"fmt"
	"io"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// WriteMetricsDoc writes docs/metrics.md: every metric's name, type,
// labels and help, from the same specs the descriptors are built from.
func WriteMetricsDoc(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Metrics\n\n")
	b.WriteString("Generated from the exporter's metric descriptors (`go test ./collector -run TestMetricsDoc -update`); a test fails when it is stale.\n")
	b.WriteString("Every member metric has the labels `ensemble`, `member` (host:port as configured), `role` (configured `voter`/`observer`) and `server_id` (configured or learned; \"\" until known).\n\n")
	b.WriteString("| metric | type | labels | meaning |\n|---|---|---|---|\n")
	for _, s := range Specs() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.Name, typeName(s.Type), "`"+strings.Join(s.Labels, "`, `")+"`", strings.ReplaceAll(s.Help, "|", "\\|"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func typeName(t prometheus.ValueType) string {
	if t == prometheus.CounterValue {
		return "counter"
	}
	return "gauge"
}

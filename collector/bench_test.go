package collector

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/internal/standin"
)

// standinConfig starts ensembles of five stand-in members on loopback and
// returns a configuration naming them.
func standinConfig(b *testing.B, ensembles int) *config.Config {
	b.Helper()
	stand, err := standin.Start(standin.Config{Ensembles: ensembles, MaxDuration: 10 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stand.Close() })
	var text strings.Builder
	text.WriteString("timeout: 5s\nensembles:\n")
	for i, members := range stand.Ensembles() {
		fmt.Fprintf(&text, "  - name: e%d\n    members:\n", i)
		for _, m := range members {
			fmt.Fprintf(&text, "      - {address: %q}\n", m.Address)
		}
	}
	cfg, err := config.Parse("bench.yml", []byte(text.String()))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// benchmarkCollect measures one scrape of every ensemble as the exporter
// serves it: a probe round of every member (two words each) and the text
// exposition.
func benchmarkCollect(b *testing.B, ensembles int) {
	cfg := standinConfig(b, ensembles)
	registry, err := ensemble.New(cfg, promslog.NewNopLogger(), ensemble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, len(cfg.Ensembles))
	for i, e := range cfg.Ensembles {
		names[i] = e.Name
	}
	scrape := func() {
		if err := WriteText(io.Discard, Rounds(context.Background(), registry, names), nil); err != nil {
			b.Fatal(err)
		}
	}
	scrape() // the first round also reads every ensemble's membership
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		scrape()
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/float64(5*ensembles)*1e6, "µs/member")
}

func BenchmarkCollect5Members(b *testing.B)    { benchmarkCollect(b, 1) }
func BenchmarkCollect1000Members(b *testing.B) { benchmarkCollect(b, 200) }

package chaos

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// view is what one scrape of the exporter says of one ensemble.
type view struct {
	At      time.Time
	Margin  int
	Margins bool // the margin series was there
	// SafeToStop lists the member addresses with member_safe_to_stop 1.
	SafeToStop []string
	// Leaders maps a member address saying leader to its zxid epoch.
	Leaders map[string]int64
	// Rounds and Shared are the exporter's probe round counters.
	Rounds, Shared float64
	// Unknown is voters_unknown: the voters whose state the margin had to
	// guess.
	Unknown int
}

func (v view) String() string {
	if !v.Margins {
		return "no quorum_margin series"
	}
	return fmt.Sprintf("margin %d, leaders %v, safe to stop %v", v.Margin, v.Leaders, v.SafeToStop)
}

// scrape GETs the exporter's metrics as Prometheus would, with a scrape
// timeout header, and returns each ensemble's view.
func scrape(client *http.Client, url string, timeout time.Duration, ensembles ...string) (map[string]view, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping the exporter: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping the exporter: %s %v", resp.Status, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return nil, fmt.Errorf("parsing the exporter's metrics: %w", err)
	}
	out := map[string]view{}
	for _, name := range ensembles {
		out[name] = readView(families, name)
	}
	return out, nil
}

func readView(families map[string]*dto.MetricFamily, ensemble string) view {
	v := view{At: time.Now(), Leaders: map[string]int64{}}
	each := func(family string, f func(labels map[string]string, value float64)) {
		for _, m := range families[family].GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["ensemble"] != ensemble {
				continue
			}
			value := m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
			f(labels, value)
		}
	}
	each("zookeeper_ensemble_quorum_margin", func(_ map[string]string, value float64) {
		v.Margin, v.Margins = int(value), true
	})
	each("zookeeper_ensemble_voters_unknown", func(_ map[string]string, value float64) { v.Unknown = int(value) })
	each("zookeeper_member_safe_to_stop", func(labels map[string]string, value float64) {
		if value == 1 {
			v.SafeToStop = append(v.SafeToStop, labels["member"])
		}
	})
	epochs := map[string]int64{}
	each("zookeeper_zxid_epoch", func(labels map[string]string, value float64) { epochs[labels["member"]] = int64(value) })
	each("zookeeper_server_mode", func(labels map[string]string, value float64) {
		if labels["mode"] == "leader" && value == 1 {
			epoch, ok := epochs[labels["member"]]
			if !ok {
				epoch = -1
			}
			v.Leaders[labels["member"]] = epoch
		}
	})
	each("zookeeper_exporter_probe_rounds_total", func(_ map[string]string, value float64) { v.Rounds = value })
	each("zookeeper_exporter_probe_rounds_shared_total", func(_ map[string]string, value float64) { v.Shared = value })
	slices.Sort(v.SafeToStop)
	return v
}

// sameEpochLeaders returns the leaders that share an epoch with another.
func (v view) sameEpochLeaders() []string {
	by := map[int64][]string{}
	for member, epoch := range v.Leaders {
		if epoch >= 0 {
			by[epoch] = append(by[epoch], member)
		}
	}
	var out []string
	for _, members := range by {
		if len(members) > 1 {
			out = append(out, members...)
		}
	}
	slices.Sort(out)
	return out
}

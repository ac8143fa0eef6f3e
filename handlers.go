package main

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/quorumwatch/zookeeper_exporter/collector"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/maintenance"
	"github.com/quorumwatch/zookeeper_exporter/status"
)

// handlers serve the scrape endpoints.
type handlers struct {
	logger   *slog.Logger
	registry *ensemble.Registry
	own      ownMetrics
	options  serverOptions
	limit    *scrapeLimit
}

// scrapeLimit bounds the scrapes in flight (--web.max-requests) and counts
// those it refuses.
type scrapeLimit struct {
	slots   chan struct{} // one per scrape in flight; nil: no bound
	refused prometheus.Counter
}

func newScrapeLimit(maxRequests int) *scrapeLimit {
	l := &scrapeLimit{refused: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "zookeeper_exporter_scrapes_refused_total",
		Help: "Scrapes of /metrics or /probe answered 503 because --web.max-requests were in flight.",
	})}
	if maxRequests > 0 {
		l.slots = make(chan struct{}, maxRequests)
	}
	return l
}

// admit takes a slot, or reports false and counts a refusal; done gives the
// slot back.
func (l *scrapeLimit) admit() bool {
	if l.slots == nil {
		return true
	}
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		l.refused.Inc()
		return false
	}
}

func (l *scrapeLimit) done() {
	if l.slots != nil {
		<-l.slots
	}
}

// routes builds the exporter's HTTP routes.
// ownMetrics are the exporter's own metrics, served after the ensembles' on
// /metrics: the process's (version, Go runtime, process), which a scrape's
// probes do not change, and the engine's counters, which they do.
type ownMetrics struct {
	process, engine prometheus.Gatherer
}

func routes(logger *slog.Logger, opts serverOptions, registry *ensemble.Registry, own ownMetrics, reloader *reloader, limit *scrapeLimit) *http.ServeMux {
	h := &handlers{logger: logger, registry: registry, own: own, options: opts, limit: limit}
	mux := http.NewServeMux()
	mux.HandleFunc(opts.metricsPath, h.metrics)
	mux.HandleFunc("/probe", h.probe)
	mux.Handle("/status", status.Handler(registry, opts.maxScrapeTimeout))
	mux.Handle(maintenance.GatePrefix, maintenance.Gate(registry, opts.maxScrapeTimeout))
	mux.HandleFunc("/-/reload", reloader.handle)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy.") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Ready.") })
	if opts.metricsPath != "/" {
		mux.HandleFunc("/", h.landing)
	}
	return mux
}

// scrapeContext honours Prometheus's X-Prometheus-Scrape-Timeout-Seconds,
// less an offset, so the answer arrives before Prometheus gives up.
func (h *handlers) scrapeContext(r *http.Request) (context.Context, context.CancelFunc) {
	timeout := h.options.maxScrapeTimeout
	if header := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); header != "" {
		if seconds, err := strconv.ParseFloat(header, 64); err == nil && seconds > 0 {
			given := time.Duration(seconds * float64(time.Second))
			timeout = min(timeout, max(given-h.options.timeoutOffset, given/2))
		}
	}
	return context.WithTimeout(r.Context(), timeout)
}

// writeMargin is kept from the scrape's time for writing the metrics: a
// round cut at the very deadline would leave none.
func writeMargin(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline.Add(-min(time.Until(deadline)/10, 100*time.Millisecond)))
}

func (h *handlers) metrics(w http.ResponseWriter, r *http.Request) {
	h.serveRounds(w, r, h.ensembleNames(), true)
}

// probe answers one configured ensemble, blackbox-style. Anything not
// configured is refused: the exporter never probes an arbitrary address.
func (h *handlers) probe(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("ensemble")
	if name == "" {
		http.Error(w, "missing parameter: ensemble (one of: "+strings.Join(h.ensembleNames(), ", ")+")", http.StatusBadRequest)
		return
	}
	if h.registry.Config().Ensemble(name) == nil {
		http.Error(w, fmt.Sprintf("ensemble %q is not configured", name), http.StatusBadRequest)
		return
	}
	h.serveRounds(w, r, []string{name}, false)
}

func (h *handlers) ensembleNames() []string {
	var names []string
	for _, e := range h.registry.Config().Ensembles {
		names = append(names, e.Name)
	}
	return names
}

// textFormat is the exposition format served: Prometheus's text format,
// which every scraper accepts.
const textFormat = "text/plain; version=0.0.4; charset=utf-8"

// gzipWriters are reused: a writer's state is a few hundred kilobytes.
// klauspost/compress (Prometheus's own choice) rather than compress/gzip:
// at BestSpeed it compresses an exposition in half the time (0.13 ms of
// 5 members', 3.8 ms of 1,000 members'), and a writer holds 0.5 MB instead
// of 1.2 MB, which is what each scrape in flight costs (measured).
var gzipWriters = sync.Pool{New: func() any {
	writer, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return writer
}}

// serveRounds probes the named ensembles and writes their metrics straight
// into the text exposition, and with own the exporter's own metrics after
// them: the process's gathered while the probes run, the engine's counters
// once they have ended, so that they count this scrape.
func (h *handlers) serveRounds(w http.ResponseWriter, r *http.Request, names []string, own bool) {
	if !h.limit.admit() {
		// As promhttp answers past its MaxRequestsInFlight.
		http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", cap(h.limit.slots)), http.StatusServiceUnavailable)
		return
	}
	defer h.limit.done()
	ctx, cancel := h.scrapeContext(r)
	defer cancel()
	ctx, cancelWrite := writeMargin(ctx)
	defer cancelWrite()
	var process []*dto.MetricFamily
	var processErr error
	gathered := make(chan struct{})
	if own {
		go func() {
			defer close(gathered)
			process, processErr = h.own.process.Gather()
		}()
	} else {
		close(gathered)
	}
	rounds := collector.Rounds(ctx, h.registry, names)
	<-gathered

	w.Header().Set("Content-Type", textFormat)
	var out io.Writer = w
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		compressor := gzipWriters.Get().(*gzip.Writer)
		compressor.Reset(w)
		defer func() {
			_ = compressor.Close()
			gzipWriters.Put(compressor)
		}()
		out = compressor
	}
	if err := collector.WriteText(out, rounds, h.registry.Config().LabelNames()); err != nil {
		h.logger.Debug("writing the exposition", "err", err)
		return
	}
	if !own {
		return
	}
	engine, err := h.own.engine.Gather()
	for _, err := range []error{processErr, err} {
		if err != nil {
			h.logger.Error("gathering the exporter's own metrics", "err", err)
		}
	}
	for _, family := range append(process, engine...) {
		if _, err := expfmt.MetricFamilyToText(out, family); err != nil {
			h.logger.Debug("writing the exposition", "err", err)
			return
		}
	}
}

// landingEnsembles lists every configured ensemble with its /probe link and
// the margin of its latest round; the landing page probes nothing.
var landingEnsembles = template.Must(template.New("ensembles").Parse(`<h2>Ensembles</h2>
<table><tr><th>Ensemble</th><th>Members</th><th>Quorum margin</th><th>Health</th><th></th></tr>
{{range .}}<tr><td>{{.Name}}</td><td>{{.Members}}</td><td>{{.Margin}}</td><td>{{.Health}}</td><td><a href="{{.ProbeURL}}">probe</a></td></tr>
{{end}}</table>`))

type landingRow struct {
	Name, Margin, Health string
	Members              int
	ProbeURL             string
}

// landing is the exporter-toolkit landing page with the ensembles table.
func (h *handlers) landing(w http.ResponseWriter, r *http.Request) {
	var rows []landingRow
	for _, e := range h.registry.Config().Ensembles {
		row := landingRow{Name: e.Name, Members: len(e.Members), Margin: "not probed yet", Health: "-", ProbeURL: "probe?ensemble=" + url.QueryEscape(e.Name)}
		if last := h.registry.Last(e.Name); last != nil {
			row.Margin = strconv.Itoa(last.Quorum().Margin)
			row.Health = string(last.Assessment.Health)
		}
		rows = append(rows, row)
	}
	var table strings.Builder
	if err := landingEnsembles.Execute(&table, rows); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	page, err := web.NewLandingPage(web.LandingConfig{
		Name:        "ZooKeeper Exporter",
		Description: "Member state and quorum margin of ZooKeeper ensembles",
		Version:     version.Info(),
		Links: []web.LandingLinks{
			{Address: h.options.metricsPath, Text: "Metrics", Description: "Every configured ensemble"},
			{Address: "status", Text: "Status", Description: "Live table of every ensemble: members, quorum margin, who is safe to stop"},
		},
		ExtraHTML: table.String(),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	page.ServeHTTP(w, r)
}

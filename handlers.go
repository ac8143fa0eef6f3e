package main

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/quorumwatch/zookeeper_exporter/collector"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/status"
)

// handlers serve the scrape endpoints.
type handlers struct {
	logger   *slog.Logger
	registry *ensemble.Registry
	global   *prometheus.Registry
	options  serverOptions
}

// routes builds the exporter's HTTP routes.
func routes(logger *slog.Logger, opts serverOptions, registry *ensemble.Registry, global *prometheus.Registry, reloader *reloader) *http.ServeMux {
	h := &handlers{logger: logger, registry: registry, global: global, options: opts}
	mux := http.NewServeMux()
	mux.HandleFunc(opts.metricsPath, h.metrics)
	mux.HandleFunc("/probe", h.probe)
	mux.Handle("/status", status.Handler(registry, opts.maxScrapeTimeout))
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
	ctx, cancel := h.scrapeContext(r)
	defer cancel()
	ctx, cancelWrite := writeMargin(ctx)
	defer cancelWrite()
	// The scrape goes first so that the error counters it bumps are current.
	h.serve(w, r, prometheus.Gatherers{registryOf(collector.New(ctx, h.registry)), h.global})
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
	ctx, cancel := h.scrapeContext(r)
	defer cancel()
	ctx, cancelWrite := writeMargin(ctx)
	defer cancelWrite()
	h.serve(w, r, registryOf(collector.New(ctx, h.registry, name)))
}

func (h *handlers) ensembleNames() []string {
	var names []string
	for _, e := range h.registry.Config().Ensembles {
		names = append(names, e.Name)
	}
	return names
}

func (h *handlers) serve(w http.ResponseWriter, r *http.Request, gatherer prometheus.Gatherer) {
	promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(h.logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	}).ServeHTTP(w, r)
}

func registryOf(c prometheus.Collector) *prometheus.Registry {
	registry := prometheus.NewRegistry()
	registry.MustRegister(c)
	return registry
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

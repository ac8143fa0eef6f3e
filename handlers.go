package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quorumwatch/zookeeper_exporter/collector"
)

// handlers serve the scrape endpoints.
type handlers struct {
	logger   *slog.Logger
	exporter *collector.Exporter
	global   *prometheus.Registry
	flags    *serveFlags
}

// scrapeContext honours Prometheus's X-Prometheus-Scrape-Timeout-Seconds,
// less an offset, so the answer arrives before Prometheus gives up.
func (h *handlers) scrapeContext(r *http.Request) (context.Context, context.CancelFunc) {
	timeout := *h.flags.scrapeTimeout
	if header := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); header != "" {
		if seconds, err := strconv.ParseFloat(header, 64); err == nil && seconds > 0 {
			fromHeader := time.Duration(seconds*float64(time.Second)) - *h.flags.timeoutOffset
			if fromHeader < time.Duration(seconds*float64(time.Second))/2 {
				fromHeader = time.Duration(seconds * float64(time.Second) / 2)
			}
			timeout = min(timeout, fromHeader)
		}
	}
	return context.WithTimeout(r.Context(), timeout)
}

func (h *handlers) metrics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.scrapeContext(r)
	defer cancel()
	// The scrape goes first so that the error counters it bumps are current.
	h.serve(w, r, prometheus.Gatherers{registryOf(h.exporter.Collector(ctx)), h.global})
}

// probe answers one configured ensemble, blackbox-style. Anything not
// configured is refused: the exporter never probes an arbitrary address.
func (h *handlers) probe(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("ensemble")
	if name == "" {
		http.Error(w, "missing parameter: ensemble", http.StatusBadRequest)
		return
	}
	if h.exporter.Config().Ensemble(name) == nil {
		http.Error(w, fmt.Sprintf("ensemble %q is not configured", name), http.StatusBadRequest)
		return
	}
	ctx, cancel := h.scrapeContext(r)
	defer cancel()
	h.serve(w, r, registryOf(h.exporter.Collector(ctx, name)))
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

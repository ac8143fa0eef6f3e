package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
)

// reloader re-reads the configuration on SIGHUP and POST /-/reload. A bad
// configuration is logged and refused; the one in force keeps serving.
type reloader struct {
	logger   *slog.Logger
	load     func() (*config.Config, error)
	registry *ensemble.Registry
	mu       sync.Mutex

	success   prometheus.Gauge
	timestamp prometheus.Gauge
}

func newReloader(logger *slog.Logger, load func() (*config.Config, error), registry *ensemble.Registry) *reloader {
	r := &reloader{
		logger: logger, load: load, registry: registry,
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "zookeeper_exporter_config_last_reload_successful",
			Help: "1 if the last configuration reload succeeded.",
		}),
		timestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "zookeeper_exporter_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully.",
		}),
	}
	r.success.Set(1)
	r.timestamp.SetToCurrentTime()
	return r
}

func (r *reloader) collectors() []prometheus.Collector {
	return []prometheus.Collector{r.success, r.timestamp}
}

func (r *reloader) reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := r.load()
	if err == nil {
		err = r.registry.SetConfig(cfg)
	}
	if err != nil {
		r.success.Set(0)
		r.logger.Error("configuration reload failed; keeping the previous configuration", "err", err)
		return err
	}
	for _, warning := range cfg.Warnings {
		r.logger.Warn(warning)
	}
	tuneGC(cfg)
	r.success.Set(1)
	r.timestamp.SetToCurrentTime()
	r.logger.Info("configuration reloaded", "source", cfg.Source, "ensembles", len(cfg.Ensembles))
	return nil
}

func (r *reloader) handle(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost && req.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "use POST to reload the configuration", http.StatusMethodNotAllowed)
		return
	}
	if err := r.reload(); err != nil {
		http.Error(w, "reload failed, previous configuration kept:\n"+err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "configuration reloaded")
}

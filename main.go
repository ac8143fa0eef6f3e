// Command zookeeper_exporter probes ZooKeeper ensembles with the four-letter
// words and exports per-member state and per-ensemble quorum margin.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	webflag "github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/quorumwatch/zookeeper_exporter/collector"
	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/rules"
	"github.com/quorumwatch/zookeeper_exporter/status"
)

const exporterName = "zookeeper_exporter"

// defaultListenAddress: 9141 is the port registered for ZooKeeper exporters
// on the Prometheus default port allocations page.
const defaultListenAddress = ":9141"

func main() { os.Exit(run(os.Args[1:])) }

// sourceFlags say where the ensembles come from.
type sourceFlags struct {
	configFile   *string
	servers      *string
	zooCfg       *string
	ensembleName *string
	timeout      *time.Duration
}

func (f *sourceFlags) register(app *kingpin.Application) {
	f.configFile = app.Flag("config.file", "YAML file listing the ensembles and their members.").String()
	f.servers = app.Flag("zookeeper.servers", "One ensemble's members instead of a file: host:port[:observer][@datacenter],... (port 2181 when omitted), like ZK_HOSTS.").String()
	f.zooCfg = app.Flag("zookeeper.zoo-cfg", "Read one ensemble's members from the server.N lines of this zoo.cfg.").String()
	f.ensembleName = app.Flag("zookeeper.ensemble", "Ensemble name for --zookeeper.servers and --zookeeper.zoo-cfg.").Default("default").String()
	f.timeout = app.Flag("zookeeper.timeout", "Probe timeout per member, where the configuration sets none.").Default(config.DefaultTimeout.String()).Duration()
}

// load reads the configuration from whichever source was given.
func (f *sourceFlags) load() (*config.Config, error) {
	given := 0
	for _, value := range []string{*f.configFile, *f.servers, *f.zooCfg} {
		if value != "" {
			given++
		}
	}
	if given != 1 {
		return nil, errors.New("give exactly one of --config.file, --zookeeper.servers or --zookeeper.zoo-cfg")
	}
	var cfg *config.Config
	var err error
	switch {
	case *f.configFile != "":
		cfg, err = config.Load(*f.configFile)
	case *f.servers != "":
		cfg, err = config.FromServers(*f.ensembleName, *f.servers)
	default:
		cfg, err = config.FromZooCfg(*f.ensembleName, *f.zooCfg)
	}
	if err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = *f.timeout
	}
	return cfg, nil
}

func run(args []string) int {
	app := kingpin.New(exporterName, "Prometheus exporter for ZooKeeper ensembles: member state and quorum margin.")
	var sources sourceFlags
	sources.register(app)
	logConfig := &promslog.Config{}
	promslogflag.AddFlags(app, logConfig)
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')

	serve := app.Command("serve", "Run the exporter (the default).").Default()
	serveFlags := registerServeFlags(serve)
	checkOnly := app.Flag("config.check", "Validate the configuration and exit: 0 if valid.").Bool()
	rulesCommand := rules.Register(app.Command("rules", "Write the alerting and recording rules (and, with --rules.dashboards-dir, the dashboards) from the embedded mixin."))
	statusCommand := status.Register(app.Command("status", "Probe the ensembles once (or --watch) and show members, quorum margin and who is safe to stop. Exit 0 healthy, 3 at risk, 4 lost; with --can-stop, 0 safe, 5 not."))

	command, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", exporterName, err)
		return 2
	}
	logger := promslog.New(logConfig)

	if command == "rules" {
		if err := rulesCommand.Run(os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "%s rules: %v\n", exporterName, err)
			return 1
		}
		return 0
	}

	cfg, err := sources.load()
	if err != nil {
		logger.Error("invalid configuration", "err", err)
		return 1
	}
	for _, warning := range cfg.Warnings {
		logger.Warn(warning)
	}
	if *checkOnly {
		fmt.Printf("%s: configuration is valid (%d ensembles)\n", cfg.Source, len(cfg.Ensembles))
		return 0
	}
	if command == "status" {
		return statusCommand.Run(cfg, os.Stdout, os.Stderr)
	}
	return runServer(logger, &sources, cfg, serveFlags)
}

// serveFlags are the HTTP server's flags.
type serveFlags struct {
	web           *web.FlagConfig
	metricsPath   *string
	timeoutOffset *time.Duration
	scrapeTimeout *time.Duration
}

func registerServeFlags(cmd *kingpin.CmdClause) *serveFlags {
	return &serveFlags{
		web:           webflag.AddFlags(cmd, defaultListenAddress),
		metricsPath:   cmd.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String(),
		timeoutOffset: cmd.Flag("web.timeout-offset", "Subtracted from Prometheus's scrape timeout, to answer before it gives up.").Default("500ms").Duration(),
		scrapeTimeout: cmd.Flag("web.max-scrape-timeout", "Longest a scrape may take, whatever Prometheus allows.").Default("10s").Duration(),
	}
}

func runServer(logger *slog.Logger, sources *sourceFlags, cfg *config.Config, flags *serveFlags) int {
	logger.Info("starting "+exporterName, "version", version.Info(), "build_context", version.BuildContext())
	exporter, err := collector.New(cfg, logger)
	if err != nil {
		logger.Error("invalid configuration", "err", err)
		return 1
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(
		versioncollector.NewCollector(exporterName),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	registry.MustRegister(exporter.SelfCollectors()...)
	reloader := newReloader(logger, sources, exporter)
	registry.MustRegister(reloader.collectors()...)

	handlers := &handlers{logger: logger, exporter: exporter, global: registry, flags: flags}
	mux := http.NewServeMux()
	mux.HandleFunc(*flags.metricsPath, handlers.metrics)
	mux.HandleFunc("/probe", handlers.probe)
	mux.Handle("/status", status.Handler(exporter, *flags.scrapeTimeout))
	mux.HandleFunc("/-/reload", reloader.handle)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy.") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Ready.") })
	if *flags.metricsPath != "/" {
		landing, err := web.NewLandingPage(landingConfig(*flags.metricsPath))
		if err != nil {
			logger.Error("landing page", "err", err)
			return 1
		}
		mux.Handle("/", landing)
	}

	hangups := make(chan os.Signal, 1)
	signal.Notify(hangups, syscall.SIGHUP)
	go func() {
		for range hangups {
			_ = reloader.reload()
		}
	}()

	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	served := make(chan error, 1)
	go func() { served <- web.ListenAndServe(server, flags.web, logger) }()
	select {
	case err := <-served:
		logger.Error("server stopped", "err", err)
		return 1
	case sig := <-stop:
		logger.Info("shutting down", "signal", sig.String())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(ctx)
		return 0
	}
}

func landingConfig(metricsPath string) web.LandingConfig {
	return web.LandingConfig{
		Name:        "ZooKeeper Exporter",
		Description: "Member state and quorum margin of ZooKeeper ensembles",
		Version:     version.Info(),
		Links: []web.LandingLinks{
			{Address: metricsPath, Text: "Metrics", Description: "Every configured ensemble"},
			{Address: "probe", Text: "Probe", Description: "One ensemble: /probe?ensemble=NAME"},
			{Address: "status", Text: "Status", Description: "Live table of every ensemble: members, quorum margin, who is safe to stop"},
		},
	}
}

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

// reloader re-reads the configuration on SIGHUP and POST /-/reload. A bad
// configuration is logged and refused; the one in force keeps serving.
type reloader struct {
	logger   *slog.Logger
	sources  *sourceFlags
	exporter *collector.Exporter
	mu       sync.Mutex

	success   prometheus.Gauge
	timestamp prometheus.Gauge
}

func newReloader(logger *slog.Logger, sources *sourceFlags, exporter *collector.Exporter) *reloader {
	r := &reloader{
		logger: logger, sources: sources, exporter: exporter,
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
	cfg, err := r.sources.load()
	if err == nil {
		err = r.exporter.SetConfig(cfg)
	}
	if err != nil {
		r.success.Set(0)
		r.logger.Error("configuration reload failed; keeping the previous configuration", "err", err)
		return err
	}
	for _, warning := range cfg.Warnings {
		r.logger.Warn(warning)
	}
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

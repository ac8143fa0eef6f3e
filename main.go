// Command zookeeper_exporter probes ZooKeeper ensembles with the four-letter
// words and exports per-member state and per-ensemble quorum margin.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	webflag "github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/roll"
	"github.com/quorumwatch/zookeeper_exporter/rules"
	"github.com/quorumwatch/zookeeper_exporter/status"
)

const exporterName = "zookeeper_exporter"

// defaultListenAddress: 9141 is the port registered for ZooKeeper exporters
// on the Prometheus default port allocations page.
const defaultListenAddress = ":9141"

func main() {
	os.Exit(run(os.Args[1:]))
}

// options are every flag's value, parsed once; nothing reads a flag after
// start-up.
type options struct {
	source    sourceOptions
	checkOnly bool
	engine    ensemble.Options
	web       *web.FlagConfig
	server    serverOptions
	log       promslog.Config
	statusCmd status.Command
	rollCmd   roll.Command
	rulesCmd  *rules.Command
}

// serverOptions are the HTTP server's.
type serverOptions struct {
	metricsPath      string
	timeoutOffset    time.Duration
	maxScrapeTimeout time.Duration
	// maxRequests bounds the scrapes in flight: each holds its exposition
	// and a gzip writer (about 0.5 MB) until written. 0: no bound.
	maxRequests int
}

func newApp(opts *options) *kingpin.Application {
	app := kingpin.New(exporterName, "Prometheus exporter for ZooKeeper ensembles: every member's mode, zxid, latency and load, "+
		"and each ensemble's quorum margin: how many more voters it can lose before quorum breaks. "+
		"With no source flag it probes localhost:2181, a local server's default.")
	opts.source.register(app)
	app.Flag("config.check", "Validate the configuration, print every problem, and exit: 0 if valid.").BoolVar(&opts.checkOnly)
	app.Flag("zookeeper.max-concurrent-probes", "Members probed at once across all ensembles, each on two connections. 0: a quarter of the configured members (64 to 1024), so that all are probed within four round trips.").
		Default("0").IntVar(&opts.engine.MaxConcurrentProbes)
	app.Flag("zookeeper.conf-refresh-interval", "How often the ensembles' own membership (conf) is read again when no election or change of voters calls for it sooner.").
		Default(ensemble.DefaultConfRefresh.String()).DurationVar(&opts.engine.ConfRefresh)
	promslogflag.AddFlags(app, &opts.log)
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')

	serve := app.Command("serve", "Run the exporter (the default).").Default()
	opts.web = webflag.AddFlags(serve, defaultListenAddress)
	serve.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&opts.server.metricsPath)
	serve.Flag("web.timeout-offset", "Subtracted from Prometheus's scrape timeout, to answer before it gives up.").Default("500ms").DurationVar(&opts.server.timeoutOffset)
	serve.Flag("web.max-scrape-timeout", "Longest a scrape may take, whatever Prometheus allows.").Default("10s").DurationVar(&opts.server.maxScrapeTimeout)
	serve.Flag("web.max-requests", "Maximum number of parallel scrape requests (/metrics and /probe); more are answered 503. Use 0 to disable.").Default("40").IntVar(&opts.server.maxRequests)
	opts.rulesCmd = rules.Register(app.Command("rules", "Write the alerting and recording rules (and, with --rules.dashboards-dir, the dashboards) from the embedded mixin."))
	opts.statusCmd.Register(app.Command("status", "Probe the ensembles once (or --watch) and show members, quorum margin and who is safe to stop. Exit 0 healthy, 3 at risk, 4 lost; with --can-stop, 0 safe, 5 not; with --wait-caught-up, 0 caught up, 6 not by --timeout."))
	opts.rollCmd.Register(app.Command("roll", "Restart an ensemble's members one at a time with --exec, observers first and the leader last, each only once safe to stop and the next only once it has caught up. Exit 0 done, 3 unsafe, 4 a member did not come back, 5 the command failed, 6 stopped by the operator."))
	return app
}

func run(args []string) int {
	var opts options
	app := newApp(&opts)
	command, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", exporterName, err)
		return 2
	}
	logger := promslog.New(&opts.log)

	if command == "rules" {
		if err := opts.rulesCmd.Run(os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "%s rules: %v\n", exporterName, err)
			return 1
		}
		return 0
	}

	cfg, err := opts.source.load()
	if err != nil {
		logger.Error("invalid configuration", "err", err)
		return 1
	}
	if opts.source.bare() {
		logger.Info("no --config.file, --zookeeper.servers or --zookeeper.zoo-cfg given: probing the local default", "member", config.DefaultAddress, "ensemble", config.DefaultEnsembleName)
	}
	for _, warning := range cfg.Warnings {
		logger.Warn(warning)
	}
	if opts.checkOnly {
		fmt.Printf("%s: configuration is valid (%d ensembles)\n", cfg.Source, len(cfg.Ensembles))
		return 0
	}
	switch command {
	case "status":
		return opts.statusCmd.Run(cfg, opts.engine, os.Stdout, os.Stderr)
	case "roll":
		return opts.rollCmd.Run(cfg, opts.engine, logger, os.Stdout)
	}
	return runServer(logger, &opts, cfg)
}

func runServer(logger *slog.Logger, opts *options, cfg *config.Config) int {
	logger.Info("starting "+exporterName, "version", version.Info(), "build_context", version.BuildContext())
	if err := ensemble.CheckFileLimit(opts.engine.ProbeLimit(cfg)); err != nil {
		logger.Error("file descriptor limit too low", "err", err)
		return 1
	}
	registry, err := ensemble.New(cfg, logger, opts.engine)
	if err != nil {
		logger.Error("invalid configuration", "err", err)
		return 1
	}
	tuneGC(cfg)
	registry.Subscribe(ensemble.LogEvents(logger))

	reloader := newReloader(logger, opts.source.load, registry)
	limit := newScrapeLimit(opts.server.maxRequests)
	own := newOwnMetrics(registry, reloader, limit)
	mux := routes(logger, opts.server, registry, own, reloader, limit)
	hangups := make(chan os.Signal, 1)
	signal.Notify(hangups, syscall.SIGHUP)
	go func() {
		for range hangups {
			_ = reloader.reload()
		}
	}()
	return serve(logger, mux, opts.web)
}

// newOwnMetrics registers the exporter's own metrics. The process's are
// gathered while a scrape's probes run; the engine's counters after them,
// so that they count that scrape.
func newOwnMetrics(registry *ensemble.Registry, reloader *reloader, limit *scrapeLimit) ownMetrics {
	process := prometheus.NewRegistry()
	process.MustRegister(
		versioncollector.NewCollector(exporterName),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	engine := prometheus.NewRegistry()
	engine.MustRegister(registry.SelfMetrics().Collectors()...)
	engine.MustRegister(reloader.collectors()...)
	engine.MustRegister(limit.refused)
	return ownMetrics{process: process, engine: engine}
}

// serve runs the HTTP server until it fails or a signal stops it.
func serve(logger *slog.Logger, handler http.Handler, flags *web.FlagConfig) int {
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	served := make(chan error, 1)
	go func() { served <- web.ListenAndServe(server, flags, logger) }()
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

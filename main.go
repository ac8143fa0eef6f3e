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

	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
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

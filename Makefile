# zookeeper_exporter. `make` builds, `make test` runs every test, `make demo`
# runs a local ensemble with the exporter, Prometheus and Alertmanager.

GO        ?= go
PROMU     ?= promu
BIN       := zookeeper_exporter
PKG       := github.com/prometheus/common/version
VERSION   ?= $(shell cat VERSION)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILDUSER ?= $(shell id -un)@$(shell hostname)
BUILDDATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)
# The same -X flags promu sets from .promu.yml, for machines without promu.
LDFLAGS   := -X $(PKG).Version=$(VERSION) -X $(PKG).Revision=$(REVISION) \
             -X $(PKG).Branch=$(BRANCH) -X $(PKG).BuildUser=$(BUILDUSER) \
             -X $(PKG).BuildDate=$(BUILDDATE)
GOTEST_FLAGS ?= -count=1 -timeout 20m

.PHONY: all build deps test test-versions unit lint vet staticcheck fmt mixin demo bench fuzz clean

all: build

build:
	@if command -v $(PROMU) >/dev/null 2>&1; then $(PROMU) build; \
	else $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .; fi

# deps installs the real ZooKeeper, Prometheus, Alertmanager and jsonnet the
# tests run against (Debian packages), when they are missing.
deps:
	@./scripts/install-deps.sh

# test runs every test: unit, parser, golden, and integration tests against
# real ensembles, a real Prometheus and a real Alertmanager. The version
# matrix runs on ZK_VERSIONS: Debian's ZooKeeper and the newest 3.9 here,
# within CI's time; every line under test-versions or a plain go test.
ZK_VERSIONS ?= 3.8.0-debian,3.9.5
test: deps
	ZK_VERSIONS=$(ZK_VERSIONS) $(GO) test $(GOTEST_FLAGS) ./...

# test-versions runs the version matrix on every ZooKeeper release line
# (fetched from Maven Central with mvn once per machine) and rewrites the
# README's supported-versions table from the results.
test-versions: deps
	ZK_VERSIONS=all ZK_MATRIX_README=1 $(GO) test $(GOTEST_FLAGS) -v -run '^TestVersionMatrix$$' ./test

# unit skips everything that starts a real process.
unit:
	$(GO) test -short $(GOTEST_FLAGS) ./...

# model runs the property test of the quorum arithmetic on MODEL_CASES
# generated ensembles (MODEL_STEPS states each) instead of make test's 2,500;
# MODEL_SEED replays a failure.
MODEL_CASES ?= 200000
MODEL_STEPS ?= 4
MODEL_SEED  ?= 0
.PHONY: model
model:
	$(GO) test -count=1 -timeout 0 -run 'TestModel' ./internal/zkmodel -v \
		-model.cases=$(MODEL_CASES) -model.steps=$(MODEL_STEPS) -model.seed=$(MODEL_SEED)

lint: vet staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

vet:
	$(GO) vet ./...

STATICCHECK_VERSION ?= v0.8.2
staticcheck:
	@test -x "$$($(GO) env GOPATH)/bin/staticcheck" || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	"$$($(GO) env GOPATH)/bin/staticcheck" ./...

fmt:
	gofmt -w $$(git ls-files '*.go')
	@command -v jsonnetfmt >/dev/null 2>&1 && find mixin -name '*.libsonnet' -o -name '*.jsonnet' | xargs -r jsonnetfmt -i || true

# mixin builds the rule files and dashboards with Debian's jsonnet and checks
# them with jsonnetfmt and promtool (mixtool cannot be installed here).
mixin: deps
	$(MAKE) -C mixin

# demo runs the whole stack on loopback until Ctrl-C: the ensemble, the
# exporter, Prometheus with the generated rules and Alertmanager with
# examples/alertmanager.yml (internal/demo). Not `go run`, which exits 1 on
# Ctrl-C whatever the demo does.
demo: deps build
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT INT TERM && \
	$(GO) build -o "$$dir/demo" ./internal/demo && "$$dir/demo" -exporter ./$(BIN)

# bench runs every Go benchmark (allocations reported) BENCH_COUNT times
# into bench-<commit>.txt, a file benchstat compares with another commit's:
# benchstat bench-OLD.txt bench-NEW.txt. Only packages with benchmarks are
# built (test/ has none and would build the binary).
BENCH_COUNT ?= 6
BENCH_TIME  ?= 500ms
BENCH_OUT   ?= bench-$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty).txt
BENCH_PKGS  ?= $(shell grep -rl --include='*_test.go' '^func Benchmark' . | xargs -r -n1 dirname | sort -u | grep -v '^./test$$')
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) -benchtime $(BENCH_TIME) \
		$(BENCH_PKGS) 2>&1 | tee $(BENCH_OUT)
	@! grep -Eq '^(FAIL|--- FAIL|panic:)' $(BENCH_OUT)
	@echo "written to $(BENCH_OUT); compare: benchstat OLD.txt $(BENCH_OUT)"

# fuzz explores every fuzz target for FUZZ_TIME each, one after another (go
# test -fuzz takes one target at a time); a crash writes its input under the
# package's testdata/fuzz/ and fails. Not part of make test.
FUZZ_TIME ?= 30s
fuzz:
	@for pkg in ./zk ./config; do \
	  for target in $$(grep -ho '^func Fuzz[A-Za-z]*' $$pkg/*_test.go | cut -d' ' -f2); do \
	    echo "$$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZ_TIME) -parallel 1 $$pkg || exit 1; \
	  done; \
	done

# bench-scale runs the exporter against 1,000 stand-in members (200
# ensembles x 5, answering after 20 ms) and prints its scrape times, peak
# RSS, CPU and words per member per scrape. It stops by itself.
.PHONY: bench-scale
bench-scale: build
	$(GO) run ./internal/bench/scale -exporter ./$(BIN) $(BENCH_SCALE_FLAGS)

clean:
	rm -f $(BIN)
	rm -rf mixin/dashboards_out mixin/prometheus_alerts.yaml mixin/prometheus_rules.yaml

# crossbuild puts linux binaries where `promu crossbuild` does and the
# Dockerfile copies them from: $(BUILD_DIR)/linux-<arch>/. Then:
#   docker build --build-arg ARCH=amd64 -t zookeeper-exporter .
DOCKER_ARCHS ?= amd64
BUILD_DIR    ?= .build
.PHONY: crossbuild
crossbuild:
	@for arch in $(DOCKER_ARCHS); do \
	  if command -v $(PROMU) >/dev/null 2>&1 && [ "$(BUILD_DIR)" = .build ]; then $(PROMU) crossbuild -p linux/$$arch || exit 1; \
	  else CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -ldflags "$(LDFLAGS)" -o $(BUILD_DIR)/linux-$$arch/$(BIN) . || exit 1; fi; \
	done

# helm-rules regenerates the Helm chart's copy of the rules and dashboards
# from the mixin embedded in the binary; a test fails while it is stale.
HELM_CHART := deploy/helm/zookeeper-exporter
.PHONY: helm-rules
helm-rules:
	rm -rf $(HELM_CHART)/files/dashboards
	$(GO) run . rules --rules.output=$(HELM_CHART)/files/zookeeper-rules.yaml --rules.dashboards-dir=$(HELM_CHART)/files/dashboards

# chaos runs a fault campaign (internal/chaos) against a real ensemble in a
# network namespace of its own (needs root, nftables and iproute2): random
# faults for DURATION with seed SEED (random when empty, printed either
# way), every answer of the exporter checked against the members. Not part
# of make test; CI runs a short one. VOTERS, OBSERVERS, GROUPS ("1,2,3;4,5,6;7,8,9"),
# RELEASE and PLAN (a fixed sequence from a report's replay line) select the rest.
SEED      ?=
DURATION  ?= 3m
VOTERS    ?= 5
OBSERVERS ?= 1
GROUPS    ?=
RELEASE   ?=
PLAN      ?=
CHAOS_REPORT ?= chaos-report.txt
.PHONY: chaos
chaos: deps build
	$(GO) run ./internal/chaos/cmd/chaos -exporter ./$(BIN) -duration $(DURATION) \
		-voters $(VOTERS) -observers $(OBSERVERS) -report $(CHAOS_REPORT) \
		$(if $(SEED),-seed $(SEED)) $(if $(GROUPS),-groups "$(GROUPS)") \
		$(if $(RELEASE),-release $(RELEASE)) $(if $(PLAN),-plan "$(PLAN)")

package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/quorumwatch/zookeeper_exporter/rules"
)

const (
	chartDir       = "helm/zookeeper-exporter"
	chartRules     = chartDir + "/files/zookeeper-rules.yaml"
	chartDashboard = chartDir + "/files/dashboards"
	configPath     = "/etc/zookeeper_exporter/config.yml"
)

// chartCases are the values the chart is checked with: its defaults, and
// the example for a ZooKeeper StatefulSet with every optional object on.
var chartCases = []struct {
	name   string
	values string // relative to the chart; empty for the defaults
	kinds  []string
}{
	{"defaults", "", []string{"apps/v1 Deployment", "v1 ConfigMap", "v1 Service", "v1 ServiceAccount"}},
	{"statefulset", "ci/statefulset-values.yaml", []string{
		"apps/v1 Deployment", "monitoring.coreos.com/v1 PrometheusRule", "monitoring.coreos.com/v1 ServiceMonitor",
		"v1 ConfigMap", "v1 ConfigMap", "v1 Service", "v1 ServiceAccount",
	}},
}

func helmArgs(values string, args ...string) []string {
	if values != "" {
		args = append(args, "--values", filepath.Join(chartDir, values))
	}
	return args
}

// helmTemplate renders the chart as `helm install zk-exporter -n monitoring`
// would.
func helmTemplate(t *testing.T, values string) string {
	t.Helper()
	helm := tool(t, "helm", "go install helm.sh/helm/v3/cmd/helm@v3.22.0")
	return run(t, helm, helmArgs(values, "template", "zk-exporter", chartDir, "--namespace", "monitoring")...)
}

// rendered renders the chart and strict-decodes every document.
func rendered(t *testing.T, values string) []manifest {
	t.Helper()
	var out []manifest
	for _, doc := range splitDocuments(helmTemplate(t, values)) {
		m, err := decodeStrict(doc)
		if err != nil {
			t.Fatalf("rendered with %q: %v\n%s", values, err, doc)
		}
		out = append(out, m)
	}
	return out
}

// only returns the one rendered object of type T whose name ends in suffix.
func only[T any](t *testing.T, ms []manifest, suffix string) T {
	t.Helper()
	var found []T
	for _, m := range ms {
		if obj, ok := m.obj.(T); ok && strings.HasSuffix(m.name, suffix) {
			found = append(found, obj)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("%d rendered %T named *%s, want 1", len(found), zero, suffix)
	}
	return found[0]
}

func TestHelmLint(t *testing.T) {
	for _, tt := range chartCases {
		t.Run(tt.name, func(t *testing.T) {
			helm := tool(t, "helm", "go install helm.sh/helm/v3/cmd/helm@v3.22.0")
			out := run(t, helm, helmArgs(tt.values, "lint", "--strict", chartDir)...)
			if !strings.Contains(out, "0 chart(s) failed") {
				t.Errorf("helm lint:\n%s", out)
			}
		})
	}
}

// TestHelmTemplateStrictDecode: every document the chart renders decodes
// into the real Kubernetes and Prometheus Operator types, with no field
// those types do not know.
func TestHelmTemplateStrictDecode(t *testing.T) {
	for _, tt := range chartCases {
		t.Run(tt.name, func(t *testing.T) {
			var kinds []string
			for _, m := range rendered(t, tt.values) {
				kinds = append(kinds, m.kind)
			}
			slices.Sort(kinds)
			if !slices.Equal(kinds, tt.kinds) {
				t.Errorf("rendered %v, want %v", kinds, tt.kinds)
			}
		})
	}
}

// TestStrictDecodeCatchesTypos proves the decode above can fail: a misspelt
// field in a rendered document, which Kubernetes would drop without a word
// under lax decoding, fails it.
func TestStrictDecodeCatchesTypos(t *testing.T) {
	ms := rendered(t, "ci/statefulset-values.yaml")
	tests := []struct {
		kind, from, to string
	}{
		{"apps/v1 Deployment", "readOnlyRootFilesystem:", "readOnlyRootFileSystem:"},
		{"apps/v1 Deployment", "livenessProbe:", "livenessprobe:"},
		{"v1 Service", "targetPort:", "targetport:"},
		{"v1 ConfigMap", "data:", "date:"},
		{"monitoring.coreos.com/v1 ServiceMonitor", "scrapeTimeout:", "scrape_timeout:"},
		{"monitoring.coreos.com/v1 PrometheusRule", "annotations:", "anotations:"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.to, func(t *testing.T) {
			i := slices.IndexFunc(ms, func(m manifest) bool { return m.kind == tt.kind })
			if i < 0 || !strings.Contains(ms[i].doc, tt.from) {
				t.Fatalf("no rendered %s with %q", tt.kind, tt.from)
			}
			typo := strings.Replace(ms[i].doc, tt.from, tt.to, 1)
			if _, err := decodeLax(typo); err != nil {
				t.Fatalf("lax decode failed too, so the typo proves nothing: %v", err)
			}
			_, err := decodeStrict(typo)
			if err == nil || !strings.Contains(err.Error(), strings.TrimSuffix(tt.to, ":")) {
				t.Errorf("strict decode with %s: error %v, want one naming the field", tt.to, err)
			}
		})
	}
}

// TestHelmChartWiring checks what makes the objects work together once
// applied: the Service reaches the pods, the ServiceMonitor the Service, the
// configuration is where the exporter reads it, and the pod is locked down.
func TestHelmChartWiring(t *testing.T) {
	ms := rendered(t, "ci/statefulset-values.yaml")
	deploy := only[*appsv1.Deployment](t, ms, "")
	svc := only[*corev1.Service](t, ms, "")
	sm := only[*monitoringv1.ServiceMonitor](t, ms, "")
	pod := deploy.Spec.Template

	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, pod.Labels)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http-metrics" || svc.Spec.Ports[0].Port != 9141 ||
		svc.Spec.Ports[0].TargetPort.String() != "http-metrics" {
		t.Errorf("Service ports %+v, want http-metrics 9141 to the container's http-metrics", svc.Spec.Ports)
	}
	if !labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not select the Service %v", sm.Spec.Selector.MatchLabels, svc.Labels)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http-metrics" {
		t.Errorf("ServiceMonitor endpoints %+v, want port http-metrics", sm.Spec.Endpoints)
	}
	checkJobLabel(t, sm)
	checkPod(t, deploy, only[*corev1.ConfigMap](t, ms, "-exporter"))
}

// checkJobLabel: the rules select job="zookeeper"; the ServiceMonitor must
// give the exporter's series that job, or no alert ever fires.
func checkJobLabel(t *testing.T, sm *monitoringv1.ServiceMonitor) {
	t.Helper()
	job := ""
	for _, r := range sm.Spec.Endpoints[0].RelabelConfigs {
		if r.TargetLabel == "job" && r.Replacement != nil {
			job = *r.Replacement
		}
	}
	if selector := fmt.Sprintf("job=%q", job); job == "" || !strings.Contains(string(readFile(t, chartRules)), selector) {
		t.Errorf("ServiceMonitor sets job %q; the rules do not select %s", job, selector)
	}
}

func checkPod(t *testing.T, deploy *appsv1.Deployment, config *corev1.ConfigMap) {
	t.Helper()
	pod := deploy.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if !slices.Contains(c.Args, "--config.file="+configPath) {
		t.Errorf("args %v: no --config.file=%s", c.Args, configPath)
	}
	if _, ok := config.Data[filepath.Base(configPath)]; !ok {
		t.Errorf("ConfigMap %s has no %s", config.Name, filepath.Base(configPath))
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		mounted = mounted || (m.MountPath == filepath.Dir(configPath) && i >= 0 &&
			pod.Volumes[i].ConfigMap != nil && pod.Volumes[i].ConfigMap.Name == config.Name)
	}
	if !mounted {
		t.Errorf("ConfigMap %s not mounted at %s", config.Name, filepath.Dir(configPath))
	}
	sc, psc := c.SecurityContext, pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and a non-zero runAsUser", psc)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container securityContext %+v: want a read-only root file system, no privilege escalation", sc)
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want memory requests and limits", c.Resources)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http-metrics" {
		t.Errorf("container ports %+v, want one named http-metrics", c.Ports)
	}
}

// TestHelmExporterAcceptsConfigAndArgs runs the real binary with the
// Deployment's arguments and the ConfigMap's file: a flag the exporter does
// not know, or a configuration it refuses, would crash-loop the pod.
func TestHelmExporterAcceptsConfigAndArgs(t *testing.T) {
	for _, tt := range chartCases {
		t.Run(tt.name, func(t *testing.T) {
			ms := rendered(t, tt.values)
			args := podArgs(t, ms, t.TempDir())
			out := run(t, exporter(t), append(args, "--config.check")...)
			if !strings.Contains(out, "configuration is valid") {
				t.Errorf("--config.check: %s", out)
			}
		})
	}
}

// podArgs returns the container's arguments with the configuration file
// written into dir instead of the mount.
func podArgs(t *testing.T, ms []manifest, dir string) []string {
	t.Helper()
	config := only[*corev1.ConfigMap](t, ms, "-exporter")
	path := writeFile(t, filepath.Join(dir, "config.yml"), []byte(config.Data["config.yml"]))
	args := slices.Clone(only[*appsv1.Deployment](t, ms, "").Spec.Template.Spec.Containers[0].Args)
	for i, a := range args {
		if a == "--config.file="+configPath {
			args[i] = "--config.file=" + path
		}
	}
	return args
}

// TestHelmProbesAnswer starts the binary as the pod would (on loopback, and
// with members on loopback so that nothing leaves the machine) and asks the
// liveness and readiness probes' paths on the port they name.
func TestHelmProbesAnswer(t *testing.T) {
	ms := rendered(t, "")
	dir := t.TempDir()
	args := podArgs(t, ms, dir)
	writeFile(t, filepath.Join(dir, "config.yml"), []byte("ensembles:\n  - name: local\n    members: [{address: \"127.0.0.1:1\"}]\n"))
	addr := freeLoopbackAddress(t)
	for i, a := range args {
		if strings.HasPrefix(a, "--web.listen-address=") {
			args[i] = "--web.listen-address=" + addr
		}
	}
	startExporter(t, addr, args...)
	c := only[*appsv1.Deployment](t, ms, "").Spec.Template.Spec.Containers[0]
	for name, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", name)
			continue
		}
		if port := probe.HTTPGet.Port.String(); port != c.Ports[0].Name {
			t.Errorf("%s probe on port %s, not the container's %s", name, port, c.Ports[0].Name)
		}
		resp, err := http.Get("http://" + addr + probe.HTTPGet.Path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s probe %s: %s", name, probe.HTTPGet.Path, resp.Status)
		}
	}
}

// TestHelmPrometheusRule: the rendered PrometheusRule holds the binary's
// rules, and Prometheus accepts them.
func TestHelmPrometheusRule(t *testing.T) {
	promtool := tool(t, "promtool", "apt-get install prometheus")
	pr := only[*monitoringv1.PrometheusRule](t, rendered(t, "ci/statefulset-values.yaml"), "")
	groups, err := yaml.Marshal(map[string]any{"groups": pr.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, promtool, "check", "rules", writeFile(t, filepath.Join(t.TempDir(), "rules.yml"), groups))
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool check rules:\n%s", out)
	}
	var want monitoringv1.PrometheusRuleSpec
	if err := yaml.UnmarshalStrict(generatedRules(t), &want); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(pr.Spec.Groups, want.Groups, func(a, b monitoringv1.RuleGroup) bool { return jsonEqual(t, a, b) }) {
		t.Error("the rendered PrometheusRule's groups differ from `zookeeper_exporter rules`")
	}
}

// TestHelmDashboards: the dashboards ConfigMap carries Grafana's sidecar
// label and every dashboard the binary generates, unchanged.
func TestHelmDashboards(t *testing.T) {
	cm := only[*corev1.ConfigMap](t, rendered(t, "ci/statefulset-values.yaml"), "-dashboards")
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboards ConfigMap labels %v: no grafana_dashboard: \"1\"", cm.Labels)
	}
	want := generatedDashboards(t)
	if got := slices.Sorted(maps.Keys(cm.Data)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Fatalf("dashboards %v, want %v", got, slices.Sorted(maps.Keys(want)))
	}
	for name, b := range want {
		if !json.Valid([]byte(cm.Data[name])) || cm.Data[name] != string(b) {
			t.Errorf("dashboard %s differs from the generated one", name)
		}
	}
}

// TestHelmChartRulesUpToDate: the chart's copy of the rules and dashboards
// is what the binary generates now. It runs without helm, with -short too.
func TestHelmChartRulesUpToDate(t *testing.T) {
	const fix = "run `make helm-rules` and commit the result"
	if !bytes.Equal(readFile(t, chartRules), generatedRules(t)) {
		t.Errorf("%s is stale: %s", chartRules, fix)
	}
	entries, err := os.ReadDir(chartDashboard)
	if err != nil {
		t.Fatal(err)
	}
	want := generatedDashboards(t)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
		if b, ok := want[e.Name()]; !ok || !bytes.Equal(readFile(t, filepath.Join(chartDashboard, e.Name())), b) {
			t.Errorf("%s/%s is stale: %s", chartDashboard, e.Name(), fix)
		}
	}
	if !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Errorf("%s holds %v, want %v: %s", chartDashboard, got, slices.Sorted(maps.Keys(want)), fix)
	}
}

// generatedRules is `zookeeper_exporter rules` with no flags.
func generatedRules(t *testing.T) []byte {
	t.Helper()
	b, err := rules.Generate(rules.Options{Format: rules.FormatPrometheus, Config: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// generatedDashboards is what `zookeeper_exporter rules --rules.dashboards-dir` writes.
func generatedDashboards(t *testing.T) map[string][]byte {
	t.Helper()
	d, err := rules.Dashboards(map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

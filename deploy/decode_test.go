package deploy

import (
	"fmt"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// kubeTypes are the Go types of every kind the chart may render. A kind not
// listed here fails the decode: a new template needs its type added.
var kubeTypes = map[string]func() any{
	"apps/v1 Deployment": func() any { return &appsv1.Deployment{} },
	"v1 Service":         func() any { return &corev1.Service{} },
	"v1 ConfigMap":       func() any { return &corev1.ConfigMap{} },
	"v1 ServiceAccount":  func() any { return &corev1.ServiceAccount{} },
	"monitoring.coreos.com/v1 ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1 PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
}

// manifest is one rendered document, decoded.
type manifest struct {
	kind string // "apiVersion Kind"
	name string
	obj  any
	doc  string
}

// splitDocuments splits a multi-document YAML stream, dropping documents
// with nothing but comments.
func splitDocuments(stream string) []string {
	var docs []string
	for _, doc := range strings.Split("\n"+stream, "\n---") {
		for _, line := range strings.Split(doc, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, strings.TrimPrefix(doc, "\n"))
				break
			}
		}
	}
	return docs
}

// decodeStrict decodes doc into the Go type of its kind, refusing unknown
// and duplicate fields: what the API server's strict field validation does.
func decodeStrict(doc string) (manifest, error) {
	return decode(doc, func(b []byte, obj any) error { return yaml.UnmarshalStrict(b, obj) })
}

// decodeLax is decodeStrict without the strictness, to show what it adds.
func decodeLax(doc string) (manifest, error) {
	return decode(doc, func(b []byte, obj any) error { return yaml.Unmarshal(b, obj) })
}

func decode(doc string, unmarshal func([]byte, any) error) (manifest, error) {
	var head struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        struct{ Name string } `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
		return manifest{}, fmt.Errorf("reading apiVersion and kind: %w", err)
	}
	m := manifest{kind: head.APIVersion + " " + head.Kind, name: head.Metadata.Name, doc: doc}
	newObj, ok := kubeTypes[m.kind]
	if !ok {
		return m, fmt.Errorf("%s %s: no Go type known for this kind", m.kind, m.name)
	}
	m.obj = newObj()
	if err := unmarshal([]byte(doc), m.obj); err != nil {
		return m, fmt.Errorf("%s %s: %w", m.kind, m.name, err)
	}
	return m, nil
}

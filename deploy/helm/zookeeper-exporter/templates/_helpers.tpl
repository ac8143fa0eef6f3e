{{/* Chart name, cut to the 63 characters Kubernetes names allow. */}}
{{- define "zookeeper-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified name: the release name, unless it already holds the chart's. */}}
{{- define "zookeeper-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "zookeeper-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "zookeeper-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zookeeper-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "zookeeper-exporter.labels" -}}
helm.sh/chart: {{ include "zookeeper-exporter.chart" . }}
{{ include "zookeeper-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "zookeeper-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "zookeeper-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The exporter's configuration file, rendered once for the ConfigMap and its checksum. */}}
{{- define "zookeeper-exporter.config" -}}
{{- required "config: the exporter needs at least one ensemble" .Values.config | toYaml }}
{{- end }}

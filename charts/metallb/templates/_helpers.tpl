{{/* Chart name, truncated to 63 characters. */}}
{{- define "metallb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, unless it does not contain the
chart name (then <release>-<chart>). Truncated to 63 characters.
*/}}
{{- define "metallb.fullname" -}}
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

{{- define "metallb.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "metallb.labels" -}}
helm.sh/chart: {{ include "metallb.chart" . }}
{{ include "metallb.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the Pods (plus app.kubernetes.io/component). */}}
{{- define "metallb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "metallb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "metallb.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create }}
{{- default (printf "%s-controller" (include "metallb.fullname" .)) .Values.controller.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.controller.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "metallb.speaker.serviceAccountName" -}}
{{- if .Values.speaker.serviceAccount.create }}
{{- default (printf "%s-speaker" (include "metallb.fullname" .)) .Values.speaker.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.speaker.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The memberlist Secret: created by the controller, read by the speakers. */}}
{{- define "metallb.secretName" -}}
{{- default (printf "%s-memberlist" (include "metallb.fullname" .)) .Values.speaker.secretName }}
{{- end }}

{{/* The speaker Pods' memberlist selector (METALLB_ML_LABELS). */}}
{{- define "metallb.mlLabels" -}}
app.kubernetes.io/name={{ include "metallb.name" . }},app.kubernetes.io/component=speaker
{{- end }}

{{/* Fixed names, as in MetalLB (the certificate names the Service). */}}
{{- define "metallb.webhookService" -}}metallb-webhook-service{{- end }}
{{- define "metallb.webhookSecret" -}}metallb-webhook-cert{{- end }}
{{- define "metallb.webhookConfiguration" -}}metallb-webhook-configuration{{- end }}
{{- define "metallb.leaderElectionID" -}}metallb-controller{{- end }}

{{/* Whether the controller serves the webhooks. */}}
{{- define "metallb.webhooksEnabled" -}}
{{- if and .Values.controller.enabled (ne .Values.controller.webhookMode "disabled") }}true{{- end }}
{{- end }}

{{/* The --tls-* flags of the metrics servers. */}}
{{- define "metallb.tlsArgs" -}}
{{- with .Values.tls.minVersion }}
- --tls-min-version={{ . }}
{{- end }}
{{- with .Values.tls.cipherSuites }}
- --tls-cipher-suites={{ . }}
{{- end }}
{{- with .Values.tls.curvePreferences }}
- --tls-curve-preferences={{ . }}
{{- end }}
{{- end }}

{{/* An HTTP probe on the health port; $host is "" or 127.0.0.1. */}}
{{- define "metallb.probe" -}}
{{- $p := index . 0 }}{{- $path := index . 1 }}{{- $host := index . 2 }}
httpGet:
  {{- with $host }}
  host: {{ . }}
  {{- end }}
  path: {{ $path }}
  port: 17472
initialDelaySeconds: {{ $p.initialDelaySeconds }}
periodSeconds: {{ $p.periodSeconds }}
timeoutSeconds: {{ $p.timeoutSeconds }}
successThreshold: {{ $p.successThreshold }}
failureThreshold: {{ $p.failureThreshold }}
{{- end }}

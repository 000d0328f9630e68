{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "az-evac.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, or <release>-<chart> when the release name does not contain the chart's. */}}
{{- define "az-evac.fullname" -}}
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

{{/* Labels of every object. */}}
{{- define "az-evac.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "az-evac.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component (pass a dict: ctx, component). */}}
{{- define "az-evac.selectorLabels" -}}
app.kubernetes.io/name: {{ include "az-evac.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Name of the pods' ServiceAccount. */}}
{{- define "az-evac.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "az-evac.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference. */}}
{{- define "az-evac.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The tier policy text: tiersPolicy, else the chart's files/tiers.yaml. */}}
{{- define "az-evac.tiersPolicy" -}}
{{- if .Values.tiersPolicy }}{{ .Values.tiersPolicy }}{{ else }}{{ .Files.Get "files/tiers.yaml" }}{{ end }}
{{- end }}

{{/* Environment shared by the worker and the console (settings of config/settings.ts). */}}
{{- define "az-evac.commonEnv" -}}
- name: AZ_EVAC_TEMPORAL_ADDRESS
  value: {{ required "temporal.address is required (Temporal frontend host:port)" .Values.temporal.address | quote }}
- name: AZ_EVAC_TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
- name: AZ_EVAC_TASK_QUEUE
  value: {{ .Values.temporal.taskQueue | quote }}
- name: AZ_EVAC_STATE
  value: /var/lib/az-evac
- name: AZ_EVAC_TIERS
  value: /etc/az-evac/config/tiers.yaml
- name: AZ_EVAC_PLATFORM
  value: k8s
- name: AZ_EVAC_PLATFORM_PROFILE
  value: /etc/az-evac/config/platform.json
- name: AZ_EVAC_KUBECONFIG
  value: /etc/az-evac/kube/{{ .Values.platform.kubeconfigSecret.key }}
{{- with .Values.platform.kubeContexts }}
- name: AZ_EVAC_KUBE_CONTEXTS
  value: {{ . | quote }}
{{- end }}
{{- with .Values.s3.endpoints }}
- name: AZ_EVAC_S3_ENDPOINTS
  value: {{ . | quote }}
{{- end }}
- name: AZ_EVAC_S3_REGION
  value: {{ .Values.s3.region | quote }}
- name: AZ_EVAC_S3_ADDRESSING
  value: {{ .Values.s3.addressing | quote }}
- name: AZ_EVAC_STATE_STORE
  value: {{ .Values.state.store | quote }}
{{- if eq .Values.state.store "s3" }}
- name: AZ_EVAC_STATE_BUCKETS
  value: {{ required "state.buckets: the state bucket of each AZ, az-a=bucket,az-b=bucket (required with state.store=s3)" .Values.state.buckets | quote }}
- name: AZ_EVAC_STATE_PREFIX
  value: {{ .Values.state.prefix | quote }}
{{- end }}
{{- with .Values.s3.credentialsSecret }}
- name: AZ_EVAC_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef: { name: {{ . | quote }}, key: AZ_EVAC_S3_ACCESS_KEY }
- name: AZ_EVAC_S3_SECRET_KEY
  valueFrom:
    secretKeyRef: { name: {{ . | quote }}, key: AZ_EVAC_S3_SECRET_KEY }
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volumes shared by the worker and the console. */}}
{{- define "az-evac.commonVolumes" -}}
- name: config
  configMap:
    name: {{ include "az-evac.fullname" . }}
- name: kubeconfig
  secret:
    secretName: {{ required "platform.kubeconfigSecret.name is required (a Secret with a kubeconfig of one context per AZ)" .Values.platform.kubeconfigSecret.name }}
    items:
      - key: {{ .Values.platform.kubeconfigSecret.key }}
        path: {{ .Values.platform.kubeconfigSecret.key }}
- name: state
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- end }}

{{- define "az-evac.commonVolumeMounts" -}}
- name: config
  mountPath: /etc/az-evac/config
  readOnly: true
- name: kubeconfig
  mountPath: /etc/az-evac/kube
  readOnly: true
- name: state
  mountPath: /var/lib/az-evac
- name: tmp
  mountPath: /tmp
{{- end }}

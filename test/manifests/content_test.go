package manifests

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ferrolb/ferrolb/internal/l2/announcer"
	"github.com/ferrolb/ferrolb/test/cluster"
)

// install names the objects of one rendering (kustomize and Helm name
// them differently).
type install struct {
	controller, speaker     string // Deployment, DaemonSet
	controllerSA, speakerSA string // ServiceAccounts
	memberlist              string // memberlist Secret
	failurePolicy           admissionv1.FailurePolicyType
	controllerImage         string
	speakerImage            string
	lbClass                 string // expected --lb-class, "" for none
	controllerRole          string // ClusterRole
	speakerRole             string
}

var kustomizeInstall = install{
	controller: "controller", speaker: "speaker",
	controllerSA: "controller", speakerSA: "speaker",
	memberlist:      "memberlist",
	failurePolicy:   admissionv1.Ignore,
	controllerImage: "ghcr.io/ferrolb/controller:dev",
	speakerImage:    "ghcr.io/ferrolb/speaker:dev",
	controllerRole:  "metallb-system:controller",
	speakerRole:     "metallb-system:speaker",
}

var helmInstall = install{
	controller: "metallb-controller", speaker: "metallb-speaker",
	controllerSA: "metallb-controller", speakerSA: "metallb-speaker",
	memberlist:      "metallb-memberlist",
	failurePolicy:   admissionv1.Ignore,
	controllerImage: "ghcr.io/ferrolb/controller:dev",
	speakerImage:    "ghcr.io/ferrolb/speaker:dev",
	controllerRole:  "metallb:controller",
	speakerRole:     "metallb:speaker",
}

// TestKustomizeNative checks the content of config/native.
func TestKustomizeNative(t *testing.T) {
	objs := decode(t, kustomizeBuild(t, "config/native"))
	checkInstall(t, objs, kustomizeInstall)

	var ns corev1.Namespace
	objs.typed(t, "Namespace", namespace, &ns)
	for _, mode := range []string{"enforce", "audit", "warn"} {
		if got := ns.Labels["pod-security.kubernetes.io/"+mode]; got != "privileged" {
			t.Errorf("namespace label pod-security.kubernetes.io/%s = %q; want privileged", mode, got)
		}
	}
	// MetalLB's object names, which scripts and docs refer to.
	for _, want := range []string{
		"ServiceAccount/controller", "ServiceAccount/speaker",
		"ClusterRole/metallb-system:controller", "ClusterRole/metallb-system:speaker",
		"Role/controller", "Role/pod-lister",
		"ClusterRoleBinding/metallb-system:controller", "ClusterRoleBinding/metallb-system:speaker",
		"RoleBinding/controller", "RoleBinding/pod-lister",
		"ConfigMap/metallb-excludel2", "Secret/metallb-webhook-cert", "Service/metallb-webhook-service",
		"ValidatingWebhookConfiguration/metallb-webhook-configuration",
	} {
		if !slices.Contains(objs.names(), want) {
			t.Errorf("config/native has no %s", want)
		}
	}
	for _, u := range objs {
		if u.GetNamespace() != "" && u.GetNamespace() != namespace {
			t.Errorf("%s/%s is in namespace %q", u.GetKind(), u.GetName(), u.GetNamespace())
		}
	}

	// The memberlist labels select the speaker Pods (exactly MetalLB's).
	var ds appsv1.DaemonSet
	objs.typed(t, "DaemonSet", "speaker", &ds)
	if got := envValue(ds.Spec.Template.Spec.Containers[0], "METALLB_ML_LABELS"); got != "app=metallb,component=speaker" {
		t.Errorf("METALLB_ML_LABELS = %q; want app=metallb,component=speaker", got)
	}
	if got := ds.Spec.Template.Spec.TerminationGracePeriodSeconds; got == nil || *got != 2 {
		t.Errorf("speaker terminationGracePeriodSeconds = %v; want 2", got)
	}
}

// TestKustomizePrometheus checks what config/prometheus-native adds.
func TestKustomizePrometheus(t *testing.T) {
	native := decode(t, kustomizeBuild(t, "config/native"))
	objs := decode(t, kustomizeBuild(t, "config/prometheus-native"))
	checkInstall(t, objs, kustomizeInstall)
	if len(objs) <= len(native) {
		t.Fatalf("config/prometheus-native has %d objects, config/native %d", len(objs), len(native))
	}
	for _, c := range []string{"controller", "speaker"} {
		sm := objs.get("ServiceMonitor", c+"-monitor")
		if sm == nil {
			t.Fatalf("no ServiceMonitor %s-monitor among %v", c, objs.names())
		}
		svc := serviceFor(t, objs, sm)
		checkMonitorService(t, objs, svc, c)
	}
	if objs.get("ClusterRole", "metallb-system:metrics-reader") == nil {
		t.Errorf("no ClusterRole for reading /metrics")
	}
}

// TestKustomizeNetworkPolicies checks config/networkpolicies.
func TestKustomizeNetworkPolicies(t *testing.T) {
	objs := decode(t, kustomizeBuild(t, "config/networkpolicies"))
	checkNetworkPolicies(t, objs, decode(t, kustomizeBuild(t, "config/native")), "controller")
}

// update rewrites the generated copies (rendered manifests, chart CRDs)
// instead of comparing them, like config/manifests/render.sh.
var update = flag.Bool("update", false, "rewrite config/manifests/*.yaml and the chart's CRD copies")

// TestRenderedManifestsUpToDate: config/manifests holds exactly what
// kustomize renders (regenerate with config/manifests/render.sh or
// -update).
func TestRenderedManifestsUpToDate(t *testing.T) {
	for dir, file := range map[string]string{
		"config/native":            "config/manifests/metallb-native.yaml",
		"config/prometheus-native": "config/manifests/metallb-native-prometheus.yaml",
	} {
		want := kustomizeBuild(t, dir)
		if *update {
			writeFile(t, file, want)
		}
		got := readFile(t, file)
		if d := firstDiff(string(got), string(want)); d != "" {
			t.Errorf("%s is not `kustomize build %s` (run config/manifests/render.sh): %s", file, dir, d)
		}
		t.Logf("%s: %d bytes, %d objects", file, len(got), len(decode(t, got)))
	}
}

// TestChartCRDsMatchBases: the chart's CRDs are the generated ones,
// byte for byte (config/manifests/render.sh or -update copies them).
func TestChartCRDsMatchBases(t *testing.T) {
	root := repoRoot(t)
	const basesDir, chartDir = "config/crd/bases", "charts/metallb/charts/crds/files"
	list := func(dir string) []string {
		m, err := filepath.Glob(filepath.Join(root, dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range m {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	bases := list(basesDir)
	if len(bases) != 9 {
		t.Errorf("%s has %d CRDs; want 9", basesDir, len(bases))
	}
	if *update {
		for _, f := range list(chartDir) {
			if err := os.Remove(filepath.Join(root, chartDir, f)); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range bases {
			writeFile(t, filepath.Join(chartDir, f), readFile(t, filepath.Join(basesDir, f)))
		}
	}
	if chart := list(chartDir); !slices.Equal(bases, chart) {
		t.Fatalf("chart CRDs %v; want %v (run config/manifests/render.sh)", chart, bases)
	}
	for _, f := range bases {
		a := readFile(t, filepath.Join(basesDir, f))
		b := readFile(t, filepath.Join(chartDir, f))
		if d := firstDiff(string(b), string(a)); d != "" {
			t.Errorf("%s/%s differs from %s (run config/manifests/render.sh): %s", chartDir, f, basesDir, d)
		}
	}
}

// firstDiff describes the first line where got and want differ ("" if
// they are equal).
func firstDiff(got, want string) string {
	if got == want {
		return ""
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			return fmt.Sprintf("line %d: have %q, want %q", i+1, gl, wl)
		}
	}
	return "they differ"
}

func writeFile(t *testing.T, rel string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(repoRoot(t), rel), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkInstall checks what every rendering must have.
func checkInstall(t *testing.T, objs objects, in install) {
	t.Helper()
	checkWebhooks(t, objs, in.failurePolicy)
	checkCRDs(t, objs)
	ctl := checkController(t, objs, in)
	checkSpeaker(t, objs, in)

	// The webhook Service reaches the controller's webhook port.
	var svc corev1.Service
	objs.typed(t, "Service", "metallb-webhook-service", &svc)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 443 || svc.Spec.Ports[0].TargetPort.String() != "webhook-server" {
		t.Errorf("metallb-webhook-service ports %+v; want 443 -> webhook-server", svc.Spec.Ports)
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(ctl.Spec.Template.Labels)) || len(svc.Spec.Selector) == 0 {
		t.Errorf("metallb-webhook-service selector %v does not select the controller Pods %v", svc.Spec.Selector, ctl.Spec.Template.Labels)
	}
	if objs.get("Secret", "metallb-webhook-cert") == nil {
		t.Errorf("no Secret metallb-webhook-cert")
	}

	// RBAC: each ServiceAccount is bound to its roles.
	for sa, role := range map[string]string{in.controllerSA: in.controllerRole, in.speakerSA: in.speakerRole} {
		if objs.get("ServiceAccount", sa) == nil {
			t.Errorf("no ServiceAccount %s", sa)
		}
		bound := false
		for _, u := range objs.ofKind("ClusterRoleBinding") {
			var b rbacv1.ClusterRoleBinding
			objs.typed(t, "ClusterRoleBinding", u.GetName(), &b)
			for _, s := range b.Subjects {
				if s.Kind == "ServiceAccount" && s.Name == sa && s.Namespace == namespace && b.RoleRef.Name == role {
					bound = true
				}
			}
		}
		if !bound {
			t.Errorf("ServiceAccount %s is not bound to ClusterRole %s", sa, role)
		}
	}
}

func checkWebhooks(t *testing.T, objs objects, policy admissionv1.FailurePolicyType) {
	t.Helper()
	var vwc admissionv1.ValidatingWebhookConfiguration
	objs.typed(t, "ValidatingWebhookConfiguration", "metallb-webhook-configuration", &vwc)
	if len(vwc.Webhooks) != len(wantWebhooks) {
		t.Errorf("%d webhooks; want %d", len(vwc.Webhooks), len(wantWebhooks))
	}
	for _, w := range wantWebhooks {
		i := slices.IndexFunc(vwc.Webhooks, func(h admissionv1.ValidatingWebhook) bool { return h.Name == w.name })
		if i < 0 {
			t.Errorf("no webhook %s", w.name)
			continue
		}
		h := vwc.Webhooks[i]
		svc := h.ClientConfig.Service
		if svc == nil || svc.Name != "metallb-webhook-service" || svc.Namespace != namespace || svc.Path == nil || *svc.Path != w.path {
			t.Errorf("webhook %s client config %+v; want metallb-webhook-service.%s %s", w.name, svc, namespace, w.path)
		}
		if h.FailurePolicy == nil || *h.FailurePolicy != policy {
			t.Errorf("webhook %s failurePolicy %v; want %s", w.name, h.FailurePolicy, policy)
		}
		if h.SideEffects == nil || *h.SideEffects != admissionv1.SideEffectClassNone {
			t.Errorf("webhook %s sideEffects %v; want None", w.name, h.SideEffects)
		}
		if !slices.Equal(h.AdmissionReviewVersions, []string{"v1"}) {
			t.Errorf("webhook %s admissionReviewVersions %v; want [v1]", w.name, h.AdmissionReviewVersions)
		}
		if len(h.Rules) != 1 {
			t.Errorf("webhook %s has %d rules; want 1", w.name, len(h.Rules))
			continue
		}
		r := h.Rules[0]
		var ops []string
		for _, op := range r.Operations {
			ops = append(ops, string(op))
		}
		if !slices.Equal(r.APIGroups, []string{"metallb.io"}) || !slices.Equal(r.APIVersions, []string{w.version}) ||
			!slices.Equal(r.Resources, []string{w.resource}) || !slices.Equal(ops, w.operations) {
			t.Errorf("webhook %s rule %+v; want metallb.io/%s %s %v", w.name, r, w.version, w.resource, w.operations)
		}
	}
}

func checkCRDs(t *testing.T, objs objects) {
	t.Helper()
	crds := objs.ofKind("CustomResourceDefinition")
	if len(crds) != 9 {
		t.Errorf("%d CRDs; want 9", len(crds))
	}
	var peers apiextensionsv1.CustomResourceDefinition
	objs.typed(t, "CustomResourceDefinition", "bgppeers.metallb.io", &peers)
	c := peers.Spec.Conversion
	if c == nil || c.Strategy != apiextensionsv1.WebhookConverter || c.Webhook == nil || c.Webhook.ClientConfig == nil ||
		c.Webhook.ClientConfig.Service == nil || c.Webhook.ClientConfig.Service.Name != "metallb-webhook-service" ||
		c.Webhook.ClientConfig.Service.Namespace != namespace || c.Webhook.ClientConfig.Service.Path == nil ||
		*c.Webhook.ClientConfig.Service.Path != "/convert" {
		t.Errorf("bgppeers.metallb.io conversion %+v; want the webhook metallb-webhook-service /convert", c)
	}
}

func checkController(t *testing.T, objs objects, in install) *appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	objs.typed(t, "Deployment", in.controller, &d)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("controller replicas %v; want 2", d.Spec.Replicas)
	}
	ps := d.Spec.Template.Spec
	if ps.ServiceAccountName != in.controllerSA {
		t.Errorf("controller serviceAccountName %q; want %q", ps.ServiceAccountName, in.controllerSA)
	}
	if ps.HostNetwork {
		t.Errorf("the controller uses the host network")
	}
	if len(ps.Containers) != 1 {
		t.Fatalf("controller has %d containers; want 1", len(ps.Containers))
	}
	c := ps.Containers[0]
	if c.Image != in.controllerImage {
		t.Errorf("controller image %q; want %q", c.Image, in.controllerImage)
	}
	checkArgs(t, "./cmd/controller", c.Args, in.lbClass)
	if got := envValue(c, "METALLB_ML_SECRET_NAME"); got != in.memberlist {
		t.Errorf("controller METALLB_ML_SECRET_NAME = %q; want %q", got, in.memberlist)
	}
	if got := envValue(c, "METALLB_DEPLOYMENT"); got != in.controller {
		t.Errorf("controller METALLB_DEPLOYMENT = %q; want %q", got, in.controller)
	}
	checkFieldEnv(t, "controller", c, map[string]string{
		"METALLB_NAMESPACE": "metadata.namespace",
		"METALLB_POD_NAME":  "metadata.name",
	})
	checkPorts(t, "controller", c, map[string]corev1.ContainerPort{
		"metricshttps":   {ContainerPort: 9120, Protocol: corev1.ProtocolTCP},
		"webhook-server": {ContainerPort: 9443, Protocol: corev1.ProtocolTCP},
	})
	checkProbes(t, "controller", c, "")

	// Non-root, read-only, no capability at all.
	psc := ps.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65534 {
		t.Errorf("controller pod securityContext %+v; want runAsNonRoot, runAsUser 65534", psc)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
		t.Errorf("controller container securityContext %+v; want read-only, no privilege escalation, drop ALL, add nothing", sc)
	}
	// The webhook certificate Secret is mounted where the controller
	// looks for it (--cert-dir default).
	if !mounts(ps, c, "/tmp/k8s-webhook-server/serving-certs", func(v corev1.Volume) bool {
		return v.Secret != nil && v.Secret.SecretName == "metallb-webhook-cert"
	}) {
		t.Errorf("the controller does not mount Secret metallb-webhook-cert at /tmp/k8s-webhook-server/serving-certs")
	}
	return &d
}

func checkSpeaker(t *testing.T, objs objects, in install) {
	t.Helper()
	var ds appsv1.DaemonSet
	objs.typed(t, "DaemonSet", in.speaker, &ds)
	ps := ds.Spec.Template.Spec
	if !ps.HostNetwork {
		t.Errorf("the speaker does not use the host network")
	}
	if ps.ServiceAccountName != in.speakerSA {
		t.Errorf("speaker serviceAccountName %q; want %q", ps.ServiceAccountName, in.speakerSA)
	}
	if len(ps.Containers) != 1 {
		t.Fatalf("speaker has %d containers; want 1", len(ps.Containers))
	}
	c := ps.Containers[0]
	if c.Image != in.speakerImage {
		t.Errorf("speaker image %q; want %q", c.Image, in.speakerImage)
	}
	checkArgs(t, "./cmd/speaker", c.Args, in.lbClass)
	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
		!slices.Equal(sc.Capabilities.Add, []corev1.Capability{"NET_RAW"}) ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		(sc.Privileged != nil && *sc.Privileged) {
		t.Errorf("speaker securityContext %+v; want drop ALL, add only NET_RAW, read-only root, not privileged", sc)
	}
	checkFieldEnv(t, "speaker", c, map[string]string{
		"METALLB_NODE_NAME":    "spec.nodeName",
		"METALLB_POD_NAME":     "metadata.name",
		"METALLB_NAMESPACE":    "metadata.namespace",
		"METALLB_HOST":         "status.hostIP",
		"METALLB_ML_BIND_ADDR": "status.podIP",
	})
	// The memberlist labels select exactly the speaker Pods.
	sel, err := labels.Parse(envValue(c, "METALLB_ML_LABELS"))
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(ds.Spec.Template.Labels)) {
		t.Errorf("METALLB_ML_LABELS %q (%v) does not select the speaker Pods %v", envValue(c, "METALLB_ML_LABELS"), err, ds.Spec.Template.Labels)
	}
	keyPath := envValue(c, "METALLB_ML_SECRET_KEY_PATH")
	if keyPath != "/etc/ml_secret_key" {
		t.Errorf("METALLB_ML_SECRET_KEY_PATH = %q; want /etc/ml_secret_key", keyPath)
	}
	if !mounts(ps, c, keyPath, func(v corev1.Volume) bool { return v.Secret != nil && v.Secret.SecretName == in.memberlist }) {
		t.Errorf("the speaker does not mount Secret %s at %s", in.memberlist, keyPath)
	}
	// The interface exclusions are where the speaker reads them
	// (--l2-exclude-file default), in the format it parses.
	if !mounts(ps, c, "/etc/metallb", func(v corev1.Volume) bool {
		return v.ConfigMap != nil && v.ConfigMap.Name == "metallb-excludel2"
	}) {
		t.Errorf("the speaker does not mount ConfigMap metallb-excludel2 at /etc/metallb")
	}
	checkExcludeL2(t, objs)
	checkPorts(t, "speaker", c, map[string]corev1.ContainerPort{
		"metricshttps":   {ContainerPort: 9120, Protocol: corev1.ProtocolTCP},
		"memberlist-tcp": {ContainerPort: 7946, Protocol: corev1.ProtocolTCP},
		"memberlist-udp": {ContainerPort: 7946, Protocol: corev1.ProtocolUDP},
	})
	checkProbes(t, "speaker", c, "127.0.0.1")
	for _, key := range []string{"node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"} {
		if !slices.ContainsFunc(ps.Tolerations, func(tol corev1.Toleration) bool {
			return tol.Key == key && tol.Effect == corev1.TaintEffectNoSchedule && tol.Operator == corev1.TolerationOpExists
		}) {
			t.Errorf("the speaker does not tolerate %s:NoSchedule", key)
		}
	}
	if ps.NodeSelector["kubernetes.io/os"] != "linux" {
		t.Errorf("speaker nodeSelector %v; want kubernetes.io/os: linux", ps.NodeSelector)
	}
}

func checkExcludeL2(t *testing.T, objs objects) {
	t.Helper()
	var cm corev1.ConfigMap
	objs.typed(t, "ConfigMap", "metallb-excludel2", &cm)
	path := filepath.Join(t.TempDir(), "excludel2.yaml")
	if err := os.WriteFile(path, []byte(cm.Data["excludel2.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := announcer.ReadExcludeFile(path)
	if err != nil {
		t.Fatalf("the speaker cannot read ConfigMap metallb-excludel2: %v", err)
	}
	for _, want := range []string{"^docker.*", "^veth.*", "^lo$", "^cali.*", "^kube-ipvs.*"} {
		if !slices.Contains(got, want) {
			t.Errorf("metallb-excludel2 lacks %s: %v", want, got)
		}
	}
	for _, re := range got {
		if _, err := regexp.Compile(re); err != nil {
			t.Errorf("metallb-excludel2: %v", err)
		}
	}
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func checkFieldEnv(t *testing.T, who string, c corev1.Container, want map[string]string) {
	t.Helper()
	for name, path := range want {
		i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
		if i < 0 {
			t.Errorf("%s has no env %s", who, name)
			continue
		}
		e := c.Env[i]
		if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != path {
			t.Errorf("%s env %s = %+v; want fieldRef %s", who, name, e, path)
		}
	}
}

func checkPorts(t *testing.T, who string, c corev1.Container, want map[string]corev1.ContainerPort) {
	t.Helper()
	for name, w := range want {
		i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == name })
		if i < 0 {
			t.Errorf("%s has no port %s", who, name)
			continue
		}
		if p := c.Ports[i]; p.ContainerPort != w.ContainerPort || p.Protocol != w.Protocol {
			t.Errorf("%s port %s = %d/%s; want %d/%s", who, name, p.ContainerPort, p.Protocol, w.ContainerPort, w.Protocol)
		}
	}
}

// checkProbes: liveness /healthz and readiness /readyz on 17472, at host
// (empty: the Pod IP).
func checkProbes(t *testing.T, who string, c corev1.Container, host string) {
	t.Helper()
	for kind, p := range map[string]struct {
		probe *corev1.Probe
		path  string
	}{"liveness": {c.LivenessProbe, "/healthz"}, "readiness": {c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s has no HTTP %s probe", who, kind)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || g.Port.IntValue() != 17472 || g.Host != host {
			t.Errorf("%s %s probe %+v; want %s on %q:17472", who, kind, g, p.path, host)
		}
	}
}

// mounts reports whether c mounts, at path, a volume of ps matching ok.
func mounts(ps corev1.PodSpec, c corev1.Container, path string, ok func(corev1.Volume) bool) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for _, v := range ps.Volumes {
			if v.Name == m.Name && ok(v) {
				return true
			}
		}
	}
	return false
}

var binFlags sync.Map // package -> map[string]bool

// flagsOf returns the flag names a binary of this module accepts, from
// its -h output.
func flagsOf(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	if v, ok := binFlags.Load(pkg); ok {
		return v.(map[string]bool)
	}
	bin, err := cluster.Binary(pkg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, "-h").CombinedOutput() // the exit status of -h does not matter
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if len(flags) < 10 || !flags["log-level"] {
		t.Fatalf("%s -h lists flags %v:\n%s", pkg, flags, out)
	}
	binFlags.Store(pkg, flags)
	return flags
}

// checkArgs: every argument is a flag of the binary, and --lb-class is
// set exactly when expected.
func checkArgs(t *testing.T, pkg string, args []string, lbClass string) {
	t.Helper()
	flags := flagsOf(t, pkg)
	gotClass := ""
	for _, a := range args {
		name, val, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !flags[name] {
			t.Errorf("%s: argument %q is not a flag of the binary", pkg, a)
		}
		if name == "lb-class" {
			gotClass = val
		}
	}
	if gotClass != lbClass {
		t.Errorf("%s: --lb-class %q; want %q", pkg, gotClass, lbClass)
	}
}

// serviceFor returns the Service a ServiceMonitor selects.
func serviceFor(t *testing.T, objs objects, sm *unstructured.Unstructured) *corev1.Service {
	t.Helper()
	u := sm
	sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels")
	var found *corev1.Service
	for _, s := range objs.ofKind("Service") {
		var svc corev1.Service
		objs.typed(t, "Service", s.GetName(), &svc)
		if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(svc.Labels)) {
			if found != nil {
				t.Errorf("ServiceMonitor %s selects Services %s and %s", sm.GetName(), found.Name, svc.Name)
			}
			found = &svc
		}
	}
	if found == nil {
		t.Fatalf("ServiceMonitor %s (selector %v) selects no Service", sm.GetName(), sel)
	}
	// The endpoint scrapes the metricshttps port over HTTPS with a token.
	eps, _, _ := unstructured.NestedSlice(u.Object, "spec", "endpoints")
	if len(eps) != 1 {
		t.Fatalf("ServiceMonitor %s has %d endpoints; want 1", sm.GetName(), len(eps))
	}
	ep := eps[0].(map[string]any)
	if ep["port"] != "metricshttps" || ep["scheme"] != "https" || ep["bearerTokenFile"] == nil {
		t.Errorf("ServiceMonitor %s endpoint %v; want port metricshttps, https, bearerTokenFile", sm.GetName(), ep)
	}
	return found
}

// checkMonitorService: a headless Service on 9120 selecting the
// component's Pods.
func checkMonitorService(t *testing.T, objs objects, svc *corev1.Service, component string) {
	t.Helper()
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("Service %s is not headless", svc.Name)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "metricshttps" || svc.Spec.Ports[0].Port != 9120 {
		t.Errorf("Service %s ports %+v; want metricshttps 9120", svc.Name, svc.Spec.Ports)
	}
	var podLabels map[string]string
	switch component {
	case "controller":
		for _, u := range objs.ofKind("Deployment") {
			var d appsv1.Deployment
			objs.typed(t, "Deployment", u.GetName(), &d)
			podLabels = d.Spec.Template.Labels
		}
	case "speaker":
		for _, u := range objs.ofKind("DaemonSet") {
			var d appsv1.DaemonSet
			objs.typed(t, "DaemonSet", u.GetName(), &d)
			podLabels = d.Spec.Template.Labels
		}
	}
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(podLabels)) {
		t.Errorf("Service %s selector %v does not select the %s Pods %v", svc.Name, svc.Spec.Selector, component, podLabels)
	}
}

// checkNetworkPolicies: a default deny and a controller policy that lets
// the controller reach the API server and receive webhook calls and
// scrapes on ports its Pod template names.
func checkNetworkPolicies(t *testing.T, policies, install objects, controller string) {
	t.Helper()
	nps := policies.ofKind("NetworkPolicy")
	if len(nps) != 2 {
		t.Fatalf("%d NetworkPolicies; want 2: %v", len(nps), policies.names())
	}
	var d appsv1.Deployment
	install.typed(t, "Deployment", controller, &d)
	ports := map[string]bool{}
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		ports[p.Name] = true
	}
	var sawDeny, sawController bool
	for _, u := range nps {
		var np struct {
			Spec struct {
				PodSelector struct {
					MatchLabels map[string]string `json:"matchLabels"`
				} `json:"podSelector"`
				PolicyTypes []string `json:"policyTypes"`
				Ingress     []struct {
					Ports []struct {
						Port any `json:"port"`
					} `json:"ports"`
				} `json:"ingress"`
				Egress []struct {
					Ports []struct {
						Port any `json:"port"`
					} `json:"ports"`
				} `json:"egress"`
			} `json:"spec"`
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &np); err != nil {
			t.Fatal(err)
		}
		if len(np.Spec.PodSelector.MatchLabels) == 0 {
			sawDeny = len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 && len(np.Spec.PolicyTypes) == 2
			continue
		}
		sawController = labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels))
		for _, in := range np.Spec.Ingress {
			for _, p := range in.Ports {
				if name, ok := p.Port.(string); ok && !ports[name] {
					t.Errorf("NetworkPolicy %s allows port %q, which the controller does not name", u.GetName(), name)
				}
			}
		}
		if len(np.Spec.Egress) == 0 {
			t.Errorf("NetworkPolicy %s lets the controller reach nothing (not even the API server)", u.GetName())
		}
	}
	if !sawDeny || !sawController {
		t.Errorf("default deny %v, controller policy %v; want both", sawDeny, sawController)
	}
}

package manifests

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/internal/metrics"
)

// helmMonitoring enables every monitoring object of the chart.
var helmMonitoring = []string{
	"--set", "prometheus.serviceMonitor.enabled=true",
	"--set", "prometheus.podMonitor.enabled=true",
	"--set", "prometheus.prometheusRule.enabled=true",
	"--set", "prometheus.serviceAccount=prometheus-k8s",
	"--set", "prometheus.namespace=monitoring",
	"--set", "prometheus.scrapeAnnotations=true",
	"--set", "grafanaDashboards.enabled=true",
}

// helmScenarios are the value sets the tests render (and the API server
// accepts, see TestServerAcceptsManifests).
var helmScenarios = []struct {
	name string
	args []string
}{
	{"defaults", nil},
	{"monitoring", helmMonitoring},
	{"no-rbac", []string{"--set", "rbac.create=false"}},
	{"no-speaker", []string{"--set", "speaker.enabled=false"}},
	{"lb-class", []string{"--set", "loadBalancerClass=example.com/ferrolb"}},
	{"images", []string{
		"--set", "controller.image.repository=registry.example/lb/controller", "--set", "controller.image.tag=v1.2.3",
		"--set", "speaker.image.repository=registry.example/lb/speaker", "--set", "speaker.image.tag=v1.2.3",
		"--set", "controller.image.pullPolicy=Always",
	}},
	{"networkpolicies", []string{"--set", "networkpolicies.enabled=true"}},
	{"webhooks-off", []string{"--set", "controller.webhookMode=disabled"}},
	{"fail-closed", []string{"--set", "crds.validationFailurePolicy=Fail"}},
	{"no-crds", []string{"--set", "crds.enabled=false"}},
	{"no-memberlist", []string{"--set", "speaker.memberlist.enabled=false", "--set", "speaker.excludeInterfaces.enabled=false"}},
	{"tls", []string{
		"--set", "tls.controllerMetricsTLSSecret=controller-metrics-tls", "--set", "tls.speakerMetricsTLSSecret=speaker-metrics-tls",
		"--set", "tls.minVersion=VersionTLS13", "--set", "tls.cipherSuites=TLS_AES_128_GCM_SHA256",
		"--set", "speaker.ignoreExcludeLB=true", "--set", "speaker.wanConfig=true",
		"--set", "controller.logLevel=debug", "--set", "speaker.logLevel=warn",
	}},
}

func scenario(t *testing.T, name string) objects {
	t.Helper()
	for _, s := range helmScenarios {
		if s.name == name {
			return mustHelm(t, s.args...)
		}
	}
	t.Fatalf("no scenario %q", name)
	return nil
}

// TestHelmDefaults: the default chart installs what config/native does,
// under Helm's names.
func TestHelmDefaults(t *testing.T) {
	objs := scenario(t, "defaults")
	checkInstall(t, objs, helmInstall)
	for _, kind := range []string{"ServiceMonitor", "PodMonitor", "PrometheusRule", "NetworkPolicy"} {
		if n := len(objs.ofKind(kind)); n > 0 {
			t.Errorf("defaults render %d %s", n, kind)
		}
	}
	for _, u := range objs {
		if u.GetNamespace() != "" && u.GetNamespace() != namespace {
			t.Errorf("%s/%s is in namespace %q", u.GetKind(), u.GetName(), u.GetNamespace())
		}
	}
	// The memberlist labels are Helm's (MetalLB's chart spells them so).
	var ds appsv1.DaemonSet
	objs.typed(t, "DaemonSet", helmInstall.speaker, &ds)
	if got := envValue(ds.Spec.Template.Spec.Containers[0], "METALLB_ML_LABELS"); got != "app.kubernetes.io/name=metallb,app.kubernetes.io/component=speaker" {
		t.Errorf("METALLB_ML_LABELS = %q", got)
	}
	// The CRDs are the generated ones, kept on uninstall, BGPPeer with its
	// conversion webhook (checked by checkInstall).
	base := decode(t, kustomizeBuild(t, "config/crd"))
	for _, u := range objs.ofKind("CustomResourceDefinition") {
		if u.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
			t.Errorf("CRD %s is not kept on uninstall", u.GetName())
		}
		var got, want apiextensionsv1.CustomResourceDefinition
		objs.typed(t, "CustomResourceDefinition", u.GetName(), &got)
		base.typed(t, "CustomResourceDefinition", u.GetName(), &want)
		a, _ := json.Marshal(got.Spec)
		b, _ := json.Marshal(want.Spec)
		if string(a) != string(b) {
			t.Errorf("CRD %s spec differs between the chart and config/crd", u.GetName())
		}
	}
}

// TestHelmRBACMatchesKustomize: the chart grants exactly the rules of
// config/rbac (names aside).
func TestHelmRBACMatchesKustomize(t *testing.T) {
	helm := scenario(t, "defaults")
	kust := decode(t, kustomizeBuild(t, "config/native"))
	// Helm names the memberlist Secret and the Deployment after the
	// release.
	rename := strings.NewReplacer("metallb-memberlist", "memberlist")
	norm := func(rules []rbacv1.PolicyRule) string {
		var out []string
		for _, r := range rules {
			for i, n := range r.ResourceNames {
				n = rename.Replace(n)
				if slices.Contains(r.Resources, "deployments") && n == "metallb-controller" {
					n = "controller"
				}
				r.ResourceNames[i] = n
			}
			b, _ := json.Marshal(r)
			out = append(out, string(b))
		}
		sort.Strings(out)
		return strings.Join(out, "\n")
	}
	for _, pair := range []struct{ kind, helm, kust string }{
		{"ClusterRole", "metallb:controller", "metallb-system:controller"},
		{"ClusterRole", "metallb:speaker", "metallb-system:speaker"},
		{"Role", "metallb-controller", "controller"},
		{"Role", "metallb-pod-lister", "pod-lister"},
	} {
		var h, k struct {
			Rules []rbacv1.PolicyRule `json:"rules"`
		}
		mustJSON(t, helm.get(pair.kind, pair.helm), &h)
		mustJSON(t, kust.get(pair.kind, pair.kust), &k)
		if len(k.Rules) == 0 {
			t.Errorf("%s %s has no rules", pair.kind, pair.kust)
		}
		if a, b := norm(h.Rules), norm(k.Rules); a != b {
			t.Errorf("%s %s (Helm) and %s (kustomize) differ:\n%s\n---\n%s", pair.kind, pair.helm, pair.kust, a, b)
		}
	}
}

func mustJSON(t *testing.T, u *unstructured.Unstructured, out any) {
	t.Helper()
	if u == nil {
		t.Fatal("missing object")
	}
	b, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

// TestHelmMonitoring: ServiceMonitors with their Services, PodMonitors,
// the PrometheusRule with MetalLB's alert names, Prometheus' RBAC, scrape
// annotations and the Grafana dashboard.
func TestHelmMonitoring(t *testing.T) {
	objs := scenario(t, "monitoring")
	checkInstall(t, objs, helmInstall)
	for _, c := range []string{"controller", "speaker"} {
		sm := objs.get("ServiceMonitor", "metallb-"+c+"-monitor")
		if sm == nil {
			t.Fatalf("no ServiceMonitor metallb-%s-monitor among %v", c, objs.names())
		}
		if sm.GetNamespace() != "monitoring" {
			t.Errorf("ServiceMonitor %s in namespace %q; want monitoring (prometheus.namespace)", sm.GetName(), sm.GetNamespace())
		}
		checkMonitorService(t, objs, serviceFor(t, objs, sm), c)
		if objs.get("PodMonitor", "metallb-"+c) == nil {
			t.Errorf("no PodMonitor metallb-%s", c)
		}
	}
	var ds appsv1.DaemonSet
	objs.typed(t, "DaemonSet", helmInstall.speaker, &ds)
	if a := ds.Spec.Template.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != "9120" {
		t.Errorf("speaker Pod annotations %v; want prometheus.io/scrape and port 9120", a)
	}

	// Prometheus may discover the Pods and read /metrics.
	var crb rbacv1.ClusterRoleBinding
	objs.typed(t, "ClusterRoleBinding", "metallb:metrics-reader", &crb)
	if len(crb.Subjects) != 1 || crb.Subjects[0].Name != "prometheus-k8s" || crb.Subjects[0].Namespace != "monitoring" {
		t.Errorf("metrics-reader subjects %+v; want monitoring/prometheus-k8s", crb.Subjects)
	}
	var cr rbacv1.ClusterRole
	objs.typed(t, "ClusterRole", "metallb:metrics-reader", &cr)
	if len(cr.Rules) != 1 || !slices.Equal(cr.Rules[0].NonResourceURLs, []string{"/metrics"}) || !slices.Equal(cr.Rules[0].Verbs, []string{"get"}) {
		t.Errorf("metrics-reader rules %+v; want get /metrics", cr.Rules)
	}

	known := knownMetrics(t)
	// The alerts: MetalLB's names, expressions over metrics we export.
	rule := objs.ofKind("PrometheusRule")
	if len(rule) != 1 {
		t.Fatalf("%d PrometheusRules; want 1", len(rule))
	}
	var pr struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert  string            `json:"alert"`
					Expr   string            `json:"expr"`
					Labels map[string]string `json:"labels"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	mustJSON(t, rule[0], &pr)
	alerts := map[string]string{}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = r.Expr
			if r.Labels["severity"] == "" {
				t.Errorf("alert %s has no severity", r.Alert)
			}
			checkMetricNames(t, "alert "+r.Alert, r.Expr, known)
		}
	}
	for _, want := range []string{
		"MetalLBStaleConfig", "MetalLBConfigNotLoaded", "MetalLBAddressPoolExhausted",
		"MetalLBAddressPoolUsage75Percent", "MetalLBAddressPoolUsage85Percent", "MetalLBAddressPoolUsage95Percent",
		"MetalLBBGPSessionDown",
	} {
		if _, ok := alerts[want]; !ok {
			t.Errorf("no alert %s among %v", want, alerts)
		}
	}
	if !strings.Contains(alerts["MetalLBAddressPoolUsage85Percent"], "> 85") {
		t.Errorf("MetalLBAddressPoolUsage85Percent: %s", alerts["MetalLBAddressPoolUsage85Percent"])
	}

	// The dashboard: valid JSON whose panels cover the main metrics.
	var cm corev1.ConfigMap
	objs.typed(t, "ConfigMap", "metallb-grafana-dashboard", &cm)
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap labels %v; want grafana_dashboard=1", cm.Labels)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(cm.Data["metallb.json"]), &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
			checkMetricNames(t, "panel "+p.Title, tg.Expr, known)
		}
	}
	all := strings.Join(exprs, "\n")
	for _, m := range []string{
		"metallb_allocator_addresses_in_use_total", "metallb_allocator_addresses_total", // pool usage
		"metallb_speaker_announced",                                         // announced services
		"metallb_bgp_session_up",                                            // BGP sessions
		"metallb_layer2_requests_received", "metallb_layer2_responses_sent", // layer 2
		"metallb_k8s_client_config_stale_bool", // config stale
	} {
		if !regexp.MustCompile(`\b` + m + `\b`).MatchString(all) {
			t.Errorf("no dashboard panel shows %s", m)
		}
	}
}

var metricRef = regexp.MustCompile(`\bmetallb_[a-z0-9_]+\b`)

// checkMetricNames: every metallb_* name in expr is one we export.
func checkMetricNames(t *testing.T, where, expr string, known map[string]bool) {
	t.Helper()
	for _, m := range metricRef.FindAllString(expr, -1) {
		if !known[m] {
			t.Errorf("%s uses %s, which no FerroLB binary exports", where, m)
		}
	}
}

// descRecorder is a prometheus.Registerer that records the metric names
// of what is registered.
type descRecorder struct{ names map[string]bool }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d descRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 64)
	go func() { c.Describe(ch); close(ch) }()
	for desc := range ch {
		if m := fqName.FindStringSubmatch(desc.String()); m != nil {
			d.names[m[1]] = true
		}
	}
	return nil
}

func (d descRecorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = d.Register(c)
	}
}

func (d descRecorder) Unregister(prometheus.Collector) bool { return false }

// knownMetrics lists the metallb_* metrics the binaries register.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	r := descRecorder{names: map[string]bool{}}
	metrics.NewK8sClient(r)
	metrics.NewAllocator(r)
	metrics.NewSpeaker(r)
	metrics.NewBGP(r)
	for _, m := range []string{"metallb_allocator_addresses_total", "metallb_speaker_announced", "metallb_bgp_session_up", "metallb_layer2_requests_received"} {
		if !r.names[m] {
			t.Fatalf("the metrics package does not register %s: %v", m, r.names)
		}
	}
	return r.names
}

// TestHelmValues checks what each non-default value set changes.
func TestHelmValues(t *testing.T) {
	t.Run("no-rbac", func(t *testing.T) {
		objs := scenario(t, "no-rbac")
		for _, kind := range []string{"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} {
			if n := len(objs.ofKind(kind)); n > 0 {
				t.Errorf("rbac.create=false renders %d %s", n, kind)
			}
		}
		if len(objs.ofKind("ServiceAccount")) != 2 {
			t.Errorf("rbac.create=false should keep the ServiceAccounts: %v", objs.names())
		}
	})
	t.Run("no-speaker", func(t *testing.T) {
		objs := scenario(t, "no-speaker")
		if n := len(objs.ofKind("DaemonSet")); n != 0 {
			t.Errorf("speaker.enabled=false renders %d DaemonSets", n)
		}
		for _, name := range []string{"ServiceAccount/metallb-speaker", "ClusterRole/metallb:speaker", "Role/metallb-pod-lister", "ConfigMap/metallb-excludel2"} {
			if slices.Contains(objs.names(), name) {
				t.Errorf("speaker.enabled=false renders %s", name)
			}
		}
		in := helmInstall
		checkController(t, objs, in)
		checkWebhooks(t, objs, in.failurePolicy)
	})
	t.Run("lb-class", func(t *testing.T) {
		in := helmInstall
		in.lbClass = "example.com/ferrolb"
		checkInstall(t, scenario(t, "lb-class"), in)
	})
	t.Run("images", func(t *testing.T) {
		objs := scenario(t, "images")
		in := helmInstall
		in.controllerImage = "registry.example/lb/controller:v1.2.3"
		in.speakerImage = "registry.example/lb/speaker:v1.2.3"
		checkInstall(t, objs, in)
		var d appsv1.Deployment
		objs.typed(t, "Deployment", in.controller, &d)
		if got := d.Spec.Template.Spec.Containers[0].ImagePullPolicy; got != corev1.PullAlways {
			t.Errorf("controller imagePullPolicy %q; want Always", got)
		}
	})
	t.Run("networkpolicies", func(t *testing.T) {
		objs := scenario(t, "networkpolicies")
		checkNetworkPolicies(t, objs, objs, helmInstall.controller)
	})
	t.Run("webhooks-off", func(t *testing.T) {
		objs := scenario(t, "webhooks-off")
		for _, name := range []string{"ValidatingWebhookConfiguration/metallb-webhook-configuration", "Service/metallb-webhook-service", "Secret/metallb-webhook-cert"} {
			if slices.Contains(objs.names(), name) {
				t.Errorf("controller.webhookMode=disabled renders %s", name)
			}
		}
		var d appsv1.Deployment
		objs.typed(t, "Deployment", helmInstall.controller, &d)
		c := d.Spec.Template.Spec.Containers[0]
		if !slices.Contains(c.Args, "--webhook-mode=disabled") || len(d.Spec.Template.Spec.Volumes) != 0 {
			t.Errorf("controller args %v, volumes %v; want --webhook-mode=disabled and no certificate volume", c.Args, d.Spec.Template.Spec.Volumes)
		}
	})
	t.Run("fail-closed", func(t *testing.T) {
		checkWebhooks(t, scenario(t, "fail-closed"), admissionv1.Fail)
	})
	t.Run("no-crds", func(t *testing.T) {
		if n := len(scenario(t, "no-crds").ofKind("CustomResourceDefinition")); n != 0 {
			t.Errorf("crds.enabled=false renders %d CRDs", n)
		}
	})
	t.Run("no-memberlist", func(t *testing.T) {
		objs := scenario(t, "no-memberlist")
		var d appsv1.Deployment
		objs.typed(t, "Deployment", helmInstall.controller, &d)
		var ds appsv1.DaemonSet
		objs.typed(t, "DaemonSet", helmInstall.speaker, &ds)
		sp := ds.Spec.Template.Spec.Containers[0]
		for _, e := range append(d.Spec.Template.Spec.Containers[0].Env, sp.Env...) {
			if strings.HasPrefix(e.Name, "METALLB_ML_") {
				t.Errorf("speaker.memberlist.enabled=false still sets %s", e.Name)
			}
		}
		if len(ds.Spec.Template.Spec.Volumes) != 0 || len(sp.Ports) != 1 {
			t.Errorf("speaker volumes %v, ports %v; want none and metricshttps only", ds.Spec.Template.Spec.Volumes, sp.Ports)
		}
		checkArgs(t, "./cmd/speaker", sp.Args, "")
	})
	t.Run("tls", func(t *testing.T) {
		objs := scenario(t, "tls")
		checkInstall(t, objs, helmInstall)
		for kind, name := range map[string]string{"Deployment": helmInstall.controller, "DaemonSet": helmInstall.speaker} {
			var spec corev1.PodTemplateSpec
			var tmpl struct {
				Spec struct {
					Template corev1.PodTemplateSpec `json:"template"`
				} `json:"spec"`
			}
			mustJSON(t, objs.get(kind, name), &tmpl)
			spec = tmpl.Spec.Template
			c := spec.Spec.Containers[0]
			for _, want := range []string{"--metrics-cert-dir=/tmp/metrics-certs", "--tls-min-version=VersionTLS13", "--tls-cipher-suites=TLS_AES_128_GCM_SHA256"} {
				if !slices.Contains(c.Args, want) {
					t.Errorf("%s args %v lack %s", name, c.Args, want)
				}
			}
			if !mounts(spec.Spec, c, "/tmp/metrics-certs", func(v corev1.Volume) bool {
				return v.Secret != nil && strings.HasSuffix(v.Secret.SecretName, "-metrics-tls")
			}) {
				t.Errorf("%s does not mount its metrics TLS Secret", name)
			}
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--set", "frrk8s.enabled=true"}, "frrk8s.enabled=true is not supported"},
			{[]string{"--set", "speaker.frr.enabled=true"}, "speaker.frr.enabled=true is not supported"},
			{[]string{"--set", "prometheus.serviceMonitor.enabled=true"}, "prometheus.serviceAccount is required"},
			{[]string{"--set", "speaker.memberlist.enabled=false", "--set", "speaker.nodeSelector.zone=a"}, "speaker.nodeSelector must be empty"},
			{[]string{"--set", "controller.webhookMode=sometimes"}, "want enabled, disabled or onlywebhook"},
		} {
			out, err := helmTemplate(t, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("helm template %v: error %v, %d bytes; want an error containing %q", c.args, err, len(out), c.want)
			}
		}
	})
}

// TestValuesDocumented: MetalLB's main values (COMPAT §7) exist in
// values.yaml, and the webhooks fail open by default.
func TestValuesDocumented(t *testing.T) {
	var v map[string]any
	if err := yaml.Unmarshal(readFile(t, "charts/metallb/values.yaml"), &v); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"loadBalancerClass", "rbac.create",
		"tls.minVersion", "tls.cipherSuites", "tls.curvePreferences", "tls.controllerMetricsTLSSecret", "tls.speakerMetricsTLSSecret",
		"prometheus.scrapeAnnotations", "prometheus.metricsPort", "prometheus.rbacPrometheus", "prometheus.serviceAccount",
		"prometheus.namespace", "prometheus.podMonitor.enabled", "prometheus.serviceMonitor.enabled", "prometheus.prometheusRule.enabled",
		"controller.enabled", "controller.logLevel", "controller.webhookMode", "controller.image.repository", "controller.strategy",
		"controller.serviceAccount.create", "controller.securityContext.runAsUser", "controller.livenessProbe.enabled", "controller.readinessProbe.enabled",
		"speaker.enabled", "speaker.logLevel", "speaker.tolerateMaster", "speaker.memberlist.enabled", "speaker.memberlist.mlBindPort",
		"speaker.memberlist.mlBindAddrOverride", "speaker.memberlist.mlSecretKeyPath", "speaker.excludeInterfaces.enabled",
		"speaker.ignoreExcludeLB", "speaker.frr.enabled",
		"crds.enabled", "crds.validationFailurePolicy", "frrk8s.enabled",
		"networkpolicies.enabled", "networkpolicies.defaultDeny", "networkpolicies.apiPort",
	} {
		var cur any = v
		for _, k := range strings.Split(path, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur, ok = m[k]
			if !ok {
				cur = nil
				break
			}
		}
		if cur == nil {
			t.Errorf("values.yaml has no %s", path)
		}
	}
	if v["crds"].(map[string]any)["validationFailurePolicy"] != "Ignore" {
		t.Errorf("crds.validationFailurePolicy default %v; want Ignore", v["crds"].(map[string]any)["validationFailurePolicy"])
	}
}

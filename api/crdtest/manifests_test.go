package crdtest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/test/kubeapi"
)

type version struct {
	name       string
	storage    bool
	deprecated string // deprecation warning, "" if not deprecated
	columns    []string
}

// wantCRDs is the API surface MetalLB users rely on: names, versions and
// `kubectl get` columns ("Name=.jsonPath").
var wantCRDs = map[string][]version{
	"ipaddresspools": {{name: "v1beta1", storage: true, columns: []string{
		"Auto Assign=.spec.autoAssign", "Avoid Buggy IPs=.spec.avoidBuggyIPs", "Addresses=.spec.addresses"}}},
	"l2advertisements": {{name: "v1beta1", storage: true, columns: []string{
		"IPAddressPools=.spec.ipAddressPools", "IPAddressPool Selectors=.spec.ipAddressPoolSelectors",
		"Interfaces=.spec.interfaces", "Node Selectors=.spec.nodeSelectors"}}},
	"bgpadvertisements": {{name: "v1beta1", storage: true, columns: []string{
		"IPAddressPools=.spec.ipAddressPools", "IPAddressPool Selectors=.spec.ipAddressPoolSelectors",
		"Peers=.spec.peers", "Node Selectors=.spec.nodeSelectors"}}},
	"bgppeers": {
		{name: "v1beta1", deprecated: "v1beta1 is deprecated, please use v1beta2", columns: peerColumns},
		{name: "v1beta2", storage: true, columns: peerColumns},
	},
	"bfdprofiles": {{name: "v1beta1", storage: true, columns: []string{
		"Passive Mode=.spec.passiveMode", "Transmit Interval=.spec.transmitInterval",
		"Receive Interval=.spec.receiveInterval", "Multiplier=.spec.detectMultiplier"}}},
	"communities": {{name: "v1beta1", storage: true}},
	"servicel2statuses": {{name: "v1beta1", storage: true, columns: []string{
		"Allocated Node=.status.node", "Service Name=.status.serviceName", "Service Namespace=.status.serviceNamespace"}}},
	"servicebgpstatuses": {{name: "v1beta1", storage: true, columns: []string{
		"Node=.status.node", "Service Name=.status.serviceName", "Service Namespace=.status.serviceNamespace"}}},
	"configurationstates": {{name: "v1beta1", storage: true, columns: []string{
		"Result=.status.result", "ErrorSummary=.status.errorSummary", "Age=.metadata.creationTimestamp"}}},
}

var peerColumns = []string{"Address=.spec.peerAddress", "ASN=.spec.peerASN",
	"BFD Profile=.spec.bfdProfile", "Multi Hops=.spec.ebgpMultiHop"}

// The CRDs as installed (read back from the API server) have the expected
// names, versions, columns and a status subresource everywhere.
func TestInstalledCRDs(t *testing.T) {
	ctx, e := setup(t)
	cs, err := apiextensions.NewForConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for plural, want := range wantCRDs {
		t.Run(plural, func(t *testing.T) {
			crd, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, plural+".metallb.io", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if crd.Spec.Scope != apiextensionsv1.NamespaceScoped || len(crd.Spec.Names.ShortNames) != 0 {
				t.Errorf("scope %s, shortNames %v", crd.Spec.Scope, crd.Spec.Names.ShortNames)
			}
			var got []version
			for _, v := range crd.Spec.Versions {
				if !v.Served || v.Subresources == nil || v.Subresources.Status == nil {
					t.Errorf("%s: served %v, subresources %+v", v.Name, v.Served, v.Subresources)
				}
				gv := version{name: v.Name, storage: v.Storage}
				if v.Deprecated && v.DeprecationWarning != nil {
					gv.deprecated = *v.DeprecationWarning
				}
				for _, c := range v.AdditionalPrinterColumns {
					gv.columns = append(gv.columns, c.Name+"="+c.JSONPath)
				}
				got = append(got, gv)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(version{})); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
		})
	}
}

func repoFile(t *testing.T, rel string) []byte {
	t.Helper()
	root, err := kubeapi.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The kustomization lists exactly the generated bases.
func TestKustomizationListsEveryBase(t *testing.T) {
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
		Patches    []struct {
			Path   string            `json:"path"`
			Target map[string]string `json:"target"`
		} `json:"patches"`
	}
	if err := yaml.UnmarshalStrict(repoFile(t, "config/crd/kustomization.yaml"), &k); err != nil {
		t.Fatal(err)
	}
	if k.Kind != "Kustomization" {
		t.Errorf("kind %q", k.Kind)
	}
	dir, err := kubeapi.CRDDir()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var bases []string
	for _, f := range files {
		bases = append(bases, "bases/"+filepath.Base(f))
	}
	if len(bases) != len(wantCRDs) {
		t.Errorf("%d generated bases, want %d", len(bases), len(wantCRDs))
	}
	slices.Sort(k.Resources)
	if diff := cmp.Diff(bases, k.Resources); diff != "" {
		t.Errorf("resources (-generated +listed):\n%s", diff)
	}
	if len(k.Patches) != 1 || k.Patches[0].Path != "patches/bgppeers-conversion.yaml" ||
		k.Patches[0].Target["name"] != "bgppeers.metallb.io" {
		t.Errorf("patches = %+v", k.Patches)
	}
}

// The conversion patch, applied to the generated BGPPeer CRD, is accepted
// by the API server (dry run) and points at the MetalLB webhook.
func TestConversionPatch(t *testing.T) {
	var patch apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(repoFile(t, "config/crd/patches/bgppeers-conversion.yaml"), &patch); err != nil {
		t.Fatal(err)
	}
	conv := patch.Spec.Conversion
	want := &apiextensionsv1.CustomResourceConversion{
		Strategy: apiextensionsv1.WebhookConverter,
		Webhook: &apiextensionsv1.WebhookConversion{
			ClientConfig: &apiextensionsv1.WebhookClientConfig{Service: &apiextensionsv1.ServiceReference{
				Namespace: "metallb-system", Name: "metallb-webhook-service", Path: ptr("/convert"),
			}},
			ConversionReviewVersions: []string{"v1beta1", "v1beta2"},
		},
	}
	if diff := cmp.Diff(want, conv); diff != "" {
		t.Fatalf("conversion (-want +got):\n%s", diff)
	}
	if patch.Name != "bgppeers.metallb.io" {
		t.Errorf("patch targets %q", patch.Name)
	}

	ctx, e := setup(t)
	cs, err := apiextensions.NewForConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	crd, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, "bgppeers.metallb.io", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	crd.Spec.Conversion = conv
	_, err = cs.ApiextensionsV1().CustomResourceDefinitions().Update(ctx, crd, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Errorf("API server rejects the patched CRD: %v", err)
	}
}

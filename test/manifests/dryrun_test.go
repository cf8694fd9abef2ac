package manifests

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/test/kubeapi"
)

// warnings collects the API server's warnings (deprecated fields and the
// like): a manifest that draws one fails the test.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(code int, agent, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// TestServerAcceptsManifests: every object of every rendering is accepted
// by the real API server (server-side apply, dry run, strict field
// validation, no warning). The namespaces exist for real; the Prometheus
// Operator kinds come from minimal CRDs in testdata.
func TestServerAcceptsManifests(t *testing.T) {
	// Render first: a failing render should not wait for the server.
	type rendering struct {
		name string
		objs objects
	}
	var renders []rendering
	for _, dir := range []string{"config/native", "config/prometheus-native", "config/prometheus", "config/networkpolicies", "config/crd"} {
		renders = append(renders, rendering{"kustomize " + dir, decode(t, kustomizeBuild(t, dir))})
	}
	for _, f := range []string{"config/manifests/metallb-native.yaml", "config/manifests/metallb-native-prometheus.yaml"} {
		renders = append(renders, rendering{f, decode(t, readFile(t, f))})
	}
	for _, s := range helmScenarios {
		renders = append(renders, rendering{"helm " + s.name, mustHelm(t, s.args...)})
	}

	cfg := rest.CopyConfig(kubeapi.Shared(t))
	warn := &warnings{}
	cfg.WarningHandler = warn
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := kubeapi.InstallCRDs(ctx, cfg, filepath.Join(repoRoot(t), "test", "manifests", "testdata")); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{namespace, "monitoring"} {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))
	warn.take()

	for _, r := range renders {
		t.Run(r.name, func(t *testing.T) {
			if len(r.objs) == 0 {
				t.Fatal("nothing rendered")
			}
			for _, u := range r.objs {
				if err := dryRunApply(ctx, dyn, mapper, u.Object); err != nil {
					t.Errorf("%s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
				}
				for _, w := range warn.take() {
					t.Errorf("%s %s/%s: API server warning: %s", u.GetKind(), u.GetNamespace(), u.GetName(), w)
				}
			}
		})
	}
}

// dryRunApply server-side applies obj with dryRun=All and strict field
// validation. Namespaced objects must name their namespace.
func dryRunApply(ctx context.Context, dyn dynamic.Interface, mapper meta.ResettableRESTMapper, obj map[string]any) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	var head struct {
		metav1.TypeMeta
		metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return err
	}
	gvk := head.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("mapping %v: %w", gvk, err)
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if head.Namespace == "" {
			return fmt.Errorf("namespaced object without a namespace")
		}
		ri = dyn.Resource(m.Resource).Namespace(head.Namespace)
	} else if head.Namespace != "" {
		return fmt.Errorf("cluster-scoped object with namespace %q", head.Namespace)
	}
	_, err = ri.Patch(ctx, head.Name, types.ApplyPatchType, data, metav1.PatchOptions{
		DryRun:          []string{metav1.DryRunAll},
		FieldManager:    "ferrolb-manifests-test",
		Force:           ptr.To(true),
		FieldValidation: metav1.FieldValidationStrict,
	})
	return err
}

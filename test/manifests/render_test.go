package manifests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/ferrolb/ferrolb/test/kubeapi"
)

const (
	// namespace is where the manifests install FerroLB.
	namespace = "metallb-system"
	// release is the Helm release name of the renders: with the chart's
	// name in it, objects are named metallb-<component>.
	release = "metallb"
	// helmKubeVersion is what helm assumes of the cluster: the version of
	// the API server the tests run (hack/build-k8s.sh).
	helmKubeVersion = "v1.34.4"
	// toolsTimeout bounds hack/tools.sh (a cold install builds kustomize and
	// helm from source, a few minutes each on a small machine).
	toolsTimeout = 15 * time.Minute
	// renderTimeout bounds one kustomize or helm run.
	renderTimeout = 2 * time.Minute
)

// The six validating webhooks: kustomize names (COMPAT §5), paths,
// resources, versions and operations.
var wantWebhooks = []struct {
	name, path, resource, version string
	operations                    []string
}{
	{"bgppeersvalidationwebhook.metallb.io", "/validate-metallb-io-v1beta2-bgppeer", "bgppeers", "v1beta2", []string{"CREATE", "UPDATE"}},
	{"bfdprofilevalidationwebhook.metallb.io", "/validate-metallb-io-v1beta1-bfdprofile", "bfdprofiles", "v1beta1", []string{"CREATE", "DELETE"}},
	{"bgpadvertisementvalidationwebhook.metallb.io", "/validate-metallb-io-v1beta1-bgpadvertisement", "bgpadvertisements", "v1beta1", []string{"CREATE", "UPDATE"}},
	{"communityvalidationwebhook.metallb.io", "/validate-metallb-io-v1beta1-community", "communities", "v1beta1", []string{"CREATE", "UPDATE"}},
	{"ipaddresspoolvalidationwebhook.metallb.io", "/validate-metallb-io-v1beta1-ipaddresspool", "ipaddresspools", "v1beta1", []string{"CREATE", "UPDATE"}},
	{"l2advertisementvalidationwebhook.metallb.io", "/validate-metallb-io-v1beta1-l2advertisement", "l2advertisements", "v1beta1", []string{"CREATE", "UPDATE"}},
}

var tools struct {
	once            sync.Once
	kustomize, helm string
	err             error
}

// toolPaths returns the pinned kustomize and helm, installed (once per
// test binary) by hack/tools.sh.
func toolPaths(t testing.TB) (kustomize, helm string) {
	t.Helper()
	tools.once.Do(func() {
		root, err := kubeapi.RepoRoot()
		if err != nil {
			tools.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), toolsTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "tools.sh"), "kustomize", "helm")
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			tools.err = fmt.Errorf("hack/tools.sh: %v\n%s", err, stderr.String())
			return
		}
		paths := strings.Fields(string(out))
		if len(paths) != 2 {
			tools.err = fmt.Errorf("hack/tools.sh printed %q; want two paths", out)
			return
		}
		tools.kustomize, tools.helm = paths[0], paths[1]
	})
	if tools.err != nil {
		t.Fatalf("installing kustomize and helm: %v", tools.err)
	}
	return tools.kustomize, tools.helm
}

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := kubeapi.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// run runs a tool from the repository root and returns its standard
// output; the error carries the standard error.
func run(root, bin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), renderTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// kustomizeBuild renders a kustomization directory (relative to the
// repository root).
func kustomizeBuild(t testing.TB, dir string) []byte {
	t.Helper()
	k, _ := toolPaths(t)
	out, err := run(repoRoot(t), k, "build", dir)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// helmTemplate renders charts/metallb as release "metallb" in
// metallb-system with the given extra arguments (--set ...).
func helmTemplate(t testing.TB, args ...string) ([]byte, error) {
	t.Helper()
	_, h := toolPaths(t)
	base := []string{"template", release, "charts/metallb", "--namespace", namespace, "--kube-version", helmKubeVersion}
	return run(repoRoot(t), h, append(base, args...)...)
}

// mustHelm is helmTemplate that fails the test on error.
func mustHelm(t testing.TB, args ...string) objects {
	t.Helper()
	out, err := helmTemplate(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, out)
}

// objects are the documents of a rendered manifest.
type objects []*unstructured.Unstructured

// decode splits a multi-document YAML stream into objects; empty
// documents are skipped, anything that is not an object fails the test.
func decode(t testing.TB, data []byte) objects {
	t.Helper()
	var out objects
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding the rendered manifests: %v", err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" || u.GetName() == "" {
			t.Fatalf("a rendered document is not a named object: %v", m)
		}
		out = append(out, u)
	}
}

// ofKind returns the objects of a kind.
func (o objects) ofKind(kind string) objects {
	var out objects
	for _, u := range o {
		if u.GetKind() == kind {
			out = append(out, u)
		}
	}
	return out
}

// get returns the object of a kind and name, or nil.
func (o objects) get(kind, name string) *unstructured.Unstructured {
	for _, u := range o {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	return nil
}

// names lists "Kind/name" of every object (for messages).
func (o objects) names() []string {
	var out []string
	for _, u := range o {
		out = append(out, u.GetKind()+"/"+u.GetName())
	}
	return out
}

// typed converts the object of a kind and name into out, failing the test
// if it is missing or has fields out's type does not know.
func (o objects) typed(t testing.TB, kind, name string, out any) {
	t.Helper()
	u := o.get(kind, name)
	if u == nil {
		t.Fatalf("no %s %q among %v", kind, name, o.names())
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, out, true); err != nil {
		t.Fatalf("%s %s: %v", kind, name, err)
	}
}

// readFile reads a file of the repository.
func readFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package webhook_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/test/cluster"
)

func writeKubeconfig(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	kc.CurrentContext = "c"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// The controller binary with --webhook-mode=onlywebhook serves the
// webhooks with a certificate it manages, under a Lease of its own, and
// reports ready once the certificate is loaded.
func TestControllerBinaryOnlyWebhook(t *testing.T) {
	bin, err := cluster.Binary("./cmd/controller")
	if err != nil {
		t.Fatal(err)
	}
	cfg, c := cluster.SharedClient(t)
	e := &env{cfg: cfg, c: c, warn: &warnLog{}, ns: "binary-only-webhook", vwc: webhook.ConfigurationName, port: freePort(t)}
	if err := c.Create(ctx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil {
		t.Fatal(err)
	}
	vwc := e.configuration()
	if err := c.Create(ctx(t), vwc); err != nil {
		t.Fatal(err)
	}

	health := freePort(t)
	logPath := filepath.Join(t.TempDir(), "controller.log")
	proc, err := cluster.StartProc("controller", logPath, nil, bin,
		"--kubeconfig", writeKubeconfig(t, cfg), "--namespace", e.ns, "--webhook-mode", "onlywebhook",
		"--port", "0", "--health-probe-port", fmt.Sprint(health), "--webhook-port", fmt.Sprint(e.port),
		"--cert-extra-sans", "127.0.0.1", "--log-level", "debug")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Delete(ctx(t), vwc)
		if err := proc.StopGrace(30 * time.Second); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("controller log:\n%s", out)
		}
	})

	e.waitServing(t)

	var lease coordinationv1.Lease
	if err := c.Get(ctx(t), client.ObjectKey{Namespace: e.ns, Name: "metallb-controller-webhook"}, &lease); err != nil {
		t.Errorf("lease metallb-controller-webhook: %v", err)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", health))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %s", resp.Status)
	}
	out, _ := os.ReadFile(logPath)
	if strings.Contains(string(out), "starting controller") {
		t.Error("onlywebhook mode started the controller's reconcilers")
	}
}

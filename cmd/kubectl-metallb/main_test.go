package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

func TestMain(m *testing.M) { kubeapi.Main(m) }

// TestBinary builds kubectl-metallb and runs it as kubectl would: the
// entry point, stdin/stdout/stderr, exit codes, and a kubeconfig given by
// flag and by $KUBECONFIG.
func TestBinary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	root, err := kubeapi.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kubectl-metallb")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/kubectl-metallb")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// The API server with the CRDs, a namespace holding one pool with its
	// status and the controller's ConfigurationState.
	cfg, c := cluster.SharedClient(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "mlb-"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	pool := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "web"},
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.0/29"}}}
	if err := c.Create(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pool.Status = v1beta1.IPAddressPoolStatus{AssignedIPv4: 3, AvailableIPv4: 5}
	if err := c.Status().Update(ctx, pool); err != nil {
		t.Fatal(err)
	}
	state := &v1beta1.ConfigurationState{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "controller",
		Labels: map[string]string{"metallb.io/component-type": "controller"}}}
	if err := c.Create(ctx, state); err != nil {
		t.Fatal(err)
	}
	state.Status = v1beta1.ConfigurationStateStatus{Result: v1beta1.ConfigurationInvalid, ErrorSummary: `IPAddressPool "x": broken`,
		Conditions: []metav1.Condition{{Type: "poolReconcilerValid", Status: metav1.ConditionFalse, Reason: "ConfigurationError",
			Message: `IPAddressPool "x": broken`, LastTransitionTime: metav1.Now()}}}
	if err := c.Status().Update(ctx, state); err != nil {
		t.Fatal(err)
	}

	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin", Namespace: "default"}
	kc.CurrentContext = "test"
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}

	run := func(t *testing.T, env []string, stdin string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		// No kubeconfig from the environment unless the case sets one.
		cmd.Env = append([]string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}, env...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("running %v: %v", args, err)
		}
		return code, out.String(), errb.String()
	}

	tests := []struct {
		name  string
		env   []string
		stdin string
		args  []string
		code  int
		// stdout and stderr are regular expressions.
		stdout string
		stderr string
	}{
		{name: "help", args: []string{"--help"}, code: 0, stdout: `kubectl metallb explain service`},
		{name: "usage error", args: []string{"nope"}, code: 2, stderr: `unknown command "nope"`},
		{name: "convert", args: []string{"convert", "--only-data", "-f", "-"},
			stdin: "address-pools:\n- name: web\n  protocol: layer2\n  addresses: [192.0.2.0/29]\n",
			code:  0, stdout: "kind: L2Advertisement"},
		{name: "convert invalid", args: []string{"convert", "--only-data"},
			stdin: "address-pools:\n- name: web\n  protocol: layer2\n  adresses: [192.0.2.0/29]\n",
			code:  1, stderr: `address-pools\[0\]\.adresses: unknown field`},
		{name: "status with --kubeconfig", args: []string{"status", "--kubeconfig", kubeconfig, "-n", ns.Name},
			code: 0, stdout: `web\s+192\.0\.2\.0/29\s+true\s+3/5\s`},
		{name: "status with $KUBECONFIG, as JSON", env: []string{"KUBECONFIG=" + kubeconfig}, args: []string{"status", "-n", ns.Name, "-o", "json"},
			code: 0, stdout: `"errorSummary": "IPAddressPool \\"x\\": broken"`},
		{name: "explain a missing Service", env: []string{"KUBECONFIG=" + kubeconfig}, args: []string{"explain", "service", "missing", "-n", ns.Name},
			code: 1, stderr: `services "missing" not found`},
		{name: "no kubeconfig at all", args: []string{"status"}, code: 1, stderr: "error: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.env, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			if !regexp.MustCompile(tt.stdout).MatchString(out) {
				t.Errorf("stdout does not match %q:\n%s", tt.stdout, out)
			}
			if !regexp.MustCompile(tt.stderr).MatchString(errOut) {
				t.Errorf("stderr does not match %q:\n%s", tt.stderr, errOut)
			}
		})
	}
}

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const pool = "address-pools:\n- name: Web_Pool\n  protocol: layer2\n  addresses: [192.0.2.0/28]\n"

func runMain(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestMainExitCodesAndStreams(t *testing.T) {
	dir := t.TempDir()
	cmFile := filepath.Join(dir, "cm.yaml")
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: lb\ndata:\n  config: |\n" +
		"    " + strings.ReplaceAll(strings.TrimSpace(pool), "\n", "\n    ") + "\n"
	if err := os.WriteFile(cmFile, []byte(cm), 0o600); err != nil {
		t.Fatal(err)
	}
	// A kubeconfig with one context, for --context errors (no server is
	// contacted: the command fails before).
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://192.0.2.1:6443"}
	kc.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: "t"}
	kc.Contexts["ctx"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	kc.CurrentContext = "ctx"
	kcFile := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kcFile); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		stdout   []string
		stderr   []string
		noStdout bool
	}{
		{name: "no command", code: ExitUsage, stderr: []string{"missing command"}, noStdout: true},
		{name: "help", args: []string{"--help"}, code: ExitOK, stdout: []string{"kubectl metallb convert", "kubectl metallb explain service", "kubectl metallb status"}},
		{name: "command help", args: []string{"status", "-h"}, code: ExitOK, stdout: []string{"Usage:"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: ExitUsage, stderr: []string{`unknown command "frobnicate"`}},
		{name: "convert from stdin", stdin: pool, args: []string{"convert", "--only-data"}, code: ExitOK,
			stdout: []string{"kind: IPAddressPool", "name: web-pool", "namespace: metallb-system", "kind: L2Advertisement", "name: l2advertisement1"},
			stderr: []string{`note: address-pools[0].name: IPAddressPool "Web_Pool" renamed to "web-pool"`}},
		{name: "convert a ConfigMap file, flags after -f", args: []string{"convert", "-f", cmFile}, code: ExitOK,
			stdout: []string{"namespace: lb\n"}},
		{name: "convert with -n", args: []string{"convert", "--filename", cmFile, "-n", "other"}, code: ExitOK,
			stdout: []string{"namespace: other\n"}},
		{name: "convert invalid input", stdin: "address-pools:\n- name: p\n  protocol: bgpp\n", args: []string{"convert", "--only-data"},
			code: ExitFail, stderr: []string{`error: invalid configuration: address-pools[0].protocol: unknown protocol "bgpp"`}, noStdout: true},
		{name: "convert bare data without --only-data", stdin: pool, args: []string{"convert"},
			code: ExitFail, stderr: []string{"use --only-data"}, noStdout: true},
		{name: "convert missing file", args: []string{"convert", "-f", filepath.Join(dir, "nope.yaml")},
			code: ExitFail, stderr: []string{"reading the input", "no such file"}},
		{name: "convert stray argument", args: []string{"convert", "config.yaml"}, code: ExitUsage,
			stderr: []string{"convert takes no arguments"}},
		{name: "unknown flag", args: []string{"convert", "--bogus"}, code: ExitUsage,
			stderr: []string{"flag provided but not defined: -bogus"}},
		{name: "bad output format", args: []string{"status", "-o", "xml"}, code: ExitUsage,
			stderr: []string{`unknown output format "xml"`}},
		{name: "explain needs a Service", args: []string{"explain", "service"}, code: ExitUsage,
			stderr: []string{"usage: kubectl metallb explain service"}},
		{name: "explain only services", args: []string{"explain", "pod", "a/b"}, code: ExitUsage,
			stderr: []string{`cannot explain "pod"`}},
		{name: "explain malformed name", args: []string{"explain", "svc", "a/b/c"}, code: ExitUsage,
			stderr: []string{`invalid Service "a/b/c"`}},
		{name: "flags after the arguments are parsed", args: []string{"explain", "service", "ns/web", "-o", "yaml", "--kubeconfig", filepath.Join(dir, "missing")},
			code: ExitFail, stderr: []string{"loading the kubeconfig", "missing"}},
		{name: "unknown context", args: []string{"status", "--kubeconfig", kcFile, "--context", "nosuch"},
			code: ExitFail, stderr: []string{"loading the kubeconfig", `context "nosuch" does not exist`}},
		{name: "status takes no arguments", args: []string{"status", "extra"}, code: ExitUsage,
			stderr: []string{"status takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMain(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			if tt.noStdout && out != "" {
				t.Errorf("stdout is not empty:\n%s", out)
			}
		})
	}
}

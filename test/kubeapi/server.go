package kubeapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// DefaultServiceCIDRs is the --service-cluster-ip-range of a server: IPv4
// primary, IPv6 secondary, so dual-stack Services work. Load-balancer pools in
// tests must not overlap it.
const DefaultServiceCIDRs = "198.18.0.0/16,2001:db8:ffff::/108"

// AdminUser is the user behind RESTConfig's token, in group system:masters.
const AdminUser = "admin"

// Options configures Start. The zero value is ready to use.
type Options struct {
	// BinDir holds etcd and kube-apiserver; empty means BinDir().
	BinDir string
	// TempDir is the parent of the server's temporary directory; empty means
	// os.TempDir().
	TempDir string
	// LogDir receives etcd.log and kube-apiserver.log and is kept after Stop.
	// Empty means a "logs" folder in the temporary directory, removed by Stop.
	LogDir string
	// LogWriter, if set, also receives both processes' output.
	LogWriter io.Writer
	// ServiceCIDRs is --service-cluster-ip-range; empty means DefaultServiceCIDRs.
	ServiceCIDRs string
	// APIServerFlags are appended to kube-apiserver's flags (a later flag
	// overrides an earlier one).
	APIServerFlags []string
	// Users are extra token users; UserConfig returns a config for each.
	Users []User
	// Timeout bounds the start-up, from launching etcd to a working Service
	// create; zero means 60 s.
	Timeout time.Duration
}

// User is a static token user of the API server.
type User struct {
	Name   string
	UID    string
	Groups []string
}

// Server is a running etcd plus kube-apiserver. Stop it when done.
type Server struct {
	dir       string // temporary directory, removed by Stop
	url       string
	caPEM     []byte
	tokens    map[string]string // user name -> bearer token
	etcd      *process
	apiserver *process

	stopOnce sync.Once
	stopErr  error
}

// errPortTaken marks a start that lost the race for a free port.
var errPortTaken = errors.New("port taken")

// Start launches etcd and kube-apiserver and returns once the API server is
// ready and accepts a Service in namespace "default". If it fails, whatever it
// started is stopped and removed, and the error ends with the processes' logs.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.BinDir == "" {
		dir, err := BinDir()
		if err != nil {
			return nil, err
		}
		opts.BinDir = dir
	}
	if opts.ServiceCIDRs == "" {
		opts.ServiceCIDRs = DefaultServiceCIDRs
	}
	if opts.Timeout == 0 {
		opts.Timeout = 60 * time.Second
	}
	const attempts = 3 // free ports are picked, then bound: another process may win
	for i := 1; ; i++ {
		s, err := start(ctx, opts)
		if err == nil || !errors.Is(err, errPortTaken) || i == attempts {
			return s, err
		}
	}
}

func start(ctx context.Context, opts Options) (_ *Server, err error) {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	dir, err := os.MkdirTemp(opts.TempDir, "kubeapi-")
	if err != nil {
		return nil, fmt.Errorf("kubeapi: %w", err)
	}
	s := &Server{dir: dir, tokens: map[string]string{}}
	logDir := opts.LogDir
	if logDir == "" {
		logDir = filepath.Join(dir, "logs")
	}
	defer func() {
		if err == nil {
			return
		}
		if opts.LogDir != "" {
			err = fmt.Errorf("%w\n(full logs in %s)", err, opts.LogDir)
		} else {
			err = fmt.Errorf("%w\n(full logs removed; set Options.LogDir, or %s for Shared, to keep them)", err, LogDirEnv)
		}
		if stopErr := s.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
	}()
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return s, fmt.Errorf("kubeapi: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return s, err
	}
	clientPort, peerPort, apiPort := ports[0], ports[1], ports[2]
	s.url = "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(apiPort))

	etcdURL := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(clientPort))
	peerURL := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(peerPort))
	s.etcd, err = startProcess("etcd", filepath.Join(opts.BinDir, "etcd"), []string{
		"--name=kubeapi",
		"--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + etcdURL,
		"--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=kubeapi=" + peerURL,
		"--unsafe-no-fsync",                // throw-away data: speed over durability
		"--quota-backend-bytes=4294967296", // 4 GiB: room for large benchmarks
		"--log-level=warn",
	}, filepath.Join(logDir, "etcd.log"), opts.LogWriter)
	if err != nil {
		return s, err
	}

	keyFile, tokenFile, err := s.writeCredentials(opts.Users)
	if err != nil {
		return s, err
	}
	if err := waitHTTP(ctx, s.etcd, etcdURL+"/health", "", `"health":"true"`); err != nil {
		return s, err
	}

	certDir := filepath.Join(dir, "certs")
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + certDir,
		"--service-account-key-file=" + keyFile,
		"--service-account-signing-key-file=" + keyFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--token-auth-file=" + tokenFile,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=" + opts.ServiceCIDRs,
		// No controller-manager creates the "default" ServiceAccount.
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		// Benchmarks measure our code, not the server's default throttling.
		"--enable-priority-and-fairness=false",
		"--max-requests-inflight=3000",
		"--max-mutating-requests-inflight=1500",
	}
	s.apiserver, err = startProcess("kube-apiserver", filepath.Join(opts.BinDir, "kube-apiserver"),
		append(args, opts.APIServerFlags...), filepath.Join(logDir, "kube-apiserver.log"), opts.LogWriter)
	if err != nil {
		return s, err
	}
	if err := waitHTTP(ctx, s.apiserver, s.url+"/readyz", s.tokens[AdminUser], "ok"); err != nil {
		return s, err
	}
	if s.caPEM, err = os.ReadFile(filepath.Join(certDir, "apiserver.crt")); err != nil {
		return s, fmt.Errorf("kubeapi: serving certificate: %w", err)
	}
	if err := s.waitServiceCreate(ctx, strings.Contains(opts.ServiceCIDRs, ",")); err != nil {
		return s, err
	}
	return s, nil
}

// writeCredentials writes the service-account signing key and the token file
// (the admin plus opts.Users) and returns their paths.
func (s *Server) writeCredentials(users []User) (keyFile, tokenFile string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", fmt.Errorf("kubeapi: service-account key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	keyFile = filepath.Join(s.dir, "sa.key")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("kubeapi: %w", err)
	}

	users = append([]User{{Name: AdminUser, UID: AdminUser, Groups: []string{"system:masters"}}}, users...)
	var csv strings.Builder
	for _, u := range users {
		if _, dup := s.tokens[u.Name]; dup || u.Name == "" || strings.ContainsAny(u.Name+u.UID, ",\"\n") {
			return "", "", fmt.Errorf("kubeapi: bad or duplicate user %q", u.Name)
		}
		token := randomToken()
		s.tokens[u.Name] = token
		// token,user,uid[,"group1,group2"]
		fmt.Fprintf(&csv, "%s,%s,%s", token, u.Name, u.UID)
		if len(u.Groups) > 0 {
			fmt.Fprintf(&csv, ",%q", strings.Join(u.Groups, ","))
		}
		csv.WriteString("\n")
	}
	tokenFile = filepath.Join(s.dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(csv.String()), 0o600); err != nil {
		return "", "", fmt.Errorf("kubeapi: %w", err)
	}
	return keyFile, tokenFile, nil
}

// waitHTTP polls url until it answers 200 with a body containing want. It
// fails early if p exits.
func waitHTTP(ctx context.Context, p *process, url, token, want string) error {
	client := &http.Client{
		Timeout: 2 * time.Second,
		// The serving certificate does not exist before the server is up.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	defer client.CloseIdleConnections()
	last := "no answer yet"
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.exited() {
			err := p.exitError()
			if strings.Contains(tail(p.log, 30), "address already in use") {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("kubeapi: %w", err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if resp, err := client.Do(req); err != nil {
			last = err.Error()
		} else {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), want) {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, body)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kubeapi: %s not ready: %w; last answer from %s: %s\nits output ends with:\n%s",
				p.name, ctx.Err(), url, last, tail(p.log, 30))
		case <-tick.C:
		}
	}
}

// waitServiceCreate retries creating (and deleting) a Service in "default"
// until it works: the namespace and the cluster-IP allocator are ready then.
func (s *Server) waitServiceCreate(ctx context.Context, dualStack bool) error {
	cs, err := kubernetes.NewForConfig(s.RESTConfig())
	if err != nil {
		return fmt.Errorf("kubeapi: %w", err)
	}
	policy := corev1.IPFamilyPolicySingleStack
	if dualStack {
		policy = corev1.IPFamilyPolicyRequireDualStack
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "kubeapi-probe-"},
		Spec: corev1.ServiceSpec{
			IPFamilyPolicy: &policy,
			Ports:          []corev1.ServicePort{{Port: 80}},
		},
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		created, err := cs.CoreV1().Services(metav1.NamespaceDefault).Create(ctx, svc, metav1.CreateOptions{})
		if err == nil {
			err = cs.CoreV1().Services(metav1.NamespaceDefault).Delete(ctx, created.Name, metav1.DeleteOptions{})
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kubeapi: creating a Service in namespace default still fails: %w\nkube-apiserver output ends with:\n%s",
				err, tail(s.apiserver.log, 30))
		case <-tick.C:
		}
	}
}

// URL returns the API server's address, https://127.0.0.1:<port>.
func (s *Server) URL() string { return s.url }

// CAData returns the PEM certificates that verify the serving certificate.
func (s *Server) CAData() []byte { return s.caPEM }

// RESTConfig returns a new admin (system:masters) client config with high
// client-side rate limits (QPS 1000, burst 2000).
func (s *Server) RESTConfig() *rest.Config {
	return s.config(s.tokens[AdminUser])
}

// UserConfig returns a client config for one of Options.Users.
func (s *Server) UserConfig(name string) (*rest.Config, error) {
	token, ok := s.tokens[name]
	if !ok {
		return nil, fmt.Errorf("kubeapi: no user %q", name)
	}
	return s.config(token), nil
}

func (s *Server) config(token string) *rest.Config {
	return &rest.Config{
		Host:            s.url,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.caPEM},
		QPS:             1000,
		Burst:           2000,
	}
}

// WriteKubeconfig writes an admin kubeconfig (mode 0600) to path.
func (s *Server) WriteKubeconfig(path string) error {
	const name = "kubeapi"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: s.url, CertificateAuthorityData: s.caPEM}
	cfg.AuthInfos[AdminUser] = &clientcmdapi.AuthInfo{Token: s.tokens[AdminUser]}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: AdminUser, Namespace: metav1.NamespaceDefault}
	cfg.CurrentContext = name
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("kubeapi: write kubeconfig: %w", err)
	}
	return nil
}

// Stop ends kube-apiserver, then etcd (SIGTERM, then SIGKILL after a grace
// period), and removes the temporary directory. It is safe to call twice.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.apiserver != nil {
			errs = append(errs, s.apiserver.stop(15*time.Second))
		}
		if s.etcd != nil {
			errs = append(errs, s.etcd.stop(5*time.Second))
		}
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("kubeapi: %w", err))
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("kubeapi: free port: %w", err)
		}
		defer l.Close() // held until all are picked, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

package wiring

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/tlsopts"
)

// Scheme knows the built-in kinds and every metallb.io kind.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1beta1.AddToScheme, v1beta2.AddToScheme} {
		if err := add(s); err != nil {
			panic(err) // static registrations: cannot fail at run time
		}
	}
	return s
}

// Loggers routes controller-runtime's and client-go's logs to log.
func Loggers(log *slog.Logger) {
	ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
	klog.SetSlogLogger(log)
}

// Namespace returns flagValue, else the service account's namespace, else
// metallb-system.
func Namespace(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
		return strings.TrimSpace(string(b))
	}
	return "metallb-system"
}

// RESTConfig reads --kubeconfig (registered by controller-runtime), then
// $KUBECONFIG, then the in-cluster configuration, with client-side rate
// limits raised to qps/burst so the API server, not the client, sets the
// pace.
func RESTConfig(qps float32, burst int) (*rest.Config, error) {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client configuration: %w", err)
	}
	cfg.QPS, cfg.Burst = qps, burst
	return cfg, nil
}

// TLS holds the --tls-* flag values.
type TLS struct {
	MinVersion, CipherSuites, Curves string
}

// Metrics returns MetalLB's metrics server options: HTTPS on port (0
// disables) with TokenReview/SubjectAccessReview authentication and
// authorization, a self-signed certificate unless certDir holds tls.crt and
// tls.key.
func Metrics(port int, certDir string, t TLS) (metricsserver.Options, error) {
	opt, err := tlsopts.Option(t.MinVersion, t.CipherSuites, t.Curves)
	if err != nil {
		return metricsserver.Options{}, err
	}
	addr := "0"
	if port != 0 {
		addr = fmt.Sprintf(":%d", port)
	}
	return metricsserver.Options{
		BindAddress:    addr,
		SecureServing:  true,
		FilterProvider: AuthFilter(10 * time.Second),
		CertDir:        certDir,
		TLSOpts:        []func(*tls.Config){opt},
	}, nil
}

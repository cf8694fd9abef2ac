// Command controller assigns external IPs to LoadBalancer Services from
// metallb.io IPAddressPools. Flags and environment variables follow
// MetalLB's controller.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/k8s/controller"
	"github.com/ferrolb/ferrolb/internal/k8s/wiring"
	"github.com/ferrolb/ferrolb/internal/logging"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "controller:", err)
		os.Exit(1)
	}
}

type flags struct {
	namespace, mlSecretName, deployment, logLevel           string
	pprofAddr, lbClass, podName, webhookMode, webhookSecret string
	certDir, certServiceName, metricsCertDir, tlsMinVersion string
	tlsCipherSuites, tlsCurves, leaderElectionID            string
	port, healthPort, workers                               int
	disableCertRotation, webhookHTTP2, leaderElect          bool
}

func parseFlags() *flags {
	f := &flags{}
	flag.StringVar(&f.namespace, "namespace", os.Getenv("METALLB_NAMESPACE"), "namespace holding the metallb.io configuration (default: the service account's)")
	flag.StringVar(&f.mlSecretName, "ml-secret-name", os.Getenv("METALLB_ML_SECRET_NAME"), "name of the memberlist secret to create")
	flag.StringVar(&f.deployment, "deployment", os.Getenv("METALLB_DEPLOYMENT"), "name of the controller's Deployment (owner of the memberlist secret)")
	flag.StringVar(&f.logLevel, "log-level", "info", "log level: "+strings.Join(logging.Levels, ", "))
	flag.StringVar(&f.pprofAddr, "pprof-bind-address", "", "address to serve pprof on (empty: off)")
	flag.StringVar(&f.lbClass, "lb-class", "", "handle only Services of this loadBalancerClass (empty: Services without a class)")
	flag.StringVar(&f.podName, "pod-name", os.Getenv("METALLB_POD_NAME"), "name of this pod")
	flag.StringVar(&f.webhookMode, "webhook-mode", "enabled", "webhook mode: enabled, disabled or onlywebhook")
	flag.StringVar(&f.webhookSecret, "webhook-secret", "metallb-webhook-cert", "secret holding the webhook certificate")
	flag.StringVar(&f.certDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "webhook certificate directory")
	flag.StringVar(&f.certServiceName, "cert-service-name", "metallb-webhook-service", "webhook service name")
	flag.StringVar(&f.metricsCertDir, "metrics-cert-dir", "", "directory with tls.crt and tls.key for the metrics server (default: self-signed)")
	flag.StringVar(&f.tlsMinVersion, "tls-min-version", "VersionTLS13", "minimum TLS version of the metrics server (VersionTLS12 or VersionTLS13)")
	flag.StringVar(&f.tlsCipherSuites, "tls-cipher-suites", "", "comma-separated TLS cipher suites")
	flag.StringVar(&f.tlsCurves, "tls-curve-preferences", "", "comma-separated TLS curves")
	flag.StringVar(&f.leaderElectionID, "leader-election-id", "metallb-controller", "name of the leader election Lease")
	flag.IntVar(&f.port, "port", 9120, "HTTPS metrics port (0 disables)")
	flag.IntVar(&f.healthPort, "health-probe-port", 17472, "health probe port (/healthz, /readyz)")
	flag.IntVar(&f.workers, "workers", 16, "Services converged in parallel")
	flag.BoolVar(&f.disableCertRotation, "disable-cert-rotation", false, "do not manage webhook certificates")
	flag.BoolVar(&f.webhookHTTP2, "webhook-http2", false, "enable HTTP/2 for the webhook server")
	flag.BoolVar(&f.leaderElect, "leader-elect", true, "elect a leader through a Lease so several replicas can run")
	flag.Parse()
	return f
}

func run() error {
	f := parseFlags()
	log, err := logging.New(os.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	wiring.Loggers(log)
	f.namespace = wiring.Namespace(f.namespace)
	switch f.webhookMode {
	case "enabled", "disabled":
	case "onlywebhook":
		return fmt.Errorf("--webhook-mode=onlywebhook: the admission webhooks are not part of this build yet")
	default:
		return fmt.Errorf("invalid --webhook-mode %q", f.webhookMode)
	}
	if f.webhookMode == "enabled" {
		log.Warn("admission webhooks are not served by this build; the CRD schemas still reject malformed objects")
	}

	// The controller writes one status per Service: let the API server,
	// not client-side throttling, set the pace.
	restCfg, err := wiring.RESTConfig(500, 1000)
	if err != nil {
		return err
	}
	metricsOpts, err := wiring.Metrics(f.port, f.metricsCertDir, wiring.TLS{MinVersion: f.tlsMinVersion, CipherSuites: f.tlsCipherSuites, Curves: f.tlsCurves})
	if err != nil {
		return err
	}
	own := cache.ByObject{Namespaces: map[string]cache.Config{f.namespace: {}}}
	mgr, err := ctrl.NewManager(restCfg, manager.Options{
		Scheme:                        wiring.Scheme(),
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        fmt.Sprintf(":%d", f.healthPort),
		PprofBindAddress:              f.pprofAddr,
		LeaderElection:                f.leaderElect,
		LeaderElectionID:              f.leaderElectionID,
		LeaderElectionNamespace:       f.namespace,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: map[client.Object]cache.ByObject{
			&v1beta1.IPAddressPool{}: own,
			&v1beta1.Community{}:     own,
		}},
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	events, stopEvents, err := wiring.EventRecorder(restCfg, mgr.GetScheme(), "metallb-controller")
	if err != nil {
		return err
	}
	defer stopEvents()
	if _, err := controller.Setup(mgr, controller.Options{
		Events:    events,
		Namespace: f.namespace,
		LBClass:   f.lbClass,
		Log:       log,
		Registry:  metrics.Registry,
		Workers:   f.workers,
		PodName:   f.podName,
	}); err != nil {
		return err
	}
	if f.mlSecretName != "" {
		err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := controller.EnsureMemberlistSecret(ctx, mgr.GetAPIReader(), mgr.GetClient(), f.namespace, f.mlSecretName, f.deployment); err != nil {
				log.Error("memberlist secret", "error", err)
			}
			return nil
		}))
		if err != nil {
			return err
		}
	}
	log.Info("starting controller", "namespace", f.namespace, "lbClass", f.lbClass, "leaderElection", f.leaderElect)
	return mgr.Start(ctrl.SetupSignalHandler())
}

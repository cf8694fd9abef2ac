// Command controller assigns external IPs to LoadBalancer Services from
// metallb.io IPAddressPools. Flags and environment variables follow
// MetalLB's controller.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/k8s/controller"
	"github.com/ferrolb/ferrolb/internal/k8s/wiring"
	"github.com/ferrolb/ferrolb/internal/logging"
	"github.com/ferrolb/ferrolb/internal/procmem"
	"github.com/ferrolb/ferrolb/internal/tlsopts"
	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/internal/webhook/certs"
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
	// Webhook serving and certificate management (FerroLB additions).
	webhookPort                                        int
	certExtraSANs                                      string
	certCheckInterval, certLookahead, caLife, certLife time.Duration
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
	flag.IntVar(&f.webhookPort, "webhook-port", webhook.Port, "webhook server port")
	flag.StringVar(&f.certExtraSANs, "cert-extra-sans", "", "comma-separated extra DNS names and IPs for the webhook certificate")
	flag.DurationVar(&f.certCheckInterval, "cert-check-interval", certs.DefaultCheckInterval, "how often the webhook certificate is checked")
	flag.DurationVar(&f.certLookahead, "cert-lookahead", certs.DefaultLookahead, "renew the webhook CA and certificate this long before they expire")
	flag.DurationVar(&f.caLife, "cert-ca-lifetime", certs.DefaultCALifetime, "validity of a new webhook CA")
	flag.DurationVar(&f.certLife, "cert-lifetime", certs.DefaultCertLifetime, "validity of a new webhook serving certificate")
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
	// Package initialisation ran once; keep only the binary's pages in
	// use mapped.
	procmem.TrimLogged(log)
	f.namespace = wiring.Namespace(f.namespace)
	switch f.webhookMode {
	case "enabled", "disabled":
	case "onlywebhook":
		// A webhook-only deployment runs next to a controller with
		// --webhook-mode=disabled: it needs a Lease of its own, or it would
		// never lead and never manage the certificate.
		if !flagSet("leader-election-id") {
			f.leaderElectionID += "-webhook"
		}
	default:
		return fmt.Errorf("invalid --webhook-mode %q", f.webhookMode)
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
	// Webhooks (every replica) and their certificate (leader).
	var serving *webhook.Serving
	var webhookServer crwebhook.Server
	if f.webhookMode != "disabled" {
		if serving, err = newServing(restCfg, f, log); err != nil {
			return err
		}
		webhookServer = serving.Server()
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
		WebhookServer:                 webhookServer,
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
	if serving != nil {
		if err := serving.Setup(mgr); err != nil {
			return err
		}
	}
	if f.webhookMode == "onlywebhook" {
		log.Info("starting webhooks only", "namespace", f.namespace, "leaderElection", f.leaderElect)
		return mgr.Start(ctrl.SetupSignalHandler())
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

// flagSet reports whether flag name was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// newServing builds the webhook server and its certificate management from
// the flags.
func newServing(cfg *rest.Config, f *flags, log *slog.Logger) (*webhook.Serving, error) {
	tlsOpt, err := tlsopts.Option(f.tlsMinVersion, f.tlsCipherSuites, f.tlsCurves)
	if err != nil {
		return nil, err
	}
	dnsNames, ips := certs.ParseSANs(f.certExtraSANs)
	return webhook.NewServing(cfg, webhook.ServingOptions{
		Namespace:           f.namespace,
		Port:                f.webhookPort,
		HTTP2:               f.webhookHTTP2,
		TLSOpts:             []func(*tls.Config){tlsOpt},
		DisableCertRotation: f.disableCertRotation,
		CertDir:             f.certDir,
		SecretName:          f.webhookSecret,
		ServiceName:         f.certServiceName,
		ExtraDNSNames:       dnsNames,
		ExtraIPs:            ips,
		CheckInterval:       f.certCheckInterval,
		CALifetime:          f.caLife,
		CertLifetime:        f.certLife,
		Lookahead:           f.certLookahead,
		Log:                 log,
	})
}

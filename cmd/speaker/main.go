// Command speaker makes LoadBalancer IPs reachable from the node it runs
// on: in layer 2 mode it answers ARP and NDP for the IPs this node owns.
// Flags and environment variables follow MetalLB's speaker.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/k8s/speaker"
	"github.com/ferrolb/ferrolb/internal/k8s/wiring"
	"github.com/ferrolb/ferrolb/internal/l2/announcer"
	"github.com/ferrolb/ferrolb/internal/logging"
	"github.com/ferrolb/ferrolb/internal/membership"
	"github.com/ferrolb/ferrolb/internal/procmem"
)

// busyGCPercent is the GC target while the speaker works through a burst.
const busyGCPercent = 100

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "speaker:", err)
		os.Exit(1)
	}
}

// maxProcs is the GOMAXPROCS to set for the --max-procs flag: 0 to leave
// the runtime's choice (no flag, or the GOMAXPROCS variable set).
func maxProcs(flag int, env string) int {
	if env != "" || flag <= 0 {
		return 0
	}
	return flag
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err == nil {
			return n
		}
	}
	return def
}

type flags struct {
	namespace, host, mlBindAddr, mlLabels, mlSecretKeyPath, nodeName, podName string
	logLevel, pprofAddr, lbClass, frrk8sNamespace, tlsMinVersion              string
	tlsCipherSuites, tlsCurves, metricsCertDir, mlConfigFile, excludeFile     string
	mlBindPort, port, healthPort, bgpDebounce                                 int
	mlWAN, ignoreExcludeLB, frrk8sPassthrough                                 bool
	memLimit                                                                  int64
	gcPercent, maxProcs                                                       int
	heartbeat, deadAfter, holdDown, debounce                                  time.Duration
}

func parseFlags() *flags {
	f := &flags{}
	flag.StringVar(&f.namespace, "namespace", os.Getenv("METALLB_NAMESPACE"), "namespace holding the metallb.io configuration (default: the service account's)")
	flag.StringVar(&f.host, "host", os.Getenv("METALLB_HOST"), "deprecated, unused")
	flag.StringVar(&f.mlBindAddr, "ml-bindaddr", os.Getenv("METALLB_ML_BIND_ADDR"), "memberlist bind address (membership is on when this and --ml-labels are set)")
	flag.IntVar(&f.mlBindPort, "ml-bindport", envInt("METALLB_ML_BIND_PORT", membership.DefaultPort), "memberlist port (TCP and UDP)")
	flag.StringVar(&f.mlLabels, "ml-labels", os.Getenv("METALLB_ML_LABELS"), "labels of the speaker Pods whose IPs memberlist joins")
	flag.StringVar(&f.mlSecretKeyPath, "ml-secret-key-path", os.Getenv("METALLB_ML_SECRET_KEY_PATH"), "directory holding the memberlist secret (file secretkey)")
	flag.BoolVar(&f.mlWAN, "ml-wan-config", false, "use memberlist's WAN timings")
	flag.StringVar(&f.mlConfigFile, "ml-config-file", membership.DefaultConfigPath, "JSON file overriding memberlist timings (optional)")
	flag.DurationVar(&f.heartbeat, "ml-heartbeat-interval", membership.DefaultHeartbeatInterval, "liveness heartbeat interval between speakers")
	flag.DurationVar(&f.deadAfter, "ml-dead-after", membership.DefaultDeadAfter, "a speaker not heard from for this long is dead (failover time)")
	flag.DurationVar(&f.holdDown, "l2-hold-down", time.Second, "after start-up or isolation, wait this long before taking over IPs")
	flag.DurationVar(&f.debounce, "sync-debounce", 500*time.Millisecond, "upper bound of the window that coalesces Kubernetes object events before recomputing announcements (the window adapts: 4x the last pass, at least 5 ms; during a burst it doubles, up to an eighth of the burst's length so far; node failures are never delayed)")
	flag.StringVar(&f.excludeFile, "l2-exclude-file", "/etc/metallb/excludel2.yaml", "YAML file with announcedInterfacesToExclude regexes (optional)")
	flag.StringVar(&f.nodeName, "node-name", os.Getenv("METALLB_NODE_NAME"), "name of this node (required)")
	flag.StringVar(&f.podName, "pod-name", os.Getenv("METALLB_POD_NAME"), "name of this speaker's Pod")
	flag.IntVar(&f.port, "port", 9120, "HTTPS metrics port (0 disables)")
	flag.IntVar(&f.healthPort, "health-probe-port", 17472, "health probe port on 127.0.0.1 (0 disables)")
	flag.StringVar(&f.logLevel, "log-level", "info", "log level: "+strings.Join(logging.Levels, ", "))
	flag.StringVar(&f.pprofAddr, "pprof-bind-address", "", "address to serve pprof on (empty: off)")
	flag.StringVar(&f.lbClass, "lb-class", "", "handle only Services of this loadBalancerClass")
	flag.BoolVar(&f.ignoreExcludeLB, "ignore-exclude-lb", false, "ignore the node.kubernetes.io/exclude-from-external-load-balancers label")
	flag.IntVar(&f.bgpDebounce, "bgp-debounce-timeout", envInt("METALLB_BGP_DEBOUNCE_TIMEOUT", 3000), "BGP debounce (ms), accepted for compatibility")
	flag.StringVar(&f.frrk8sNamespace, "frrk8s-namespace", os.Getenv("FRRK8S_NAMESPACE"), "accepted for compatibility")
	flag.BoolVar(&f.frrk8sPassthrough, "frrk8s-secret-passthrough", false, "accepted for compatibility")
	flag.StringVar(&f.tlsMinVersion, "tls-min-version", "VersionTLS13", "minimum TLS version of the metrics server")
	flag.StringVar(&f.tlsCipherSuites, "tls-cipher-suites", "", "comma-separated TLS cipher suites")
	flag.StringVar(&f.tlsCurves, "tls-curve-preferences", "", "comma-separated TLS curves")
	flag.StringVar(&f.metricsCertDir, "metrics-cert-dir", "", "directory with tls.crt and tls.key for the metrics server")
	flag.IntVar(&f.gcPercent, "gc-percent", 10, "Go garbage collection target percentage while the speaker is quiet (GOGC wins when set; 0 leaves the default): the heap may grow this much over live data before a collection. During bursts of changes the target is 100, so a burst costs less CPU; once quiet, a small target keeps the resident set close to the live data")
	flag.IntVar(&f.maxProcs, "max-procs", 1, "CPUs the speaker's Go code may use at once (GOMAXPROCS wins when set; 0: Go's default, the CPU count or the container's CPU limit). The speaker works in short bursts: one CPU keeps a burst of Service changes from taking several of the node's CPUs at once, from its workloads or, in a small cluster, from the control plane, for a few milliseconds more latency while a large pass runs")
	flag.Int64Var(&f.memLimit, "go-memory-limit", -1, "soft limit for the Go heap in bytes (GOMEMLIMIT wins when set); -1: 90% of the container's memory limit, none without one; 0: none. A limit below what a burst of Services needs costs much GC time")
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
	if os.Getenv("GOMEMLIMIT") == "" {
		cg, err := procmem.CgroupMemoryLimit()
		if err != nil {
			log.Warn("cannot read the container's memory limit", "error", err)
		}
		if limit := procmem.GoMemoryLimit(f.memLimit, cg); limit > 0 {
			debug.SetMemoryLimit(limit)
			log.Debug("Go memory limit set", "bytes", limit, "containerLimit", cg)
		}
	}
	if os.Getenv("GOGC") != "" {
		f.gcPercent = 0 // the environment decides
	}
	if n := maxProcs(f.maxProcs, os.Getenv("GOMAXPROCS")); n > 0 {
		runtime.GOMAXPROCS(n)
	}
	if f.gcPercent > 0 {
		debug.SetGCPercent(max(f.gcPercent, busyGCPercent)) // start-up is busy
	}
	if f.nodeName == "" {
		return errors.New("--node-name (or METALLB_NODE_NAME) is required")
	}
	f.namespace = wiring.Namespace(f.namespace)
	log = log.With("node", f.nodeName)

	restCfg, err := wiring.RESTConfig(200, 400)
	if err != nil {
		return err
	}
	metricsOpts, err := wiring.Metrics(f.port, f.metricsCertDir, wiring.TLS{MinVersion: f.tlsMinVersion, CipherSuites: f.tlsCipherSuites, Curves: f.tlsCurves})
	if err != nil {
		return err
	}
	healthAddr := "0"
	if f.healthPort != 0 {
		healthAddr = fmt.Sprintf("127.0.0.1:%d", f.healthPort)
	}
	own := cache.ByObject{Namespaces: map[string]cache.Config{f.namespace: {}}}
	mgr, err := ctrl.NewManager(restCfg, manager.Options{
		Scheme:                 wiring.Scheme(),
		Metrics:                metricsOpts,
		HealthProbeBindAddress: healthAddr,
		PprofBindAddress:       f.pprofAddr,
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: map[client.Object]cache.ByObject{
			&v1beta1.IPAddressPool{}:   own,
			&v1beta1.L2Advertisement{}: own,
			&v1beta1.ServiceL2Status{}: own,
			// Every node writes its own ServiceBGPStatus objects and never
			// touches the others': cache only this node's.
			&v1beta1.ServiceBGPStatus{}: {Namespaces: map[string]cache.Config{f.namespace: {
				LabelSelector: labels.SelectorFromSet(labels.Set{speaker.LabelNode: f.nodeName}),
			}}},
			&v1beta1.BGPAdvertisement{}: own,
			&v1beta2.BGPPeer{}:          own,
			&v1beta1.BFDProfile{}:       own,
			&v1beta1.Community{}:        own,
			&corev1.Secret{}:            own,
			&corev1.Pod{}:               own,
			// Cluster-wide kinds: only the fields the speaker reads.
			&corev1.Service{}:            {Transform: speaker.TrimService},
			&discoveryv1.EndpointSlice{}: {Transform: speaker.TrimEndpointSlice},
			&corev1.Node{}:               {Transform: speaker.TrimNode},
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

	opts := speaker.Options{
		Namespace:       f.namespace,
		Node:            f.nodeName,
		PodName:         f.podName,
		RestGC:          f.gcPercent,
		BusyGC:          busyGCPercent,
		LBClass:         f.lbClass,
		IgnoreExcludeLB: f.ignoreExcludeLB,
		Log:             log,
		Registry:        metrics.Registry,
		// A returning speaker waits a little longer than its peers' warm-up
		// (a few heartbeats: they hear it slightly after it joined), so the
		// old owner has let go before it answers: a moment without an
		// answer for new lookups, never two answers.
		HoldDown: f.holdDown + 3*f.heartbeat,
		Debounce: f.debounce,
	}
	exclude, err := announcer.ReadExcludeFile(f.excludeFile)
	if err != nil {
		return err
	}
	opts.Announcer.Exclude = exclude
	if f.mlBindAddr != "" && f.mlLabels != "" {
		sel, err := labels.Parse(f.mlLabels)
		if err != nil {
			return fmt.Errorf("--ml-labels: %w", err)
		}
		secret := ""
		if f.mlSecretKeyPath != "" {
			if secret, err = membership.ReadSecret(f.mlSecretKeyPath); err != nil {
				return err
			}
		}
		if secret == "" {
			log.Warn("no memberlist secret: speaker traffic is not encrypted")
		}
		m, err := membership.New(membership.Config{
			NodeName:          f.nodeName,
			BindAddr:          f.mlBindAddr,
			BindPort:          f.mlBindPort,
			Secret:            secret,
			WAN:               f.mlWAN,
			ConfigFile:        f.mlConfigFile,
			HeartbeatInterval: f.heartbeat,
			DeadAfter:         f.deadAfter,
			// Peers see a returning speaker as a candidate only after the
			// hold-down it applies to itself, so its IPs never go
			// unanswered in between.
			Warmup: f.holdDown,
		}, log)
		if err != nil {
			return err
		}
		opts.Members, opts.MemberLabels = m, sel
	} else {
		log.Warn("memberlist disabled (--ml-bindaddr and --ml-labels not both set): every node counts as having a live speaker")
	}
	events, stopEvents, err := wiring.EventRecorder(restCfg, mgr.GetScheme(), "metallb-speaker")
	if err != nil {
		return err
	}
	defer stopEvents()
	opts.Events = events
	if err := speaker.Setup(mgr, opts); err != nil {
		return err
	}
	log.Info("starting speaker", "namespace", f.namespace, "membership", opts.Members != nil)
	return mgr.Start(ctrl.SetupSignalHandler())
}

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/ferrolb/ferrolb/test/lab"
)

// MetalLB's figures from the issue, for the table.
const (
	metalLBScale       = "500 Services: 11.6 s, ~6x"
	metalLBFailover    = "2.5 s (native, no BFD, hold 3 s)"
	metalLBFailoverBFD = "no BFD in native mode; FRR bfdd default 300 ms x 3: ~900 ms"
	metalLBRSS         = ""
	latencyTarget      = "< 100 ms"
	scaleTarget        = "<= 2x"
	failoverTarget     = "< 500 ms"
	memoryTarget       = "< 60 MiB"
)

type options struct {
	latencyServices, services, concurrency, trials int
	skipLatency, skipFailover, skipScale           bool
	keepDir                                        bool
	poll, gap, settle, phaseTimeout                time.Duration
	speakerArgs                                    []string
	pprofPort                                      int
	profileDir                                     string
	cpuProfile                                     time.Duration
	withoutSpeakers                                bool
}

// row is one line of the final table.
type row struct{ measurement, value, target, metalLB string }

func main() {
	var o options
	var speakerArgs string
	flag.IntVar(&o.latencyServices, "latency-services", 20, "Services created one at a time in the latency run")
	flag.IntVar(&o.services, "services", 1000, "Services created at once in the scale run")
	flag.IntVar(&o.concurrency, "concurrency", 16, "goroutines creating Services (same in the scale run and its baseline)")
	flag.IntVar(&o.trials, "trials", 6, "node failure trials (the victim rotates over the nodes)")
	flag.BoolVar(&o.skipLatency, "skip-latency", false, "do not run the one-at-a-time latency run")
	flag.BoolVar(&o.skipFailover, "skip-failover", false, "do not run the node failure trials")
	flag.BoolVar(&o.skipScale, "skip-scale", false, "do not run the scale and memory measurements (nor their baseline)")
	flag.BoolVar(&o.keepDir, "keep-dir", false, "keep each lab's directory (process logs) and print where")
	flag.DurationVar(&o.poll, "poll", 5*time.Millisecond, "interval between two queries of FRR's RIB (latency and failover runs)")
	flag.DurationVar(&o.gap, "gap", 300*time.Millisecond, "latency run: pause between a Service's endpoints and its creation, and after its route")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "wait after the last route arrived before reading memory")
	flag.DurationVar(&o.phaseTimeout, "phase-timeout", 5*time.Minute, "bound on each wait of the scale run")
	flag.StringVar(&speakerArgs, "speaker-args", "", "extra speaker flags, space-separated (e.g. \"--log-level debug\")")
	flag.IntVar(&o.pprofPort, "pprof-port", 0, "run the speakers with --pprof-bind-address 127.0.0.1:<port> (inside each node) and save their heap profiles after the scale run")
	flag.StringVar(&o.profileDir, "profile-dir", "", "where to save the profiles (default: the current directory)")
	flag.DurationVar(&o.cpuProfile, "cpu-profile", 0, "with -pprof-port, also record node1's speaker CPU profile for this long from the start of the scale workload")
	flag.BoolVar(&o.withoutSpeakers, "compare-without-speakers", false, "diagnostic: also time the scale workload on a lab without speakers (controller only)")
	flag.Parse()
	if o.latencyServices < 1 || o.services < 1 || o.concurrency < 1 || o.trials < 1 || o.poll <= 0 {
		fmt.Fprintln(os.Stderr, "benchbgp: -latency-services, -services, -concurrency, -trials and -poll must be positive")
		os.Exit(2)
	}
	if o.services > maxServices || o.latencyServices > maxLatencyServices {
		fmt.Fprintf(os.Stderr, "benchbgp: at most %d services and %d latency services\n", maxServices, maxLatencyServices)
		os.Exit(2)
	}
	o.speakerArgs = strings.Fields(speakerArgs)
	if o.pprofPort != 0 {
		o.speakerArgs = append(o.speakerArgs, "--pprof-bind-address", fmt.Sprintf("127.0.0.1:%d", o.pprofPort))
	}

	klog.SetLogger(logr.Discard()) // client-go's chatter when a watch ends; errors are returned
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	rows, err := run(ctx, o)
	cancel()
	lab.RemoveBinaries()
	printTable(rows)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchbgp:", err)
		os.Exit(1)
	}
}

// run performs the measurements in turn; on error it returns the rows
// measured so far.
func run(ctx context.Context, o options) ([]row, error) {
	var rows []row
	if !o.skipLatency || !o.skipFailover {
		r, err := routerLabRun(ctx, o)
		rows = append(rows, r...)
		if err != nil {
			return rows, err
		}
	}
	if !o.skipScale {
		progress("scale: %d Services at once, 3 nodes, 3 routers (FRR, BIRD, GoBGP)", o.services)
		r, err := scaleRun(ctx, o)
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("scale: %w", err)
		}
	}
	return rows, nil
}

func printTable(rows []row) {
	if len(rows) == 0 {
		return
	}
	fmt.Println()
	fmt.Println("| measurement | value | target | MetalLB |")
	fmt.Println("|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s |\n", r.measurement, r.value, dash(r.target), dash(r.metalLB))
	}
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s benchbgp: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// median of xs (not empty).
func median(xs []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile returns the nearest-rank p-th percentile of xs (not empty).
func percentile(xs []time.Duration, p int) time.Duration {
	s := slices.Sorted(slices.Values(xs))
	k := (p*len(s) + 99) / 100 // ceil(p/100 * n), 1-based
	return s[min(max(k, 1), len(s))-1]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func msec(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// each lists durations in milliseconds: "81, 95, 102".
func each(xs []time.Duration) string {
	parts := make([]string, len(xs))
	for i, d := range xs {
		parts[i] = fmt.Sprint(d.Round(time.Millisecond).Milliseconds())
	}
	return strings.Join(parts, ", ")
}

// thousands writes n with a thousands separator: 1000 -> "1,000".
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// startLab starts a three-node lab with the controller, keeping its
// directory if asked.
func startLab(ctx context.Context, o options) (*lab.Lab, error) {
	l, err := lab.Start(ctx, lab.Options{Nodes: 3, KeepDir: o.keepDir, Progress: os.Stderr, Timeout: 3 * time.Minute})
	if err != nil {
		return nil, err
	}
	progress("  lab %s (logs in %s)", l.Prefix, l.Dir)
	return l, nil
}

// closeLab tears a lab down and says where its files are if kept.
func closeLab(l *lab.Lab, o options) {
	if err := l.Close(); err != nil {
		progress("tearing the lab down: %v", err)
	}
	if o.keepDir {
		progress("lab files kept in %s", l.Dir)
	}
}

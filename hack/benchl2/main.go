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
	metalLBFailover = "5-7 s median"
	metalLBScale    = "18-23 s vs 3.7 s"
	metalLBRSS      = "85 MiB"
)

type options struct {
	trials, services, concurrency int
	skipFailover, skipScale       bool
	keepDir                       bool
	phaseTimeout, settle          time.Duration
	httpTimeout, httpEvery        time.Duration
	speakerArgs                   []string
	pprofPort                     int
	profileDir                    string
	cpuProfile                    time.Duration
	withoutSpeakers               bool
}

// row is one line of the final table.
type row struct{ measurement, value, target, metalLB string }

func main() {
	var o options
	var speakerArgs string
	flag.IntVar(&o.trials, "trials", 10, "failover trials")
	flag.IntVar(&o.services, "services", 1000, "L2 Services in the scale run")
	flag.IntVar(&o.concurrency, "concurrency", 16, "goroutines creating Services (same in the scale run and its baseline)")
	flag.BoolVar(&o.skipFailover, "skip-failover", false, "do not run the failover trials")
	flag.BoolVar(&o.skipScale, "skip-scale", false, "do not run the scale and memory measurements")
	flag.BoolVar(&o.keepDir, "keep-dir", false, "keep each lab's directory (process logs) and print where")
	flag.DurationVar(&o.phaseTimeout, "phase-timeout", 5*time.Minute, "bound on each wait of the scale run")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "wait after the last IP answered before reading memory")
	flag.DurationVar(&o.httpTimeout, "http-timeout", 250*time.Millisecond, "timeout of each failover request")
	flag.DurationVar(&o.httpEvery, "http-interval", 50*time.Millisecond, "interval between failover requests")
	flag.StringVar(&speakerArgs, "speaker-args", "", "extra speaker flags, space-separated (e.g. \"--log-level debug\")")
	flag.IntVar(&o.pprofPort, "pprof-port", 0, "run the speakers with --pprof-bind-address 127.0.0.1:<port> (inside each node) and save their heap profiles after the scale run")
	flag.StringVar(&o.profileDir, "profile-dir", "", "where to save the profiles (default: the current directory)")
	flag.DurationVar(&o.cpuProfile, "cpu-profile", 0, "with -pprof-port, also record node1's speaker CPU profile for this long from the start of the scale workload")
	flag.BoolVar(&o.withoutSpeakers, "compare-without-speakers", false, "diagnostic: also time the scale workload on a lab without speakers (controller only)")
	flag.Parse()
	if o.trials < 1 || o.services < 1 || o.concurrency < 1 {
		fmt.Fprintln(os.Stderr, "benchl2: -trials, -services and -concurrency must be positive")
		os.Exit(2)
	}
	if o.services > maxServices {
		fmt.Fprintf(os.Stderr, "benchl2: at most %d services\n", maxServices)
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
		fmt.Fprintln(os.Stderr, "benchl2:", err)
		os.Exit(1)
	}
}

// run performs the measurements in turn; on error it returns the rows
// measured so far.
func run(ctx context.Context, o options) ([]row, error) {
	var rows []row
	if !o.skipFailover {
		progress("failover: %d trials", o.trials)
		r, err := failoverRun(ctx, o)
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("failover: %w", err)
		}
	}
	if !o.skipScale {
		progress("scale: %d Services", o.services)
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
	fmt.Fprintf(os.Stderr, "%s benchl2: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
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

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

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
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// startLab starts a three-node lab with the controller, keeping its
// directory if asked.
func startLab(ctx context.Context, o options, onLink []string) (*lab.Lab, error) {
	opts := lab.Options{Nodes: 3, KeepDir: o.keepDir, Progress: os.Stderr, Timeout: 3 * time.Minute}
	for _, p := range onLink {
		opts.OnLink = append(opts.OnLink, mustPrefix(p))
	}
	l, err := lab.Start(ctx, opts)
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

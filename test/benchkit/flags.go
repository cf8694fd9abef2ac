package benchkit

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
)

// SpeakerFlags are the flags the speaker benchmarks (hack/benchl2,
// hack/benchbgp) share: the scale workload's concurrency and bound, the
// labs' directories, the speakers' extra flags and profiles, and the
// comparison without speakers.
type SpeakerFlags struct {
	Concurrency     int           // -concurrency
	PhaseTimeout    time.Duration // -phase-timeout
	KeepDir         bool          // -keep-dir
	PprofPort       int           // -pprof-port
	ProfileDir      string        // -profile-dir
	CPUProfile      time.Duration // -cpu-profile
	WithoutSpeakers bool          // -compare-without-speakers
	BusyLoops       int           // -compare-busy-loops
	APIProfile      time.Duration // -apiserver-profile
	APIProfileAfter time.Duration // -apiserver-profile-after
	Rounds          int           // -rounds
	extraArgs       string        // -speaker-args
}

// Register defines the flags on fs, with their defaults.
func (f *SpeakerFlags) Register(fs *flag.FlagSet) {
	fs.IntVar(&f.Concurrency, "concurrency", 16, "goroutines creating Services (same in the scale run and its baseline)")
	fs.IntVar(&f.Rounds, "rounds", 3, "scale rounds, each the API-server-alone baselines then the lab run; the ratio reported is the median of the rounds' (the machine's speed drifts)")
	fs.DurationVar(&f.PhaseTimeout, "phase-timeout", 5*time.Minute, "bound on each wait of the scale run")
	fs.BoolVar(&f.KeepDir, "keep-dir", false, "keep each lab's directory (process logs) and print where")
	fs.StringVar(&f.extraArgs, "speaker-args", "", "extra speaker flags, space-separated (e.g. \"--log-level debug\")")
	fs.IntVar(&f.PprofPort, "pprof-port", 0, "run the speakers with --pprof-bind-address 127.0.0.1:<port> (inside each node) and save their heap profiles after the scale run")
	fs.StringVar(&f.ProfileDir, "profile-dir", "", "where to save the profiles (default: the current directory)")
	fs.DurationVar(&f.CPUProfile, "cpu-profile", 0, "with -pprof-port, also record node1's speaker CPU profile for this long from the start of the scale workload, and its heap profile halfway")
	fs.DurationVar(&f.APIProfile, "apiserver-profile", 0, "diagnostic: record the API server's CPU profile for this long into the scale burst (each baseline's too), and its goroutines halfway (into -profile-dir)")
	fs.DurationVar(&f.APIProfileAfter, "apiserver-profile-after", 2*time.Second, "with -apiserver-profile, start the profiles this long after the burst starts")
	fs.BoolVar(&f.WithoutSpeakers, "compare-without-speakers", false, "diagnostic: also time the scale workload on a lab without speakers (controller only)")
	fs.IntVar(&f.BusyLoops, "compare-busy-loops", 0, "diagnostic: also time the API-server-alone baseline beside this many busy loops (arithmetic only, in a child process): how much mere competition for the CPUs slows the API server")
}

// SpeakerArgs are the speakers' extra flags: those of -speaker-args, and
// the pprof address with -pprof-port.
func (f *SpeakerFlags) SpeakerArgs() []string {
	args := strings.Fields(f.extraArgs)
	if f.PprofPort != 0 {
		args = append(args, "--pprof-bind-address", fmt.Sprintf("127.0.0.1:%d", f.PprofPort))
	}
	return args
}

// SaveAPIServerProfile runs SaveAPIServerBurst as -apiserver-profile asks,
// if it does, in the background; the files' names start with prefix. wait
// returns once the profile is saved (or failed).
func (f *SpeakerFlags) SaveAPIServerProfile(ctx context.Context, cs kubernetes.Interface, prefix string, progress Progress) (wait func()) {
	done := make(chan struct{})
	if f.APIProfile <= 0 {
		close(done)
	} else {
		go func() {
			defer close(done)
			SaveAPIServerBurst(ctx, cs, f.ProfileDir, prefix, f.APIProfileAfter, f.APIProfile, progress)
		}()
	}
	return func() { <-done }
}

// BaselineProfile is BaselineOptions.Profile for the baseline with or
// without slices: its API server's profile as -apiserver-profile asks,
// named kube-apiserver-baseline[-slices]-* (the run beside busy loops,
// which has no slices, overwrites the plain run's).
func (f *SpeakerFlags) BaselineProfile(slices bool, progress Progress) func(context.Context, kubernetes.Interface) func() {
	prefix := "kube-apiserver-baseline"
	if slices {
		prefix += "-slices"
	}
	return func(ctx context.Context, cs kubernetes.Interface) func() {
		return f.SaveAPIServerProfile(ctx, cs, prefix, progress)
	}
}

package benchkit

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSpeakerFlags(t *testing.T) {
	parse := func(args ...string) SpeakerFlags {
		t.Helper()
		var f SpeakerFlags
		fs := flag.NewFlagSet("bench", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.Register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return f
	}
	d := parse()
	if d.Concurrency != 16 || d.PhaseTimeout != 5*time.Minute || d.KeepDir || d.PprofPort != 0 || len(d.SpeakerArgs()) != 0 {
		t.Errorf("defaults %+v, speaker args %q", d, d.SpeakerArgs())
	}
	f := parse("-speaker-args", "--log-level  debug", "-pprof-port", "6060", "-concurrency", "4")
	want := []string{"--log-level", "debug", "--pprof-bind-address", "127.0.0.1:6060"}
	if diff := cmp.Diff(want, f.SpeakerArgs()); diff != "" {
		t.Errorf("SpeakerArgs (-want +got):\n%s", diff)
	}
	if f.Concurrency != 4 {
		t.Errorf("Concurrency = %d; want 4", f.Concurrency)
	}
}

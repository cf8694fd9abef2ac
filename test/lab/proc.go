package lab

import (
	"fmt"

	"github.com/ferrolb/ferrolb/test/cluster"
)

// Proc is a process the lab started inside a host's network namespace.
type Proc = cluster.Proc

// startProc runs bin inside network namespace ns through `ip netns exec`
// (which execs, so the PID is bin's, and remounts /sys for the namespace).
// env is added to the lab's own environment. The process dies with the
// lab's process (Pdeathsig).
func startProc(name, ns, logPath string, env []string, bin string, args ...string) (*Proc, error) {
	p, err := cluster.StartProc(name, logPath, env, "ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return p, nil
}

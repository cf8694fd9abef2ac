package benchkit

import (
	"context"
	"net/netip"
	"os"
	"time"

	"github.com/ferrolb/ferrolb/test/lab"
)

// StartLab starts a three-node lab with the controller (its own progress
// on stderr, 3 minutes to come up), the client and the nodes reaching
// onLink on-link, keeping its directory if keepDir.
func StartLab(ctx context.Context, keepDir bool, onLink []netip.Prefix, progress Progress) (*lab.Lab, error) {
	l, err := lab.Start(ctx, lab.Options{Nodes: 3, KeepDir: keepDir, OnLink: onLink, Progress: os.Stderr, Timeout: 3 * time.Minute})
	if err != nil {
		return nil, err
	}
	progress("  lab %s (logs in %s)", l.Prefix, l.Dir)
	return l, nil
}

// CloseLab tears l down and says where its files are if kept.
func CloseLab(l *lab.Lab, keepDir bool, progress Progress) {
	if err := l.Close(); err != nil {
		progress("tearing the lab down: %v", err)
	}
	if keepDir {
		progress("lab files kept in %s", l.Dir)
	}
}

// SpeakerMemory is the memory of a node's speaker: its VmRSS before a
// workload (Idle), and its Memory after.
type SpeakerMemory struct {
	Node string
	Idle uint64
	Memory
}

// IdleSpeakers reads the VmRSS of the speaker on each of l's nodes, as
// the Idle of a SpeakerMemory each.
func IdleSpeakers(l *lab.Lab) ([]SpeakerMemory, error) {
	var out []SpeakerMemory
	for _, nd := range l.Nodes {
		sp, err := l.Speaker(nd.Name)
		if err != nil {
			return nil, err
		}
		idle, err := StatusField(sp.PID(), "VmRSS:")
		if err != nil {
			return nil, err
		}
		out = append(out, SpeakerMemory{Node: nd.Name, Idle: idle})
	}
	return out, nil
}

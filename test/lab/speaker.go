package lab

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/test/cluster"
)

// SpeakerLabels are the speaker Pods' labels, also passed as
// METALLB_ML_LABELS (the MetalLB manifests' values).
const SpeakerLabels = "app=metallb,component=speaker"

// MemberlistSecret is the Secret (key "secretkey") holding the memberlist
// key, as in a MetalLB installation; the speakers read the same key from
// the file <Dir>/memberlist/secretkey.
const MemberlistSecret = "metallb-memberlist"

// speakerGrace is how long RestartSpeaker and Close wait after SIGTERM.
const speakerGrace = 5 * time.Second

// StartSpeakers builds ./cmd/speaker and runs it in every node namespace
// with
//
//	--node-name <node> --kubeconfig <node kubeconfig> args...
//
// and the environment of a MetalLB speaker Pod: METALLB_NODE_NAME,
// METALLB_POD_NAME, METALLB_NAMESPACE, METALLB_ML_BIND_ADDR (the node's
// IPv4 address), METALLB_ML_LABELS, METALLB_ML_SECRET_KEY_PATH, KUBECONFIG.
// Beforehand it creates the memberlist Secret and one speaker Pod object
// per node (labels SpeakerLabels, spec.nodeName, status Running and Ready
// with podIP = hostIP = node address), since no kubelet does. It fails if
// the speaker does not build or a speaker exits within its first second.
func (l *Lab) StartSpeakers(ctx context.Context, args ...string) error {
	bin, err := binary("./cmd/speaker")
	if err != nil {
		return fmt.Errorf("lab: cannot build the speaker: %w", err)
	}
	return l.runSpeakers(ctx, bin, args)
}

// runSpeakers is StartSpeakers with a given binary.
func (l *Lab) runSpeakers(ctx context.Context, bin string, args []string) error {
	l.mu.Lock()
	l.speakerBin, l.speakerArgs = bin, args
	l.mu.Unlock()
	if err := l.writeMemberlistSecret(ctx); err != nil {
		return err
	}
	for _, n := range l.Nodes {
		if err := l.createSpeakerPod(ctx, n); err != nil {
			return err
		}
		if err := l.startSpeaker(n); err != nil {
			return err
		}
	}
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, n := range l.Nodes {
		if p, _ := l.Speaker(n.Name); p.Exited() {
			return fmt.Errorf("lab: the speaker on %s exited at once; its log ends with:\n%s", n.Name, p.Tail(20))
		}
	}
	return nil
}

func speakerPodName(node string) string { return "speaker-" + node }

func (l *Lab) memberlistDir() string { return filepath.Join(l.Dir, "memberlist") }

func (l *Lab) writeMemberlistSecret(ctx context.Context) error {
	path := filepath.Join(l.memberlistDir(), "secretkey")
	if _, err := os.Stat(path); err == nil {
		return nil // an earlier StartSpeakers wrote it
	}
	raw := make([]byte, 96)
	rand.Read(raw) // never fails
	key := base64.StdEncoding.EncodeToString(raw)
	if err := os.MkdirAll(l.memberlistDir(), 0o700); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := os.WriteFile(path, []byte(key), 0o600); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: MemberlistSecret},
		Data:       map[string][]byte{"secretkey": []byte(key)},
	}
	if err := upsert(ctx, l.Cluster.Client, s); err != nil {
		return fmt.Errorf("lab: memberlist secret: %w", err)
	}
	return nil
}

// createSpeakerPod writes the Pod object a speaker DaemonSet would own on
// node n, with the status a kubelet would report.
func (l *Lab) createSpeakerPod(ctx context.Context, n *Node) error {
	labels := map[string]string{}
	for _, kv := range strings.Split(SpeakerLabels, ",") {
		k, v, _ := strings.Cut(kv, "=")
		labels[k] = v
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: speakerPodName(n.Name), Labels: labels},
		Spec: corev1.PodSpec{
			NodeName:    n.Name,
			HostNetwork: true,
			Containers:  []corev1.Container{{Name: "speaker", Image: "ferrolb/speaker:lab"}},
		},
	}
	c := l.Cluster.Client
	if err := upsert(ctx, c, pod); err != nil {
		return fmt.Errorf("lab: speaker pod on %s: %w", n.Name, err)
	}
	now := metav1.Now()
	ips := []corev1.PodIP{{IP: n.IPv4.String()}, {IP: n.IPv6.String()}}
	pod.Status = corev1.PodStatus{
		Phase:     corev1.PodRunning,
		HostIP:    n.IPv4.String(),
		HostIPs:   []corev1.HostIP{{IP: n.IPv4.String()}, {IP: n.IPv6.String()}},
		PodIP:     n.IPv4.String(),
		PodIPs:    ips,
		StartTime: &now,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		},
	}
	if err := c.Status().Update(ctx, pod); err != nil {
		return fmt.Errorf("lab: speaker pod status on %s: %w", n.Name, err)
	}
	return nil
}

func (l *Lab) startSpeaker(n *Node) error {
	l.mu.Lock()
	bin, extra := l.speakerBin, l.speakerArgs
	l.mu.Unlock()
	if bin == "" {
		return fmt.Errorf("lab: StartSpeakers has not run")
	}
	env := []string{
		"METALLB_NODE_NAME=" + n.Name,
		"METALLB_POD_NAME=" + speakerPodName(n.Name),
		"METALLB_NAMESPACE=" + cluster.Namespace,
		"METALLB_ML_BIND_ADDR=" + n.IPv4.String(),
		"METALLB_ML_LABELS=" + SpeakerLabels,
		"METALLB_ML_SECRET_KEY_PATH=" + l.memberlistDir(),
		"KUBECONFIG=" + n.Kubeconfig,
	}
	args := append([]string{"--node-name", n.Name, "--kubeconfig", n.Kubeconfig}, extra...)
	p, err := l.StartProcess(n.Host, "speaker", env, bin, args...)
	if err != nil {
		return err
	}
	l.mu.Lock()
	n.speaker = p
	l.mu.Unlock()
	return nil
}

// Speaker returns the current speaker process of a node (the newest after
// RestartSpeaker).
func (l *Lab) Speaker(node string) (*Proc, error) {
	n, err := l.Node(node)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n.speaker == nil {
		return nil, fmt.Errorf("lab: no speaker on %s (StartSpeakers first)", node)
	}
	return n.speaker, nil
}

// KillSpeaker sends sig to a node's speaker (its process group). For
// SIGKILL it also waits, bounded by ctx, until the process is gone. To
// mimic a dead node, call LinkDown first: a killed process's TCP sockets
// are closed cleanly, which a dead node never does.
func (l *Lab) KillSpeaker(ctx context.Context, node string, sig syscall.Signal) error {
	p, err := l.Speaker(node)
	if err != nil {
		return err
	}
	if err := p.Signal(sig); err != nil {
		return err
	}
	if sig == syscall.SIGKILL {
		_ = p.Wait(ctx) // the exit status of a killed process is not an error
		if !p.Exited() {
			return fmt.Errorf("lab: speaker on %s still running after SIGKILL: %w", node, ctx.Err())
		}
	}
	return nil
}

// RestartSpeaker stops a node's speaker if it runs (SIGTERM, SIGKILL after
// 5 s) and starts a new one with the same arguments.
func (l *Lab) RestartSpeaker(ctx context.Context, node string) error {
	p, err := l.Speaker(node)
	if err != nil {
		return err
	}
	if err := p.StopGrace(speakerGrace); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n, _ := l.Node(node)
	return l.startSpeaker(n)
}

//go:build !nonetns

package announcer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/l2/internal/netnstest"
)

// helperEnv makes the test binary act as a speaker process (see
// speakerMain) instead of running tests.
const helperEnv = "FERROLB_L2_NETNS_SPEAKER"

// linkLocalEnv makes the speaker process source advertisements from the
// link-local address.
const linkLocalEnv = "FERROLB_L2_NETNS_LINKLOCAL"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(speakerMain())
	}
	os.Exit(m.Run())
}

// command and reply are the line-delimited JSON protocol between the test
// and the speaker process.
type command struct {
	Cmd     string              `json:"cmd"`               // set, status, rescan, metrics
	Desired map[string][]string `json:"desired,omitempty"` // ip -> interface names, "*" = all
}

type ipStatus struct {
	Interfaces []string `json:"interfaces,omitempty"`
	Err        string   `json:"err,omitempty"`
}

type ipCounts struct{ Requests, Responses, Gratuitous int }

type reply struct {
	Ready   bool                `json:"ready,omitempty"`
	Status  map[string]ipStatus `json:"status,omitempty"`
	Metrics map[string]ipCounts `json:"metrics,omitempty"`
}

// speakerMain runs an Announcer with every production default (rtnetlink
// lister, AF_PACKET sockets, default schedule and rescan period) in the
// namespace it was started in, driven by commands on stdin.
func speakerMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec := &memRecorder{m: map[netip.Addr]*ipCounts{}}
	a, err := New(Config{Recorder: rec, Logger: log, LinkLocalSource: os.Getenv(linkLocalEnv) == "1"})
	if err != nil {
		log.Error("new announcer", "error", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	enc := json.NewEncoder(os.Stdout)
	_ = enc.Encode(reply{Ready: true})
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var c command
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			log.Error("bad command", "error", err)
			return 1
		}
		switch c.Cmd {
		case "set":
			desired := map[netip.Addr]Spec{}
			for ip, ifs := range c.Desired {
				s := Spec{Interfaces: ifs}
				if slices.Contains(ifs, "*") {
					s = Spec{AllInterfaces: true}
				}
				desired[netip.MustParseAddr(ip)] = s
			}
			_ = enc.Encode(reply{Status: encodeStatus(a.SetDesired(desired))})
		case "status":
			_ = enc.Encode(reply{Status: encodeStatus(a.Status())})
		case "rescan":
			a.Rescan()
			_ = enc.Encode(reply{})
		case "metrics":
			_ = enc.Encode(reply{Metrics: rec.snapshot()})
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			log.Error("run", "error", err)
			return 1
		}
	case <-time.After(5 * time.Second):
		log.Error("Run did not return")
		return 1
	}
	return 0
}

func encodeStatus(st map[netip.Addr]Status) map[string]ipStatus {
	out := map[string]ipStatus{}
	for ip, s := range st {
		e := ipStatus{Interfaces: s.Interfaces}
		if s.Err != nil {
			e.Err = s.Err.Error()
		}
		out[ip.String()] = e
	}
	return out
}

type memRecorder struct {
	mu sync.Mutex
	m  map[netip.Addr]*ipCounts
}

func (r *memRecorder) get(ip netip.Addr) *ipCounts {
	if r.m[ip] == nil {
		r.m[ip] = &ipCounts{}
	}
	return r.m[ip]
}
func (r *memRecorder) RequestReceived(ip netip.Addr) {
	r.mu.Lock()
	r.get(ip).Requests++
	r.mu.Unlock()
}
func (r *memRecorder) ResponseSent(ip netip.Addr) { r.mu.Lock(); r.get(ip).Responses++; r.mu.Unlock() }
func (r *memRecorder) GratuitousSent(ip netip.Addr) {
	r.mu.Lock()
	r.get(ip).Gratuitous++
	r.mu.Unlock()
}
func (r *memRecorder) snapshot() map[string]ipCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]ipCounts{}
	for ip, c := range r.m {
		out[ip.String()] = *c
	}
	return out
}

// speakerProc is the test's handle on the speaker process.
type speakerProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startSpeaker(t *testing.T, p *netnstest.Pair, linkLocalSource bool) *speakerProc {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// "ip netns exec" enters the namespace and execs the binary: the
	// process we hold is the speaker itself.
	cmd := exec.Command("ip", "netns", "exec", p.Speaker, self, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	if linkLocalSource {
		cmd.Env = append(cmd.Env, linkLocalEnv+"=1")
	}
	s := &speakerProc{t: t, cmd: cmd, lines: make(chan string, 16), stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() {
		_ = s.stdin.Close()
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case err := <-waited:
			if err != nil {
				t.Errorf("speaker process: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill() // by PID
			<-waited
			t.Error("speaker process did not stop; killed")
		}
		if t.Failed() {
			t.Logf("speaker log:\n%s", s.stderr.String())
		}
	})
	if r := s.read(); !r.Ready {
		t.Fatalf("speaker not ready: %+v", r)
	}
	return s
}

func (s *speakerProc) read() reply {
	s.t.Helper()
	select {
	case line, ok := <-s.lines:
		if !ok {
			s.t.Fatalf("speaker process exited; log:\n%s", s.stderr.String())
		}
		var r reply
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			s.t.Fatalf("bad reply %q: %v", line, err)
		}
		return r
	case <-time.After(15 * time.Second):
		s.t.Fatalf("speaker did not answer; log:\n%s", s.stderr.String())
		return reply{}
	}
}

func (s *speakerProc) do(c command) reply {
	s.t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		s.t.Fatal(err)
	}
	return s.read()
}

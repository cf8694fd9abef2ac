package membership

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The integration tests run real memberlist instances on 127.0.0.1, one
// port each, in this process. Timings are logged, not asserted tightly:
// every wait is bounded by waitLimit.
const waitLimit = 5 * time.Second

// gatedWriter forwards to the test's output until the test ends, so a
// late memberlist log line cannot fail the test.
type gatedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	return g.w.Write(p)
}

func testLogger(t *testing.T) *slog.Logger {
	g := &gatedWriter{w: t.Output()}
	t.Cleanup(func() { g.mu.Lock(); g.closed = true; g.mu.Unlock() }) // runs last
	return slog.New(slog.NewTextHandler(g, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// freePort finds a port free for both TCP and UDP on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

type testNode struct {
	name   string
	port   int
	m      *Membership
	cancel context.CancelFunc
	done   chan error
}

type cluster struct {
	t      *testing.T
	log    *slog.Logger
	ports  map[string]int
	nodes  map[string]*testNode
	secret map[string]string
}

func newCluster(t *testing.T, secrets map[string]string) *cluster {
	c := &cluster{t: t, log: testLogger(t), ports: map[string]int{}, nodes: map[string]*testNode{}, secret: secrets}
	for name := range secrets {
		c.ports[name] = freePort(t)
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			c.stop(n.name, false)
		}
	})
	return c
}

func (c *cluster) peers() []string {
	var out []string
	for _, p := range c.ports {
		out = append(out, "127.0.0.1:"+strconv.Itoa(p))
	}
	return out
}

func (c *cluster) start(name string) *testNode {
	c.t.Helper()
	m, err := New(Config{
		NodeName: name,
		BindAddr: "127.0.0.1",
		BindPort: c.ports[name],
		Secret:   c.secret[name],
		Peers:    c.peers(),
	}, c.log.With("node", name))
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &testNode{name: name, port: c.ports[name], m: m, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- m.Run(ctx) }()
	c.nodes[name] = n
	return n
}

// stop ends a node; abrupt skips the graceful leave (a crash).
func (c *cluster) stop(name string, abrupt bool) {
	n := c.nodes[name]
	if n == nil {
		return
	}
	delete(c.nodes, name)
	n.m.skipLeave.Store(abrupt)
	n.cancel()
	select {
	case err := <-n.done:
		if err != nil {
			c.t.Errorf("%s: Run: %v", name, err)
		}
	case <-time.After(waitLimit):
		c.t.Errorf("%s: Run did not return", name)
	}
}

// waitView waits, through Changes, until node sees exactly live with the
// given isolation. It returns how long that took.
func (c *cluster) waitView(name string, isolated bool, live ...string) time.Duration {
	c.t.Helper()
	m := c.nodes[name].m
	start := time.Now()
	deadline := time.After(waitLimit)
	for {
		if slices.Equal(m.Live(), live) && m.Isolated() == isolated {
			return time.Since(start)
		}
		select {
		case <-m.Changes():
		case <-deadline:
			c.t.Fatalf("%s: after %v sees live=%v isolated=%v; want live=%v isolated=%v",
				name, waitLimit, m.Live(), m.Isolated(), live, isolated)
		}
	}
}

func drain(m *Membership) {
	select {
	case <-m.Changes():
	default:
	}
}

func TestClusterFailover(t *testing.T) {
	c := newCluster(t, map[string]string{"a": "s3cr3t", "b": "s3cr3t", "c": "s3cr3t"})
	for _, n := range []string{"a", "b", "c"} {
		c.start(n)
	}
	all := func() {
		t.Helper()
		for _, n := range []string{"a", "b", "c"} {
			c.waitView(n, false, "a", "b", "c")
		}
	}
	all()

	t.Run("crash without leave", func(t *testing.T) {
		drain(c.nodes["a"].m)
		drain(c.nodes["b"].m)
		start := time.Now()
		c.stop("c", true)
		c.waitView("a", false, "a", "b")
		c.waitView("b", false, "a", "b")
		t.Logf("crash detected by both survivors after %v (D=%v, H=%v)", time.Since(start), DefaultDeadAfter, DefaultHeartbeatInterval)

		c.start("c")
		all()
	})

	t.Run("link down both ways", func(t *testing.T) {
		start := time.Now()
		c.nodes["c"].m.dropOutgoing.Store(true)
		c.nodes["c"].m.dropIncoming.Store(true)
		c.waitView("a", false, "a", "b")
		c.waitView("b", false, "a", "b")
		t.Logf("link down detected by both survivors after %v", time.Since(start))
		// c hears nobody: 1 of 3 is no majority.
		c.waitView("c", true, "c")
		t.Logf("c isolated itself after %v", time.Since(start))

		c.nodes["c"].m.dropOutgoing.Store(false)
		c.nodes["c"].m.dropIncoming.Store(false)
		all()
	})

	t.Run("outgoing heartbeats lost", func(t *testing.T) {
		start := time.Now()
		c.nodes["c"].m.dropOutgoing.Store(true)
		c.waitView("a", false, "a", "b")
		c.waitView("b", false, "a", "b")
		// c still hears a and b, but they say they no longer hear c.
		c.waitView("c", true, "a", "b", "c")
		t.Logf("c isolated itself after %v although it hears both peers", time.Since(start))
		c.nodes["c"].m.dropOutgoing.Store(false)
		all()
	})

	t.Run("graceful leave shrinks the known set", func(t *testing.T) {
		c.stop("c", false)
		c.stop("b", false)
		// Both left gracefully: a is alone, not isolated.
		c.waitView("a", false, "a")
	})
}

func TestWrongSecretNeverLive(t *testing.T) {
	tests := []struct {
		name   string
		secret string
	}{
		{"other secret", "not-the-secret"},
		{"no secret", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, map[string]string{"a": "s3cr3t", "b": "s3cr3t", "x": tc.secret})
			c.start("a")
			c.start("b")
			c.start("x")
			c.waitView("a", false, "a", "b")
			c.waitView("b", false, "a", "b")
			// x keeps trying to join (JoinInterval is 10 s; SetPeers forces a round).
			deadline := time.Now().Add(2 * time.Second)
			for time.Now().Before(deadline) {
				c.nodes["x"].m.Rejoin()
				for _, n := range []string{"a", "b"} {
					if live := c.nodes[n].m.Live(); slices.Contains(live, "x") {
						t.Fatalf("%s sees x live: %v", n, live)
					}
				}
				if live := c.nodes["x"].m.Live(); !slices.Equal(live, []string{"x"}) {
					t.Fatalf("x sees %v, want only itself", live)
				}
				time.Sleep(250 * time.Millisecond)
			}
		})
	}
}

// TestDetectionTrials crashes one of three speakers repeatedly and reports
// how long the survivors take to drop it.
func TestDetectionTrials(t *testing.T) {
	trials := 10
	if testing.Short() {
		trials = 3
	}
	c := newCluster(t, map[string]string{"a": "k", "b": "k", "c": "k"})
	for _, n := range []string{"a", "b", "c"} {
		c.start(n)
	}
	for _, n := range []string{"a", "b", "c"} {
		c.waitView(n, false, "a", "b", "c")
	}
	var times []time.Duration
	for i := range trials {
		// Crash at a random phase of the heartbeat cycle.
		time.Sleep(time.Duration(i*37%100) * time.Millisecond)
		drain(c.nodes["a"].m)
		drain(c.nodes["b"].m)
		start := time.Now()
		c.stop("c", true)
		c.waitView("a", false, "a", "b")
		c.waitView("b", false, "a", "b")
		times = append(times, time.Since(start))
		c.start("c")
		for _, n := range []string{"a", "b", "c"} {
			c.waitView(n, false, "a", "b", "c")
		}
	}
	slices.Sort(times)
	median := times[len(times)/2]
	if len(times)%2 == 0 {
		median = (times[len(times)/2-1] + times[len(times)/2]) / 2
	}
	t.Logf("crash detection over %d trials (D=%v, H=%v): min %v, median %v, max %v; all %v",
		trials, DefaultDeadAfter, DefaultHeartbeatInterval, times[0], median, times[len(times)-1], fmt.Sprint(times))
}

type countingRecorder struct {
	mu                 sync.Mutex
	sent, sendErr      int
	received, rejected int
	changes            []string
}

func (r *countingRecorder) HeartbeatSent(ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ok {
		r.sent++
	} else {
		r.sendErr++
	}
}

func (r *countingRecorder) HeartbeatReceived(ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ok {
		r.received++
	} else {
		r.rejected++
	}
}

func (r *countingRecorder) StatusChanged(live, known int, isolated bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, fmt.Sprintf("live=%d known=%d isolated=%v", live, known, isolated))
}

func TestSetPeersJoinsAndRecorderCounts(t *testing.T) {
	c := newCluster(t, map[string]string{"a": "", "b": ""})
	rec := &countingRecorder{}
	m, err := New(Config{NodeName: "a", BindAddr: "127.0.0.1", BindPort: c.ports["a"], Recorder: rec}, c.log)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Live(); !slices.Equal(got, []string{"a"}) || !m.Isolated() {
		t.Fatalf("before Run: live=%v isolated=%v; want [a] true", got, m.Isolated())
	}
	ctx, cancel := context.WithCancel(context.Background())
	na := &testNode{name: "a", m: m, cancel: cancel, done: make(chan error, 1)}
	c.nodes["a"] = na
	go func() { na.done <- m.Run(ctx) }()
	c.ports = map[string]int{"b": c.ports["b"]} // b starts with no peers but itself
	c.start("b")

	// Neither knows the other: both alone, not isolated.
	c.waitView("a", false, "a")
	c.waitView("b", false, "b")

	m.SetPeers([]string{"127.0.0.1:" + strconv.Itoa(c.nodes["b"].port), "not-an-ip"})
	c.waitView("a", false, "a", "b")
	c.waitView("b", false, "a", "b")
	time.Sleep(300 * time.Millisecond) // a few heartbeats each way

	if err := m.Run(context.Background()); err == nil {
		t.Error("second Run: want an error")
	}
	c.stop("a", false)
	if !m.Isolated() {
		t.Error("after Run returned: want Isolated")
	}
	c.waitView("b", false, "b")

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.sent < 2 || rec.received < 2 || rec.sendErr != 0 || rec.rejected != 0 {
		t.Errorf("recorder: sent %d (errors %d), received %d (rejected %d); want both ways, no errors",
			rec.sent, rec.sendErr, rec.received, rec.rejected)
	}
	// A heartbeat delayed on a loaded machine may add changes in between;
	// the first, a pair and the last are certain.
	got := rec.changes
	if len(got) < 3 || got[0] != "live=1 known=1 isolated=false" ||
		!slices.Contains(got, "live=2 known=2 isolated=false") || got[len(got)-1] != "live=2 known=2 isolated=true" {
		t.Errorf("status changes %q: want alone, then a pair, then isolated when stopped", got)
	}
}

package announcer

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

// interfaces returns the Interfaces of each status, and for failed ones
// the error text.
func summary(st map[netip.Addr]Status) map[string]string {
	out := map[string]string{}
	for ip, s := range st {
		if s.Err != nil {
			if !errors.Is(s.Err, ErrNoInterface) {
				out[ip.String()] = "error not ErrNoInterface: " + s.Err.Error()
				continue
			}
			out[ip.String()] = "FAILED " + s.Err.Error()
			continue
		}
		out[ip.String()] = strings.Join(s.Interfaces, ",")
	}
	return out
}

func TestSetDesiredChoosesInterfaces(t *testing.T) {
	ens3 := ether("ens3", 4, 4)
	ens3.Broadcast = false
	down := ether("eth2", 5, 5)
	down.Up = false
	host := newFakeHost(ether("eth0", 2, 2), ether("eth1", 3, 3), ens3, ether("docker0", 6, 6), down)
	a, err := New(Config{Lister: host, Open: host.open, Schedule: []time.Duration{}})
	if err != nil {
		t.Fatal(err)
	}
	got := summary(a.SetDesired(map[netip.Addr]Spec{
		addr("198.51.100.10"): {AllInterfaces: true},
		addr("2001:db8::10"):  {AllInterfaces: true},
		addr("198.51.100.11"): {Interfaces: []string{"eth1", "eth9"}},
		addr("198.51.100.12"): {Interfaces: []string{"ens3"}},
		addr("2001:db8::12"):  {Interfaces: []string{"ens3"}},
		addr("198.51.100.13"): {Interfaces: []string{"eth9"}},
		addr("198.51.100.14"): {Interfaces: []string{"docker0", "eth2"}},
		addr("198.51.100.15"): {},
	}))
	want := map[string]string{
		"198.51.100.10": "eth0,eth1", // ens3 has no BROADCAST: no ARP
		"2001:db8::10":  "ens3,eth0,eth1",
		"198.51.100.11": "eth1",
		"198.51.100.12": "FAILED no usable interface for 198.51.100.12 (ens3: no BROADCAST flag for ARP)",
		"2001:db8::12":  "ens3",
		"198.51.100.13": "FAILED no usable interface for 198.51.100.13 (eth9: not found)",
		"198.51.100.14": "FAILED no usable interface for 198.51.100.14 (docker0: excluded by name; eth2: down)",
		"198.51.100.15": "FAILED no usable interface for 198.51.100.15 (no usable interface found)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(summary(a.SetDesired(nil)), map[string]string{}); diff != "" {
		t.Errorf("empty desired set: %s", diff)
	}
	for _, name := range []string{"docker0", "eth2"} {
		if n := host.opens(name); n != 0 {
			t.Errorf("sockets opened on unusable %s", name)
		}
	}
	if o := host.last(t, "ens3"); o.ARP != nil {
		t.Error("an ARP socket was opened on an interface without BROADCAST")
	}
}

// TestAnnouncerScript drives a running announcer through the life of a few
// IPs and interfaces.
func TestAnnouncerScript(t *testing.T) {
	host := newFakeHost(ether("eth0", 2, 2), ether("eth1", 3, 3))
	changes := make(chan struct{}, 16)
	a, err := New(Config{Lister: host, Open: host.open, Schedule: []time.Duration{}, Rescan: time.Hour,
		Notify: func() { changes <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	mac0, mac1 := wire.MAC{2, 0, 0, 0, 0, 2}, wire.MAC{2, 0, 0, 0, 0, 3}

	// "Desired before Run": statuses are final, answers start with Run.
	st := a.SetDesired(map[netip.Addr]Spec{
		addr("198.51.100.10"): {AllInterfaces: true},
		addr("2001:db8::10"):  {Interfaces: []string{"eth1"}},
	})
	if diff := cmp.Diff(map[string]string{"198.51.100.10": "eth0,eth1", "2001:db8::10": "eth1"}, summary(st)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	run(t, a)
	eth0, eth1 := host.last(t, "eth0"), host.last(t, "eth1")
	if !answersARP(t, eth0.ARP, "198.51.100.10", mac0) || !answersARP(t, eth1.ARP, "198.51.100.10", mac1) {
		t.Fatal("198.51.100.10 not answered on both interfaces")
	}
	if !answersNDP(t, eth1.NDP, "2001:db8::10", mac1) {
		t.Fatal("2001:db8::10 not answered on eth1")
	}
	if answersNDP(t, eth0.NDP, "2001:db8::10", mac0) {
		t.Fatal("2001:db8::10 answered on eth0, which it was not given")
	}

	// Same set again: nothing reopened.
	a.SetDesired(map[netip.Addr]Spec{
		addr("198.51.100.10"): {AllInterfaces: true},
		addr("2001:db8::10"):  {Interfaces: []string{"eth1"}},
	})
	if host.opens("eth0") != 1 || host.opens("eth1") != 1 {
		t.Fatalf("re-applying the same set reopened sockets: eth0 %d, eth1 %d", host.opens("eth0"), host.opens("eth1"))
	}

	// Drop the IPv4 address: eth0 has nothing left and its responder goes;
	// eth1 stops answering for it at once but keeps serving IPv6.
	st = a.SetDesired(map[netip.Addr]Spec{addr("2001:db8::10"): {Interfaces: []string{"eth1"}}})
	if diff := cmp.Diff(map[string]string{"2001:db8::10": "eth1"}, summary(st)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if !eth0.ARP.Closed() || !eth0.NDP.Closed() {
		t.Error("idle responder on eth0 kept its sockets")
	}
	if answersARP(t, eth1.ARP, "198.51.100.10", mac1) {
		t.Error("withdrawn IP still answered on eth1")
	}
	if !answersNDP(t, eth1.NDP, "2001:db8::10", mac1) {
		t.Error("2001:db8::10 no longer answered on eth1")
	}

	// eth1 disappears: after a rescan the IP is announced nowhere.
	host.set(ether("eth0", 2, 2))
	a.Rescan()
	notified(t, changes)
	if s := a.Status()[addr("2001:db8::10")]; !errors.Is(s.Err, ErrNoInterface) || len(s.Interfaces) != 0 {
		t.Fatalf("after eth1 vanished: %+v", s)
	}
	if !eth1.NDP.Closed() {
		t.Error("responder of a vanished interface kept its sockets")
	}

	// eth1 comes back as a new device (new index and MAC): new sockets.
	host.set(ether("eth0", 2, 2), ether("eth1", 9, 9))
	a.Rescan()
	notified(t, changes)
	if s := a.Status()[addr("2001:db8::10")]; s.Err != nil || !cmp.Equal(s.Interfaces, []string{"eth1"}) {
		t.Fatalf("after eth1 came back: %+v", s)
	}
	if host.opens("eth1") != 2 {
		t.Fatalf("eth1 opened %d times, want 2", host.opens("eth1"))
	}
	eth1b := host.last(t, "eth1")
	waitFor(t, "new eth1 responder answering", func() bool {
		return answersNDP(t, eth1b.NDP, "2001:db8::10", wire.MAC{2, 0, 0, 0, 0, 9})
	})
}

func TestFailures(t *testing.T) {
	t.Run("a socket that fails takes its interface out until the next rescan", func(t *testing.T) {
		host := newFakeHost(ether("eth0", 2, 2), ether("eth1", 3, 3))
		changes := make(chan struct{}, 16)
		a, err := New(Config{Lister: host, Open: host.open, Schedule: []time.Duration{}, Rescan: time.Hour,
			Notify: func() { changes <- struct{}{} }})
		if err != nil {
			t.Fatal(err)
		}
		a.SetDesired(map[netip.Addr]Spec{addr("198.51.100.10"): {AllInterfaces: true}})
		run(t, a)
		host.last(t, "eth0").ARP.Fail(errBoom)
		notified(t, changes)
		if s := a.Status()[addr("198.51.100.10")]; !cmp.Equal(s.Interfaces, []string{"eth1"}) {
			t.Fatalf("after eth0's socket failed: %+v", s)
		}
		// The desired set is re-applied without reopening eth0 …
		a.SetDesired(map[netip.Addr]Spec{addr("198.51.100.10"): {AllInterfaces: true}})
		if host.opens("eth0") != 1 {
			t.Fatalf("failed interface reopened before a rescan")
		}
		// … until the next rescan.
		a.Rescan()
		notified(t, changes)
		if s := a.Status()[addr("198.51.100.10")]; !cmp.Equal(s.Interfaces, []string{"eth0", "eth1"}) {
			t.Fatalf("after rescan: %+v", s)
		}
		if host.opens("eth0") != 2 {
			t.Fatalf("eth0 opened %d times, want 2", host.opens("eth0"))
		}
	})

	t.Run("an interface whose sockets cannot be opened", func(t *testing.T) {
		host := newFakeHost(ether("eth0", 2, 2))
		host.openErr["eth0"] = errBoom
		a, err := New(Config{Lister: host, Open: host.open, Schedule: []time.Duration{}})
		if err != nil {
			t.Fatal(err)
		}
		s := a.SetDesired(map[netip.Addr]Spec{addr("198.51.100.10"): {AllInterfaces: true}})[addr("198.51.100.10")]
		if !errors.Is(s.Err, ErrNoInterface) || !errors.Is(s.Err, errBoom) {
			t.Fatalf("status %+v, want ErrNoInterface and the open error", s)
		}
	})

	t.Run("a failed listing keeps the previous view", func(t *testing.T) {
		host := newFakeHost(ether("eth0", 2, 2))
		changes := make(chan struct{}, 16)
		a, err := New(Config{Lister: host, Open: host.open, Schedule: []time.Duration{}, Rescan: time.Hour,
			Notify: func() { changes <- struct{}{} }})
		if err != nil {
			t.Fatal(err)
		}
		a.SetDesired(map[netip.Addr]Spec{addr("198.51.100.10"): {AllInterfaces: true}})
		run(t, a)
		host.mu.Lock()
		host.listErr = errBoom
		host.mu.Unlock()
		a.Rescan()
		// Nothing changes, so nothing is notified; a SetDesired shows it.
		s := a.SetDesired(map[netip.Addr]Spec{addr("198.51.100.10"): {AllInterfaces: true}})[addr("198.51.100.10")]
		if !cmp.Equal(s.Interfaces, []string{"eth0"}) {
			t.Fatalf("status %+v after a failed listing", s)
		}
		if host.last(t, "eth0").ARP.Closed() {
			t.Fatal("responder stopped because a listing failed")
		}
	})

	t.Run("invalid exclusion pattern", func(t *testing.T) {
		if _, err := New(Config{Exclude: []string{"(("}}); err == nil {
			t.Fatal("New accepted an invalid pattern")
		}
	})
}

func TestGratuitousOnNewOwnership(t *testing.T) {
	host := newFakeHost(ether("eth0", 2, 2))
	a, err := New(Config{Lister: host, Open: host.open, Schedule: []time.Duration{0}, Rescan: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	run(t, a)
	a.SetDesired(map[netip.Addr]Spec{addr("198.51.100.10"): {AllInterfaces: true}})
	p := host.last(t, "eth0").ARP
	for i, op := range []wire.ARPOp{wire.ARPRequest, wire.ARPReply} {
		select {
		case f := <-p.Out():
			eth, _ := wire.ParseEthernet(f)
			arp, err := wire.ParseARP(eth.Payload)
			if err != nil || eth.Dst != wire.Broadcast || arp.Op != op || !arp.IsGratuitous() || arp.SenderIP != addr("198.51.100.10") {
				t.Fatalf("frame %d: %+v %v, want a gratuitous %v", i, arp, err, op)
			}
		case <-time.After(waitLimit):
			t.Fatalf("gratuitous frame %d not sent", i)
		}
	}
	// A second IP on the running responder is announced too.
	a.SetDesired(map[netip.Addr]Spec{addr("198.51.100.10"): {AllInterfaces: true}, addr("198.51.100.11"): {AllInterfaces: true}})
	select {
	case f := <-p.Out():
		eth, _ := wire.ParseEthernet(f)
		if arp, err := wire.ParseARP(eth.Payload); err != nil || arp.SenderIP != addr("198.51.100.11") {
			t.Fatalf("got %+v, want an announcement of 198.51.100.11", arp)
		}
	case <-time.After(waitLimit):
		t.Fatal("new IP not announced")
	}
}

func TestRunStopsResponders(t *testing.T) {
	host := newFakeHost(ether("eth0", 2, 2))
	a, err := New(Config{Lister: host, Open: host.open, Schedule: []time.Duration{}})
	if err != nil {
		t.Fatal(err)
	}
	a.SetDesired(map[netip.Addr]Spec{addr("198.51.100.10"): {AllInterfaces: true}})
	ctx, cancel := contextWithCancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	p := host.last(t, "eth0")
	waitFor(t, "responder running", func() bool { return answersARP(t, p.ARP, "198.51.100.10", wire.MAC{2, 0, 0, 0, 0, 2}) })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Run did not return")
	}
	if !p.ARP.Closed() || !p.NDP.Closed() {
		t.Error("sockets left open after Run")
	}
	if s := a.Status()[addr("198.51.100.10")]; !errors.Is(s.Err, ErrNoInterface) {
		t.Errorf("status after Run ended: %+v", s)
	}
}

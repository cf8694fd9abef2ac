package netif

import (
	"net"
	"net/netip"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilter(t *testing.T) {
	ether := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	ok := func(name string) Interface {
		return Interface{Name: name, Index: 2, MAC: ether, Up: true, Broadcast: true}
	}
	with := func(i Interface, f func(*Interface)) Interface { f(&i); return i }
	ifs := []Interface{
		ok("eth0"),
		ok("bond0"),
		ok("br0"),
		with(ok("ens3"), func(i *Interface) { i.Broadcast = false }), // point-to-point: usable, IPv6 only
		ok("docker0"), ok("cbr0"), ok("dummy0"), ok("virbr0"), ok("lxcbr0"), ok("vethab12"),
		ok("lo"), ok("cali123"), ok("tunl0"), ok("flannel.1"), ok("kube-ipvs0"), ok("cni0"),
		ok("nodelocaldns"), ok("lxc99"),
		ok("lo0"), // ^lo$ is anchored: lo0 is not loopback's name
		with(ok("eth1"), func(i *Interface) { i.Up = false }),
		with(ok("eth2"), func(i *Interface) { i.Enslaved = true }),
		with(ok("eth3"), func(i *Interface) { i.NoARP = true }),
		with(ok("wg0"), func(i *Interface) { i.MAC = nil }),
		with(ok("ib0"), func(i *Interface) { i.MAC = make(net.HardwareAddr, 20) }),
		with(ok("eth4"), func(i *Interface) { i.MAC = make(net.HardwareAddr, 6) }),
	}
	f, err := NewFilter(nil)
	if err != nil {
		t.Fatal(err)
	}
	usable, skipped := f.Usable(ifs)
	var names []string
	for _, i := range usable {
		names = append(names, i.Name)
	}
	if diff := cmp.Diff([]string{"eth0", "bond0", "br0", "ens3", "lo0"}, names); diff != "" {
		t.Errorf("usable (-want +got):\n%s", diff)
	}
	wantSkipped := map[string]string{
		"docker0": SkipExcluded, "cbr0": SkipExcluded, "dummy0": SkipExcluded, "virbr0": SkipExcluded,
		"lxcbr0": SkipExcluded, "vethab12": SkipExcluded, "lo": SkipExcluded, "cali123": SkipExcluded,
		"tunl0": SkipExcluded, "flannel.1": SkipExcluded, "kube-ipvs0": SkipExcluded, "cni0": SkipExcluded,
		"nodelocaldns": SkipExcluded, "lxc99": SkipExcluded,
		"eth1": SkipDown, "eth2": SkipEnslaved, "eth3": SkipNoARP,
		"wg0": SkipNoMAC, "ib0": SkipNoMAC, "eth4": SkipNoMAC,
	}
	if diff := cmp.Diff(wantSkipped, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}

	custom, err := NewFilter([]string{"^eth0$"})
	if err != nil {
		t.Fatal(err)
	}
	usable, _ = custom.Usable([]Interface{ok("eth0"), ok("docker0")})
	if len(usable) != 1 || usable[0].Name != "docker0" {
		t.Errorf("custom patterns replace the defaults: usable %v", usable)
	}
	none, err := NewFilter([]string{})
	if err != nil {
		t.Fatal(err)
	}
	if usable, _ := none.Usable([]Interface{ok("lo")}); len(usable) != 1 {
		t.Errorf("an empty pattern list excludes nothing, got %v", usable)
	}
	if _, err := NewFilter([]string{"^eth(("}); err == nil {
		t.Error("invalid pattern accepted")
	}
}

func TestSame(t *testing.T) {
	a := Interface{Name: "eth0", Index: 2, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Broadcast: true, LinkLocal: netip.MustParseAddr("fe80::1")}
	b := a
	b.LinkLocal = netip.Addr{}
	b.Up = false
	if !a.Same(b) {
		t.Error("a link-local or flag change other than BROADCAST is not a new link")
	}
	c := a
	c.Index = 7
	d := a
	d.MAC = net.HardwareAddr{2, 0, 0, 0, 0, 2}
	e := a
	e.Broadcast = false
	for _, x := range []Interface{c, d, e} {
		if a.Same(x) {
			t.Errorf("%+v counted as the same link as %+v", x, a)
		}
	}
}

// TestSystemMatchesNetInterfaces compares the rtnetlink reader with the
// standard library's view of the same namespace.
func TestSystemMatchesNetInterfaces(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatalf("System needs Linux, running on %s", runtime.GOOS)
	}
	got, err := System{}.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	std, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(std) || len(got) == 0 {
		t.Fatalf("System lists %d interfaces, net.Interfaces %d", len(got), len(std))
	}
	byIndex := map[int]Interface{}
	for _, i := range got {
		byIndex[i.Index] = i
	}
	for _, s := range std {
		g, ok := byIndex[s.Index]
		if !ok {
			t.Errorf("interface %d (%s) missing", s.Index, s.Name)
			continue
		}
		mac := g.MAC
		if isZero(mac) {
			mac = nil // the standard library drops all-zero addresses (loopback)
		}
		if g.Name != s.Name || mac.String() != s.HardwareAddr.String() ||
			g.Up != (s.Flags&net.FlagUp != 0) || g.Broadcast != (s.Flags&net.FlagBroadcast != 0) {
			t.Errorf("interface %d: System %+v, net %+v", s.Index, g, s)
		}
		addrs, err := s.Addrs()
		if err != nil {
			t.Fatal(err)
		}
		hasLL := false
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
				hasLL = true
			}
		}
		if g.LinkLocal.IsValid() && !hasLL {
			t.Errorf("interface %s: link-local %v that net does not list", s.Name, g.LinkLocal)
		}
	}
	if lo := byIndex[1]; lo.Name != "lo" || lo.Broadcast {
		t.Errorf("index 1 is %+v, want lo without BROADCAST", lo)
	}
}

package gobgp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

const fastBFD = `debug bfd peer
bfd
 profile fast
  receive-interval 100
  transmit-interval 100
  detect-multiplier 3`

var fastProfile = &bgp.BFDProfile{ReceiveInterval: 100 * time.Millisecond, TransmitInterval: 100 * time.Millisecond, DetectMultiplier: 3}

// frrBGP renders a bgpd configuration with one neighbor.
func frrBGP(l *link, asn uint32, neighbor string, remoteAS uint32, neighborLines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "debug bgp bfd\nrouter bgp %d\n bgp router-id %s\n no bgp ebgp-requires-policy\n neighbor %s remote-as %d\n",
		asn, l.router4, neighbor, remoteAS)
	for _, line := range neighborLines {
		fmt.Fprintf(&b, " neighbor %s %s\n", neighbor, line)
	}
	fmt.Fprintf(&b, " address-family ipv4 unicast\n  neighbor %s activate\n exit-address-family\n", neighbor)
	fmt.Fprintf(&b, " address-family ipv6 unicast\n  neighbor %s activate\n exit-address-family\n", neighbor)
	return b.String()
}

// frrSummary is a route as FRR has it, in comparable form.
type frrSummary struct {
	NextHop, ASPath, Communities, Large string
	LocalPref                           uint32
	Stale                               bool
}

func summarize(paths []frrRoute) (frrSummary, error) {
	if len(paths) != 1 {
		return frrSummary{}, fmt.Errorf("%d paths", len(paths))
	}
	p := paths[0]
	s := frrSummary{ASPath: p.ASPath.String, Stale: p.Stale}
	if len(p.Nexthops) > 0 {
		s.NextHop = p.Nexthops[0].IP
	}
	if p.Community != nil {
		s.Communities = p.Community.String
	}
	if p.LargeCommunity != nil {
		s.Large = p.LargeCommunity.String
	}
	if p.LocalPref != nil {
		s.LocalPref = *p.LocalPref
	}
	return s, nil
}

func waitFRRRoute(t *testing.T, f *frr, afi, prefix string, want frrSummary) {
	t.Helper()
	eventually(t, 20*time.Second, "FRR route "+prefix, func() error {
		paths, err := f.route(afi, prefix)
		if err != nil {
			return err
		}
		got, err := summarize(paths)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			return fmt.Errorf("(-want +got):\n%s", diff)
		}
		return nil
	})
}

// An IPv6 session carrying both families to FRR: attributes as FRR sees
// them, and FRR installing the routes in its kernel through the node.
func TestFRRDualStackOverIPv6(t *testing.T) {
	l := newLink(t, 1)
	f := startFRR(t, l, frrBGP(l, 64512, l.node6.String(), 4200000001), "")
	b, _ := runBackend(t, Options{})
	b.SetPeers([]bgp.Peer{{Name: "r", Address: l.router6, MyASN: 4200000001, PeerASN: 64512, DualStackAddressFamily: true}})
	b.SetAdvertisements("r", []bgp.Advertisement{
		{Prefix: mustPrefix(pfxA), Communities: []bgp.Community{{Global: 64500, Local1: 10}, {Large: true, Global: 4200000001, Local1: 0, Local2: 7}}},
		{Prefix: mustPrefix(pfx6A), LocalPref: 200},
	})
	waitEstablished(t, b, "r")
	waitFRRRoute(t, f, "ipv4", pfxA, frrSummary{NextHop: l.node4.String(), ASPath: "4200000001", Communities: "64500:10", Large: "4200000001:0:7"})
	waitFRRRoute(t, f, "ipv6", pfx6A, frrSummary{NextHop: l.node6.String(), ASPath: "4200000001"})
	eventually(t, 10*time.Second, "kernel routes at the router", func() error {
		v4 := run(t, "ip", "-n", l.ns, "route", "show", pfxA)
		v6 := run(t, "ip", "-n", l.ns, "-6", "route", "show", pfx6A)
		if !strings.Contains(v4, "via "+l.node4.String()) || !strings.Contains(v6, "via "+l.node6.String()) {
			return fmt.Errorf("v4 %q v6 %q", v4, v6)
		}
		return nil
	})
}

// FRR refusing the session (wrong AS) shows in the status.
func TestFRRRefusesWrongAS(t *testing.T) {
	l := newLink(t, 1)
	startFRR(t, l, frrBGP(l, 64512, l.node4.String(), 64999), "")
	b, _ := runBackend(t, Options{})
	b.SetPeers([]bgp.Peer{{Name: "r", Address: l.router4, MyASN: 64500, PeerASN: 64512}})
	eventually(t, 20*time.Second, "refusal reported", func() error {
		st, err := peerStatus(b, "r")
		if err != nil {
			return err
		}
		if !strings.Contains(st.LastError, "NOTIFICATION") || st.State == bgp.StateEstablished {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
}

// The session bound to a device (what a VRF is to the kernel): bound to
// the link it comes up, with BFD; bound to another device it cannot. This
// kernel has no VRF support, so the device is the veth itself.
func TestBindToDevice(t *testing.T) {
	l := newLink(t, 1)
	f := startFRR(t, l, frrBGP(l, 64512, l.node4.String(), 64500, "bfd profile fast"), fastBFD)
	b, _ := runBackend(t, Options{})
	bound := bgp.Peer{Name: "r", Address: l.router4, MyASN: 64500, PeerASN: 64512, VRF: l.nodeIf, BFD: fastProfile}
	b.SetPeers([]bgp.Peer{bound})
	b.SetAdvertisements("r", []bgp.Advertisement{{Prefix: mustPrefix(pfxA)}})
	waitEstablished(t, b, "r")
	waitFRRRoute(t, f, "ipv4", pfxA, frrSummary{NextHop: l.node4.String(), ASPath: "64500"})
	eventually(t, 10*time.Second, "BFD up on the bound device", func() error {
		st, _ := peerStatus(b, "r")
		fp, err := f.bfdPeer(l.node4.String())
		if err != nil {
			return err
		}
		if st.BFD != bgp.BFDUp || fp.Status != "up" {
			return fmt.Errorf("ours %s, FRR's %s", st.BFD, fp.Status)
		}
		return nil
	})

	bound.VRF = "lo"
	b.SetPeers([]bgp.Peer{bound})
	eventually(t, 20*time.Second, "bound to the wrong device", func() error {
		st, _ := peerStatus(b, "r")
		if st.State == bgp.StateEstablished || !strings.Contains(st.LastError, "connect") {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
}

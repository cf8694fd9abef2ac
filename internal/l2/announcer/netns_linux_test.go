//go:build !nonetns

// Real-socket tests: the announcer runs with its production interface
// lister and AF_PACKET sockets inside a network namespace, and real tools
// (arping, ndisc6, tcpdump, the client kernel's neighbour table) check it
// from a second namespace. They need root and the packages iproute2,
// iputils-arping, iputils-ping, ndisc6, tcpdump and procps; without them
// they fail. Build with -tags nonetns to leave them out.

package announcer

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/l2/internal/netnstest"
)

const (
	lbIPv4   = "198.51.100.200"
	lbIPv6   = "2001:db8::200"
	fakeMAC  = "02:00:00:00:00:99" // the previous owner's
	macUpper = "02:F1:B0:00:00:01" // netnstest.SpeakerMAC as arping and ndisc6 print it
)

// speakerLL is the speaker's link-local address (EUI-64 of its MAC).
var speakerLL = netip.MustParseAddr("fe80::f1:b0ff:fe00:1")

// TestNetnsAnnouncer checks the default speaker from a client namespace.
func TestNetnsAnnouncer(t *testing.T) {
	p := netnstest.New(t)
	setupClient(t, p, lbIPv4, lbIPv6)
	stopCapture := tcpdump(t, p)
	spk := startSpeaker(t, p, false)

	r := spk.do(command{Cmd: "set", Desired: map[string][]string{lbIPv4: {"*"}, lbIPv6: {p.SpeakerIf}}})
	for _, ip := range []string{lbIPv4, lbIPv6} {
		if got := r.Status[ip]; got.Err != "" || !slices.Equal(got.Interfaces, []string{p.SpeakerIf}) {
			t.Fatalf("status of %s = %+v, want announced on %s only (lo is excluded)", ip, got, p.SpeakerIf)
		}
	}

	t.Run("gratuitous announcements move the client's stale entries", func(t *testing.T) {
		waitMoved(t, p, lbIPv4)
		waitMoved(t, p, lbIPv6)
		out := stopCapture()
		for _, want := range []string{
			"Request who-has " + lbIPv4 + " tell " + lbIPv4, // RFC 5227 announcement
			"Reply " + lbIPv4 + " is-at " + netnstest.SpeakerMAC,
			lbIPv6 + " > ff02::1: [icmp6 sum ok] ICMP6, neighbor advertisement, length 32, tgt is " + lbIPv6 + ", Flags [override]",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("capture lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("the client kernel's unicast reachability probes are answered", func(t *testing.T) {
		kernelProbes(t, p, lbIPv4, lbIPv6)
	})

	t.Run("arping resolves the IPv4 address to the speaker", func(t *testing.T) {
		out, err := p.InClient("arping", "-c", "1", "-w", "3", "-I", p.ClientIf, lbIPv4)
		if err != nil || !strings.Contains(out, "["+macUpper+"]") {
			t.Fatalf("arping: %v\n%s", err, out)
		}
	})

	t.Run("a request tagged for a VLAN the speaker lacks is not answered", func(t *testing.T) {
		if probeARP(t, p, netip.MustParseAddr(lbIPv4), true) {
			t.Error("an ARP request for VLAN 100 was answered on the untagged link")
		}
		if !probeARP(t, p, netip.MustParseAddr(lbIPv4), false) {
			t.Error("the same request without a tag was not answered")
		}
	})

	t.Run("ndisc6 resolves the IPv6 address to the speaker", func(t *testing.T) {
		out, err := p.InClient("ndisc6", "-1", "-r", "3", "-w", "1000", lbIPv6, p.ClientIf)
		if err != nil || !strings.Contains(out, "Target link-layer address: "+macUpper) {
			t.Fatalf("ndisc6: %v\n%s", err, out)
		}
	})

	t.Run("crafted unicast solicitations, with and without source option", func(t *testing.T) {
		for _, withLL := range []bool{true, false} {
			seen, ok := probeNS(t, p, netip.MustParseAddr(lbIPv6), withLL)
			if !ok {
				t.Fatalf("no advertisement (source option %v)", withLL)
			}
			checkNA(t, seen, netip.MustParseAddr(lbIPv6))
		}
	})

	t.Run("solicited-node group joined at link and IP level", func(t *testing.T) {
		out := p.MustRun("ip", "-n", p.Speaker, "maddr", "show", "dev", p.SpeakerIf)
		for _, want := range []string{"33:33:ff:00:02:00", "ff02::1:ff00:200"} {
			if !strings.Contains(out, want) {
				t.Errorf("membership %s missing:\n%s", want, out)
			}
		}
	})

	t.Run("metrics counted per IP", func(t *testing.T) {
		m := spk.do(command{Cmd: "metrics"}).Metrics
		// v4: kernel probe + arping + untagged probe; v6: kernel probe +
		// ndisc6 + 2 crafted.
		want := map[string]ipCounts{lbIPv4: {3, 3, 2}, lbIPv6: {4, 4, 1}}
		for ip, w := range want {
			c := m[ip]
			if c.Requests < w.Requests || c.Responses < w.Responses || c.Gratuitous < w.Gratuitous || c.Responses > c.Requests {
				t.Errorf("%s: %+v, want at least %+v and no more responses than requests", ip, c, w)
			}
		}
	})

	// Withdraw both; another IP keeps the interface's responder alive, so
	// the silence comes from the per-IP check, not from closed sockets.
	r = spk.do(command{Cmd: "set", Desired: map[string][]string{"198.51.100.201": {"*"}}})
	if _, still := r.Status[lbIPv4]; still || len(r.Status["198.51.100.201"].Interfaces) != 1 {
		t.Fatalf("statuses after withdrawal: %+v", r.Status)
	}

	t.Run("withdrawn IPs are not answered", func(t *testing.T) {
		if out, err := p.InClient("arping", "-c", "1", "-w", "2", "-I", p.ClientIf, lbIPv4); err == nil || !strings.Contains(out, "Received 0 response") {
			t.Errorf("arping still answered (err %v):\n%s", err, out)
		}
		if out, err := p.InClient("ndisc6", "-1", "-r", "1", "-w", "1000", lbIPv6, p.ClientIf); err == nil || strings.Contains(out, "Target link-layer address") {
			t.Errorf("ndisc6 still answered (err %v):\n%s", err, out)
		}
		if seen, ok := probeNS(t, p, netip.MustParseAddr(lbIPv6), true); ok {
			t.Errorf("unicast solicitation still answered: %+v", seen)
		}
		out := p.MustRun("ip", "-n", p.Speaker, "maddr", "show", "dev", p.SpeakerIf)
		if strings.Contains(out, "33:33:ff:00:02:00") || strings.Contains(out, "ff02::1:ff00:200") {
			t.Errorf("group of the withdrawn IP still joined:\n%s", out)
		}
	})
}

// TestNetnsLinkLocalSource checks the MetalLB-style speaker that answers
// from its link-local address, and its fallback when it has none.
func TestNetnsLinkLocalSource(t *testing.T) {
	p := netnstest.New(t)
	setupClient(t, p, lbIPv6)
	spk := startSpeaker(t, p, true)
	r := spk.do(command{Cmd: "set", Desired: map[string][]string{lbIPv6: {"*"}}})
	if got := r.Status[lbIPv6]; got.Err != "" || !slices.Equal(got.Interfaces, []string{p.SpeakerIf}) {
		t.Fatalf("status = %+v", got)
	}
	target := netip.MustParseAddr(lbIPv6)

	t.Run("the client kernel accepts advertisements from the link-local address", func(t *testing.T) {
		waitMoved(t, p, lbIPv6)
		kernelProbes(t, p, lbIPv6)
	})

	t.Run("answers come from the link-local address", func(t *testing.T) {
		for _, withLL := range []bool{true, false} {
			seen, ok := probeNS(t, p, target, withLL)
			if !ok {
				t.Fatalf("no advertisement (source option %v)", withLL)
			}
			checkNA(t, seen, speakerLL)
		}
	})

	t.Run("without a link-local address the target is the source", func(t *testing.T) {
		p.MustRun("ip", "-n", p.Speaker, "-6", "addr", "flush", "dev", p.SpeakerIf, "scope", "link")
		spk.do(command{Cmd: "rescan"})
		var last naSeen
		eventually(t, 5*time.Second, "advertisements still come from the link-local address", func() bool {
			seen, ok := probeNS(t, p, target, true)
			last = seen
			return ok && seen.IPSrc == target
		})
		checkNA(t, last, target)
		out, err := p.InClient("ndisc6", "-1", "-r", "3", "-w", "1000", lbIPv6, p.ClientIf)
		if err != nil || !strings.Contains(out, "Target link-layer address: "+macUpper) {
			t.Fatalf("ndisc6: %v\n%s", err, out)
		}
	})
}

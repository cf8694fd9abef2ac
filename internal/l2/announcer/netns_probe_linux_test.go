//go:build !nonetns

package announcer

import (
	"bufio"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/packet"

	"github.com/ferrolb/ferrolb/internal/l2/internal/netnstest"
	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

// tcpdump captures ARP and Neighbor Advertisements in the client
// namespace until stop is called.
func tcpdump(t *testing.T, p *netnstest.Pair) (stop func() string) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", p.Client, "tcpdump", "-l", "-nn", "-e", "-v",
		"-i", p.ClientIf, "arp or (icmp6 and ip6[40] == 136)")
	var out lockedBuffer
	cmd.Stdout = &out
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan struct{})
	var errOut lockedBuffer
	go func() {
		sc := bufio.NewScanner(errPipe)
		once := sync.Once{}
		for sc.Scan() {
			errOut.Write([]byte(sc.Text() + "\n"))
			if strings.Contains(sc.Text(), "listening on") {
				once.Do(func() { close(listening) })
			}
		}
	}()
	stopped := false
	stop = func() string {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(os.Interrupt)
			waited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(waited) }()
			select {
			case <-waited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-waited
			}
		}
		return out.String()
	}
	t.Cleanup(func() { stop() })
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatalf("tcpdump did not start: %s", errOut.String())
	}
	return stop
}

// naSeen is a Neighbor Advertisement received by probeNS.
type naSeen struct {
	EthDst       wire.MAC
	IPSrc, IPDst netip.Addr
	NA           wire.NeighborAdvertisement
}

// probeNS sends a unicast Neighbor Solicitation for target from the client
// namespace, crafted with the wire package, and returns the advertisement
// that answers it, or ok=false after a second of silence.
func probeNS(t *testing.T, p *netnstest.Pair, target netip.Addr, withSourceLL bool) (seen naSeen, ok bool) {
	t.Helper()
	client, _ := net.ParseMAC(netnstest.ClientMAC)
	speaker, _ := net.ParseMAC(netnstest.SpeakerMAC)
	cm, sm := wire.MAC(client), wire.MAC(speaker)
	err := netnstest.Enter(p.Client, func() error {
		ifi, err := net.InterfaceByName(p.ClientIf)
		if err != nil {
			return err
		}
		c, err := packet.Listen(ifi, packet.Raw, int(wire.EtherTypeIPv6), nil)
		if err != nil {
			return err
		}
		defer c.Close()
		ns := wire.NeighborSolicitation{Target: target}
		if withSourceLL {
			ns.SourceLL = &cm
		}
		frame, err := wire.NDPFrame(sm, cm, netip.MustParseAddr(netnstest.ClientIPv6), target, ns)
		if err != nil {
			return err
		}
		if _, err := c.WriteTo(frame, &packet.Addr{HardwareAddr: speaker}); err != nil {
			return err
		}
		if err := c.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
			return err
		}
		buf := make([]byte, 1514)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return nil
				}
				return err
			}
			eth, err := wire.ParseEthernet(buf[:n])
			if err != nil || eth.EtherType != wire.EtherTypeIPv6 {
				continue
			}
			ip, err := wire.ParseIPv6(eth.Payload)
			if err != nil {
				continue
			}
			na, err := wire.ParseNeighborAdvertisement(ip)
			if err != nil || na.Target != target || ip.Dst.IsMulticast() {
				continue
			}
			seen, ok = naSeen{EthDst: eth.Dst, IPSrc: ip.Src, IPDst: ip.Dst, NA: na}, true
			return nil
		}
	})
	if err != nil {
		t.Fatalf("probe from the client namespace: %v", err)
	}
	return seen, ok
}

// probeARP sends an ARP request for target from the client namespace,
// inside an 802.1Q tag for VLAN 100 when tagged is set, and reports
// whether an ARP reply for target came back within a second.
func probeARP(t *testing.T, p *netnstest.Pair, target netip.Addr, tagged bool) bool {
	t.Helper()
	client, _ := net.ParseMAC(netnstest.ClientMAC)
	cm := wire.MAC(client)
	replied := false
	err := netnstest.Enter(p.Client, func() error {
		ifi, err := net.InterfaceByName(p.ClientIf)
		if err != nil {
			return err
		}
		c, err := packet.Listen(ifi, packet.Raw, int(wire.EtherTypeARP), nil)
		if err != nil {
			return err
		}
		defer c.Close()
		arp, err := wire.ARP{Op: wire.ARPRequest, SenderMAC: cm, SenderIP: netip.MustParseAddr(netnstest.ClientIPv4), TargetIP: target}.Append(nil)
		if err != nil {
			return err
		}
		eth := wire.Ethernet{Dst: wire.Broadcast, Src: cm, EtherType: wire.EtherTypeARP, Payload: arp}
		if tagged {
			eth.EtherType = 0x8100
			eth.Payload = append([]byte{0x00, 100, 0x08, 0x06}, arp...) // TCI: VLAN 100, then the ARP type
		}
		if _, err := c.WriteTo(eth.Append(nil), &packet.Addr{HardwareAddr: wire.Broadcast.HardwareAddr()}); err != nil {
			return err
		}
		if err := c.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
			return err
		}
		buf := make([]byte, 1514)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return nil
				}
				return err
			}
			e, err := wire.ParseEthernet(buf[:n])
			if err != nil {
				continue
			}
			if a, err := wire.ParseARP(e.Payload); err == nil && a.Op == wire.ARPReply && a.SenderIP == target {
				replied = true
				return nil
			}
		}
	})
	if err != nil {
		t.Fatalf("ARP probe from the client namespace: %v", err)
	}
	return replied
}

// neighbour returns the client's neighbour entry for ip ("" if none).
func neighbour(t *testing.T, p *netnstest.Pair, ip string) string {
	t.Helper()
	out, err := p.Run("ip", "-n", p.Client, "neigh", "show", ip, "dev", p.ClientIf)
	if err != nil {
		t.Fatalf("ip neigh: %v\n%s", err, out)
	}
	return strings.TrimSpace(out)
}

func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// setupClient gives the client stale neighbour entries for ips that point
// to the previous owner, and makes its kernel probe a stale entry 1 s
// after use.
func setupClient(t *testing.T, p *netnstest.Pair, ips ...string) {
	t.Helper()
	for _, ip := range ips {
		p.MustRun("ip", "-n", p.Client, "neigh", "replace", ip, "lladdr", fakeMAC, "dev", p.ClientIf, "nud", "stale")
	}
	p.MustRun("ip", "netns", "exec", p.Client, "sysctl", "-q", "-w",
		"net.ipv4.neigh."+p.ClientIf+".delay_first_probe_time=1",
		"net.ipv6.neigh."+p.ClientIf+".delay_first_probe_time=1")
}

// waitMoved waits until the client's entry for ip holds the speaker's MAC.
func waitMoved(t *testing.T, p *netnstest.Pair, ip string) {
	t.Helper()
	eventually(t, 5*time.Second, "neighbour entry for "+ip+" not updated: "+neighbour(t, p, ip), func() bool {
		return strings.Contains(neighbour(t, p, ip), "lladdr "+netnstest.SpeakerMAC)
	})
}

// kernelProbes sends traffic to stale entries: the client kernel probes
// the cached MAC with unicast ARP / NS, and only a solicited answer makes
// the entry REACHABLE.
func kernelProbes(t *testing.T, p *netnstest.Pair, ips ...string) {
	t.Helper()
	for _, ip := range ips {
		if n := neighbour(t, p, ip); !strings.Contains(n, "STALE") {
			t.Fatalf("entry for %s should be STALE before probing: %q", ip, n)
		}
		args := []string{"-c", "1", "-W", "1", ip}
		if strings.Contains(ip, ":") {
			args = append([]string{"-6"}, args...)
		}
		_, _ = p.InClient("ping", args...) // nobody answers the ping itself
	}
	for _, ip := range ips {
		eventually(t, 8*time.Second, ip+" never became REACHABLE: "+neighbour(t, p, ip), func() bool {
			n := neighbour(t, p, ip)
			return strings.Contains(n, "REACHABLE") && strings.Contains(n, "lladdr "+netnstest.SpeakerMAC)
		})
	}
}

func checkNA(t *testing.T, seen naSeen, src netip.Addr) {
	t.Helper()
	client, _ := net.ParseMAC(netnstest.ClientMAC)
	speaker, _ := net.ParseMAC(netnstest.SpeakerMAC)
	if seen.EthDst != wire.MAC(client) || seen.IPDst != netip.MustParseAddr(netnstest.ClientIPv6) ||
		seen.IPSrc != src || !seen.NA.Solicited || seen.NA.Override ||
		seen.NA.TargetLL == nil || *seen.NA.TargetLL != wire.MAC(speaker) {
		t.Errorf("got %+v (target ll %v), want S=1 O=0 from %v to the client with the speaker's MAC", seen, seen.NA.TargetLL, src)
	}
}

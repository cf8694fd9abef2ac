package main

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

// Addresses. Every pool is inside 198.19.0.0/16, the half of the lab's
// benchmark range (198.18.0.0/15) that the API server's Service range
// (198.18.0.0/16) leaves free. Nothing needs them on-link: the routers
// learn them by BGP, with the nodes' LAN addresses as next hops.
const (
	bigPool = "198.19.0.0/16"
	// maxServices keeps the scale pool (from 198.19.0.1 up) below the
	// latency pool.
	maxServices = 65000
	// latencyPool holds the latency run's Services, one pinned IP each
	// (latencyIP), so the RIB can be watched before the Service exists.
	latencyPool        = "198.19.254.0/24"
	maxLatencyServices = 250
	// probeIP is a Service of its own that tells when the speakers
	// announce, and whose route the failover trials watch.
	probeIP = "198.19.255.254"

	// benchNS holds the benchmark's Services.
	benchNS = "benchbgp"
	// speakerASN is the nodes' AS; each router has its own.
	speakerASN = 64512
)

// The routers. frr peers with BFD at 100 ms x 3 (its BGP hold time stays
// the default), frrhold without BFD at a hold time of 3 s: one failure
// trial measures both ways of detecting a dead node. The scale lab peers
// with three implementations instead.
var (
	frrBFD       = routerSpec{name: "frr", kind: lab.FRR, asn: 64500, last: 1}
	frrHold      = routerSpec{name: "frrhold", kind: lab.FRR, asn: 64501, last: 2}
	scaleRouters = []routerSpec{
		{name: "frr", kind: lab.FRR, asn: 64500, last: 1},
		{name: "bird", kind: lab.BIRD, asn: 64501, last: 2},
		{name: "gobgp", kind: lab.GoBGP, asn: 64502, last: 3},
	}
)

// The failure detection settings.
const (
	bfdInterval   = 100 * time.Millisecond
	bfdMultiplier = 3
	holdTime      = 3 * time.Second
)

// routerSpec is a router of a lab: its name, kind, AS and the last byte
// of its LAN addresses (198.51.100.<last>, 2001:db8:1::<last>).
type routerSpec struct {
	name string
	kind lab.RouterKind
	asn  uint32
	last int
}

func (r routerSpec) ipv4() netip.Addr {
	b := lab.LANv4.Addr().As4()
	b[3] = byte(r.last)
	return netip.AddrFrom4(b)
}

func (r routerSpec) ipv6() netip.Addr {
	return netip.MustParseAddr(fmt.Sprintf("2001:db8:1::%x", r.last))
}

// addIPv4 returns a + n.
func addIPv4(a netip.Addr, n uint32) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += n
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// poolIP returns the i-th address of the scale pool (0-based): 198.19.0.1 up.
func poolIP(i int) netip.Addr {
	return addIPv4(netip.MustParsePrefix(bigPool).Addr(), uint32(i)+1)
}

// latencyIP returns the address of the i-th latency Service (0-based).
func latencyIP(i int) netip.Addr {
	return addIPv4(netip.MustParsePrefix(latencyPool).Addr(), uint32(i)+1)
}

func host(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

func meta(name string) string {
	return "metadata: {name: " + name + ", namespace: " + cluster.Namespace + "}\n"
}

// probeConfig is the probe Service's pool (never auto-assigned).
func probeConfig() string {
	return "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n" + meta("probe") +
		"spec:\n  addresses: [" + probeIP + "/32]\n  autoAssign: false\n"
}

// routerLabConfig is the configuration of the latency and failover lab.
func routerLabConfig() []byte {
	docs := []string{
		"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n" + meta("latency") +
			"spec:\n  addresses: [" + latencyPool + "]\n  autoAssign: false\n",
		probeConfig(),
		"apiVersion: metallb.io/v1beta1\nkind: BFDProfile\n" + meta("fast") +
			fmt.Sprintf("spec:\n  receiveInterval: %d\n  transmitInterval: %d\n  detectMultiplier: %d\n",
				bfdInterval.Milliseconds(), bfdInterval.Milliseconds(), bfdMultiplier),
		"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\n" + meta(frrBFD.name) +
			fmt.Sprintf("spec:\n  myASN: %d\n  peerASN: %d\n  peerAddress: %s\n  bfdProfile: fast\n", speakerASN, frrBFD.asn, frrBFD.ipv4()),
		"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\n" + meta(frrHold.name) +
			fmt.Sprintf("spec:\n  myASN: %d\n  peerASN: %d\n  peerAddress: %s\n  holdTime: %s\n", speakerASN, frrHold.asn, frrHold.ipv4(), holdTime),
		"apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n" + meta("bench") +
			"spec:\n  ipAddressPools: [latency, probe]\n",
	}
	return []byte(strings.Join(docs, "---\n"))
}

// scaleConfig is the configuration of the scale lab: a pool of exactly n
// addresses, the probe pool, one BGPPeer per router.
func scaleConfig(n int) []byte {
	docs := []string{
		"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n" + meta("scale") +
			"spec:\n  addresses: [" + poolIP(0).String() + "-" + poolIP(n-1).String() + "]\n",
		probeConfig(),
	}
	for _, r := range scaleRouters {
		docs = append(docs, "apiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"+meta(r.name)+
			fmt.Sprintf("spec:\n  myASN: %d\n  peerASN: %d\n  peerAddress: %s\n", speakerASN, r.asn, r.ipv4()))
	}
	docs = append(docs, "apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"+meta("bench")+
		"spec:\n  ipAddressPools: [scale, probe]\n")
	return []byte(strings.Join(docs, "---\n"))
}

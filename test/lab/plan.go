package lab

import (
	"fmt"
	"net"
	"net/netip"
)

// The address plan. Documentation ranges only; see doc.go for the picture.
var (
	// LANv4 and LANv6 are the shared segment of nodes, client and router.
	LANv4 = netip.MustParsePrefix("198.51.100.0/24")
	LANv6 = netip.MustParsePrefix("2001:db8:1::/64")

	// ClientIPv4 and ClientIPv6 are the client's LAN addresses.
	ClientIPv4 = netip.MustParseAddr("198.51.100.100")
	ClientIPv6 = netip.MustParseAddr("2001:db8:1::100")

	// RouterIPv4 and RouterIPv6 are kept free for a router host (AddHost).
	RouterIPv4 = netip.MustParseAddr("198.51.100.1")
	RouterIPv6 = netip.MustParseAddr("2001:db8:1::1")

	// PodsV4 and PodsV6 hold every node's pod subnet (PodPrefix); they are
	// kube-proxy's --cluster-cidr.
	PodsV4 = netip.MustParsePrefix("192.0.2.0/24")
	PodsV6 = netip.MustParsePrefix("2001:db8:2::/48")

	// PoolV4 and PoolV6 are where load-balancer pools go. The client and the
	// nodes reach them on-link (they ARP/NDP for those addresses on eth0).
	PoolV4 = netip.MustParsePrefix("203.0.113.0/24")
	PoolV6 = netip.MustParsePrefix("2001:db8:100::/64")
)

// MaxNodes is the largest lab: 192.0.2.0/24 holds 15 pod subnets of /28
// after the unused first one.
const MaxNodes = 15

// APIPort is where the API server answers inside every node namespace
// (https://127.0.0.1:6443).
const APIPort = 6443

// BackendPort is the port of every node's backend HTTP server; each
// Service port published by Backends forwards to it.
const BackendPort = 80

// NodeName is the Kubernetes name of node i (1-based): "node1", "node2"...
func NodeName(i int) string { return fmt.Sprintf("node%d", i) }

// NodeIPv4 is node i's LAN address, 198.51.100.(10+i).
func NodeIPv4(i int) netip.Addr { return lanAddr(10 + i) }

// NodeIPv6 is node i's LAN address, 2001:db8:1::(10+i) (the same digits).
func NodeIPv6(i int) netip.Addr {
	return netip.MustParseAddr(fmt.Sprintf("2001:db8:1::%d", 10+i))
}

func lanAddr(host int) netip.Addr {
	b := LANv4.Addr().As4()
	b[3] = byte(host)
	return netip.AddrFrom4(b)
}

// PodPrefixV4 is node i's pod subnet, 192.0.2.(16i)/28: the node's end of
// the pod link is .16i+1, the backend pod .16i+2.
func PodPrefixV4(i int) netip.Prefix {
	b := PodsV4.Addr().As4()
	b[3] = byte(16 * i)
	return netip.PrefixFrom(netip.AddrFrom4(b), 28)
}

// PodPrefixV6 is node i's pod subnet, 2001:db8:2:i::/64 (the node's end ::1,
// the pod ::2).
func PodPrefixV6(i int) netip.Prefix {
	return netip.MustParsePrefix(fmt.Sprintf("2001:db8:2:%d::/64", i))
}

// PodIPv4 and PodIPv6 are the addresses of node i's backend pod.
func PodIPv4(i int) netip.Addr { return nth(PodPrefixV4(i), 2) }
func PodIPv6(i int) netip.Addr { return nth(PodPrefixV6(i), 2) }

// podGatewayV4 and podGatewayV6 are the node's end of the pod link.
func podGatewayV4(i int) netip.Addr { return nth(PodPrefixV4(i), 1) }
func podGatewayV6(i int) netip.Addr { return nth(PodPrefixV6(i), 1) }

func nth(p netip.Prefix, n int) netip.Addr {
	a := p.Addr()
	for range n {
		a = a.Next()
	}
	return a
}

// LANMAC is the MAC address the lab gives the LAN interface of the host
// with IPv4 address ip: 02:fe followed by the four bytes of ip, so
// 198.51.100.11 has 02:fe:c6:33:64:0b.
func LANMAC(ip netip.Addr) net.HardwareAddr {
	b := ip.As4()
	return net.HardwareAddr{0x02, 0xfe, b[0], b[1], b[2], b[3]}
}

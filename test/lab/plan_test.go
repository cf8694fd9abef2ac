package lab

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/test/kubeapi"
)

func TestAddressPlan(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"node1 IPv4", NodeIPv4(1), netip.MustParseAddr("198.51.100.11")},
		{"node15 IPv4", NodeIPv4(15), netip.MustParseAddr("198.51.100.25")},
		{"node1 IPv6", NodeIPv6(1), netip.MustParseAddr("2001:db8:1::11")},
		{"node3 IPv6", NodeIPv6(3), netip.MustParseAddr("2001:db8:1::13")},
		{"node1 pods", PodPrefixV4(1), netip.MustParsePrefix("192.0.2.16/28")},
		{"node15 pods", PodPrefixV4(15), netip.MustParsePrefix("192.0.2.240/28")},
		{"node1 pod", PodIPv4(1), netip.MustParseAddr("192.0.2.18")},
		{"node1 gateway", podGatewayV4(1), netip.MustParseAddr("192.0.2.17")},
		{"node2 pods v6", PodPrefixV6(2), netip.MustParsePrefix("2001:db8:2:2::/64")},
		{"node2 pod v6", PodIPv6(2), netip.MustParseAddr("2001:db8:2:2::2")},
		{"node1 MAC", LANMAC(NodeIPv4(1)).String(), "02:fe:c6:33:64:0b"},
		{"client MAC", LANMAC(ClientIPv4).String(), "02:fe:c6:33:64:64"},
		{"node name", NodeName(2), "node2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
				cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestAddressPlanDisjoint checks that no two ranges of the largest lab
// overlap, that every host address is unique and inside its range, and
// that everything is a documentation range.
func TestAddressPlanDisjoint(t *testing.T) {
	services, err := parsePrefixes(kubeapi.DefaultServiceCIDRs)
	if err != nil {
		t.Fatal(err)
	}
	ranges := map[string]netip.Prefix{
		"LANv4": LANv4, "LANv6": LANv6, "PoolV4": PoolV4, "PoolV6": PoolV6,
		"services v4": services[0], "services v6": services[1],
	}
	for i := 1; i <= MaxNodes; i++ {
		ranges[fmt.Sprintf("pods v4 of node%d", i)] = PodPrefixV4(i)
		ranges[fmt.Sprintf("pods v6 of node%d", i)] = PodPrefixV6(i)
		if !PodsV4.Contains(PodPrefixV4(i).Addr()) || !PodsV6.Contains(PodPrefixV6(i).Addr()) {
			t.Errorf("node%d's pod subnets %v, %v are outside %v, %v", i, PodPrefixV4(i), PodPrefixV6(i), PodsV4, PodsV6)
		}
	}
	for a, pa := range ranges {
		for b, pb := range ranges {
			if a < b && pa.Overlaps(pb) {
				t.Errorf("%s %v overlaps %s %v", a, pa, b, pb)
			}
		}
	}
	documentation := []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("2001:db8::/32"),
	}
	for name, p := range ranges {
		ok := false
		for _, d := range documentation {
			ok = ok || (d.Contains(p.Addr()) && d.Bits() <= p.Bits())
		}
		if !ok {
			t.Errorf("%s %v is not inside a documentation range", name, p)
		}
	}
	hosts := map[netip.Addr]string{ClientIPv4: "client", ClientIPv6: "client", RouterIPv4: "router", RouterIPv6: "router"}
	for i := 1; i <= MaxNodes; i++ {
		for _, a := range []netip.Addr{NodeIPv4(i), NodeIPv6(i)} {
			if other, dup := hosts[a]; dup {
				t.Errorf("node%d's %v is also %s's", i, a, other)
			}
			hosts[a] = NodeName(i)
		}
	}
	for a, h := range hosts {
		if !LANv4.Contains(a) && !LANv6.Contains(a) {
			t.Errorf("%s's %v is not on the LAN", h, a)
		}
	}
}

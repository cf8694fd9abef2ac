package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

func TestVTYReply(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		out    string
		status byte
		ok     bool
	}{
		{"nothing yet", "", "", 0, false},
		{"output without terminator", "{\n}\n", "", 0, false},
		{"terminator incomplete", "{}\x00\x00\x00", "", 0, false},
		{"success", "{}\n\x00\x00\x00\x00", "{}\n", 0, true},
		{"warning", "% Unknown command\n\x00\x00\x00\x02", "% Unknown command\n", 2, true},
		{"empty output", "\x00\x00\x00\x00", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, status, ok := vtyReply([]byte(tc.in))
			if ok != tc.ok || string(out) != tc.out || status != tc.status {
				t.Errorf("vtyReply(%q) = %q, %d, %v; want %q, %d, %v", tc.in, out, status, ok, tc.out, tc.status, tc.ok)
			}
		})
	}
}

// frrRoute is trimmed from FRR 8.4's `show bgp ipv4 unicast <prefix> json`:
// a valid path from .11, an invalid one from .12, a removed one from .13.
const frrRoute = `{
  "prefix":"198.19.255.254/32",
  "advertisedTo":{"198.51.100.11":{"hostname":"vm"}},
  "paths":[
    {"aspath":{"string":"64512"},"origin":"IGP","valid":true,"multipath":true,
     "nexthops":[{"ip":"198.51.100.11","afi":"ipv4","used":true}],
     "peer":{"peerId":"198.51.100.11","routerId":"198.51.100.11","type":"external"}},
    {"aspath":{"string":"64512"},"origin":"IGP",
     "nexthops":[{"ip":"198.51.100.12","afi":"ipv4","used":true}],
     "peer":{"peerId":"198.51.100.12","routerId":"198.51.100.12","type":"external"}},
    {"aspath":{"string":"64512"},"origin":"IGP","valid":true,"removed":true,
     "nexthops":[{"ip":"198.51.100.13","afi":"ipv4","used":true}],
     "peer":{"peerId":"198.51.100.13","routerId":"198.51.100.13","type":"external"}}
  ]
}`

func TestParsePeers(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []netip.Addr
	}{
		{"no route", "{\n}\n", nil},
		{"valid paths only", frrRoute, []netip.Addr{netip.MustParseAddr("198.51.100.11")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePeers([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	if _, err := parsePeers([]byte("% Network not in table")); err == nil {
		t.Error("parsePeers accepted text that is not JSON")
	}
}

func TestParseReceived(t *testing.T) {
	a, b := netip.MustParseAddr("198.51.100.11"), netip.MustParseAddr("198.51.100.12")
	for _, tc := range []struct {
		name string
		in   string
		want map[netip.Addr]int
	}{
		{"family named", `{"routerId":"198.51.100.1","peers":{
			"198.51.100.11":{"state":"Established","pfxRcd":1001},
			"198.51.100.12":{"state":"Active","pfxRcd":0}}}`, map[netip.Addr]int{a: 1001}},
		{"nested", `{"ipv4Unicast":{"peers":{
			"198.51.100.11":{"state":"Established","pfxRcd":3},
			"198.51.100.12":{"state":"Established","pfxRcd":7}}}}`, map[netip.Addr]int{a: 3, b: 7}},
		{"no peers", `{}`, map[netip.Addr]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseReceived([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseBFDUp(t *testing.T) {
	got, err := parseBFDUp([]byte(`[
	  {"multihop":false,"peer":"198.51.100.13","local":"198.51.100.1","status":"up","receive-interval":100},
	  {"multihop":false,"peer":"198.51.100.11","status":"down"}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.Addr]bool{netip.MustParseAddr("198.51.100.13"): true, netip.MustParseAddr("198.51.100.11"): false}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestAddressPlan(t *testing.T) {
	big := netip.MustParsePrefix(bigPool)
	services := netip.MustParsePrefix("198.18.0.0/16") // the API server's Service range
	lat := netip.MustParsePrefix(latencyPool)
	probe := netip.MustParseAddr(probeIP)
	for _, tc := range []struct {
		i    int
		want string
	}{{0, "198.19.0.1"}, {255, "198.19.1.0"}, {999, "198.19.3.232"}} {
		if got := poolIP(tc.i).String(); got != tc.want {
			t.Errorf("poolIP(%d) = %s; want %s", tc.i, got, tc.want)
		}
	}
	last := poolIP(maxServices - 1)
	if !big.Contains(last) || !last.Less(lat.Addr()) {
		t.Errorf("the largest scale pool ends at %s: not below the latency pool %s", last, lat)
	}
	if got := latencyIP(0).String(); got != "198.19.254.1" {
		t.Errorf("latencyIP(0) = %s", got)
	}
	if l := latencyIP(maxLatencyServices - 1); !lat.Contains(l) || !l.Less(probe) {
		t.Errorf("the last latency IP %s is outside %s or not below the probe %s", l, lat, probe)
	}
	for _, p := range []netip.Prefix{lat, host(probe)} {
		if !big.Contains(p.Addr()) || services.Overlaps(p) {
			t.Errorf("%s is outside %s or overlaps the Service range %s", p, big, services)
		}
	}
	if frrBFD.ipv4().String() != "198.51.100.1" || frrHold.ipv6().String() != "2001:db8:1::2" {
		t.Errorf("router addresses %s, %s", frrBFD.ipv4(), frrHold.ipv6())
	}
}

// docs splits a multi-document YAML text and decodes each document
// strictly into the type its kind names.
func docs(t *testing.T, text []byte) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, d := range strings.Split(string(text), "---\n") {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name, Namespace string
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(d), &head); err != nil {
			t.Fatalf("%v in\n%s", err, d)
		}
		var obj any
		switch head.APIVersion + " " + head.Kind {
		case "metallb.io/v1beta1 IPAddressPool":
			obj = &v1beta1.IPAddressPool{}
		case "metallb.io/v1beta1 BFDProfile":
			obj = &v1beta1.BFDProfile{}
		case "metallb.io/v1beta1 BGPAdvertisement":
			obj = &v1beta1.BGPAdvertisement{}
		case "metallb.io/v1beta2 BGPPeer":
			obj = &v1beta2.BGPPeer{}
		default:
			t.Fatalf("unexpected %s %s", head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(d), obj); err != nil {
			t.Fatalf("%s %s: %v", head.Kind, head.Metadata.Name, err)
		}
		if head.Metadata.Namespace != "metallb-system" {
			t.Errorf("%s %s in namespace %q", head.Kind, head.Metadata.Name, head.Metadata.Namespace)
		}
		out[head.Kind+"/"+head.Metadata.Name] = obj
	}
	return out
}

func TestRouterLabConfig(t *testing.T) {
	objs := docs(t, routerLabConfig())
	bfd, ok := objs["BFDProfile/fast"].(*v1beta1.BFDProfile)
	if !ok {
		t.Fatalf("no BFDProfile fast in %v", objs)
	}
	if r, x, m := bfd.Spec.ReceiveInterval, bfd.Spec.TransmitInterval, bfd.Spec.DetectMultiplier; r == nil || *r != 100 || x == nil || *x != 100 || m == nil || *m != 3 {
		t.Errorf("BFD profile %+v; want 100 ms, 100 ms, x3", bfd.Spec)
	}
	withBFD := objs["BGPPeer/frr"].(*v1beta2.BGPPeer).Spec
	if withBFD.BFDProfile != "fast" || withBFD.HoldTime != nil || withBFD.Address != "198.51.100.1" || withBFD.ASN != 64500 {
		t.Errorf("peer frr: %+v", withBFD)
	}
	hold := objs["BGPPeer/frrhold"].(*v1beta2.BGPPeer).Spec
	if hold.BFDProfile != "" || hold.HoldTime == nil || hold.HoldTime.Duration != 3*time.Second || hold.Address != "198.51.100.2" {
		t.Errorf("peer frrhold: %+v", hold)
	}
	ad := objs["BGPAdvertisement/bench"].(*v1beta1.BGPAdvertisement).Spec
	if diff := cmp.Diff([]string{"latency", "probe"}, ad.IPAddressPools); diff != "" {
		t.Errorf("advertised pools (-want +got)\n%s", diff)
	}
}

func TestScaleConfig(t *testing.T) {
	objs := docs(t, scaleConfig(1000))
	pool := objs["IPAddressPool/scale"].(*v1beta1.IPAddressPool).Spec
	if diff := cmp.Diff([]string{"198.19.0.1-198.19.3.232"}, pool.Addresses); diff != "" {
		t.Errorf("scale pool (-want +got)\n%s", diff)
	}
	for _, r := range scaleRouters {
		p, ok := objs["BGPPeer/"+r.name].(*v1beta2.BGPPeer)
		if !ok {
			t.Fatalf("no BGPPeer %s", r.name)
		}
		if p.Spec.Address != r.ipv4().String() || p.Spec.ASN != r.asn || p.Spec.MyASN != speakerASN {
			t.Errorf("peer %s: %+v", r.name, p.Spec)
		}
	}
	if len(objs) != 3+len(scaleRouters) {
		t.Errorf("%d objects; want pools scale and probe, an advertisement and %d peers", len(objs), len(scaleRouters))
	}
}

func TestSummarizeSmaps(t *testing.T) {
	smaps := `00400000-00401000 r--p 00000000 fe:01 123 /tmp/ferrolb-bin-1/speaker
Size:                  4 kB
Rss:                   4 kB
00402000-01fd1000 r-xp 00002000 fe:01 123 /tmp/ferrolb-bin-1/speaker
Rss:               28000 kB
01fd1000-0400d000 r--p 01bd1000 fe:01 123 /tmp/ferrolb-bin-1/speaker
Rss:               30720 kB
c000000000-c004000000 rw-p 00000000 00:00 0 
Rss:               51200 kB
7f0000000000-7f0000100000 rw-p 00000000 00:00 0 
Rss:                1024 kB
7ffd0000-7ffd1000 rw-p 00000000 00:00 0                          [stack]
Rss:                   8 kB
`
	got := summarizeSmaps(smaps, 3)
	want := "anon rw-p 51.0 MiB, speaker r--p 30.0 MiB, speaker r-xp 27.3 MiB"
	if got != want {
		t.Errorf("summarizeSmaps = %q; want %q", got, want)
	}
}

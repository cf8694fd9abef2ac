package lab

import (
	"context"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

var updateRouterGolden = flag.Bool("update-routers", false, "rewrite testdata/routers/*.golden")

// goldenOptions has one neighbour of each shape: passive IPv4 with MD5,
// BFD (in echo mode on FRR), graceful restart and a short hold time; IPv6
// carrying both families; multihop.
func goldenOptions(kind RouterKind) RouterOptions {
	o := RouterOptions{Kind: kind, ASN: 64500, Neighbors: []Neighbor{
		{Address: mustAddr("198.51.100.11"), ASN: 64512, Password: "s3cret", Passive: true, HoldTime: 9 * time.Second,
			BFD: &BFDOptions{RxInterval: 100 * time.Millisecond}, GracefulRestart: true},
		{Address: mustAddr("2001:db8:1::12"), ASN: 64512, Families: []model.Family{model.IPv4, model.IPv6}},
		{Address: mustAddr("198.51.100.13"), ASN: 64513, Multihop: 3},
	}}
	switch kind {
	case GoBGP:
		o.Neighbors[0].BFD = nil
	case FRR:
		o.Neighbors[0].BFD.EchoInterval = 50 * time.Millisecond
	}
	return o
}

// renderConfigs returns the configuration files of a router kind for o.
func renderConfigs(t *testing.T, o RouterOptions) map[string]string {
	t.Helper()
	o, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	r := &Router{Name: o.Name, ASN: o.ASN, RouterID: o.RouterID, Peers: o.Neighbors, opts: o}
	switch o.Kind {
	case FRR:
		return map[string]string{
			"frr-bgpd.conf": frrBGPConfig(r.Name, r.ASN, r.RouterID, r.Peers, r.maxPaths()),
			"frr-bfdd.conf": frrBFDConfig(r.Name, r.Peers),
		}
	case BIRD:
		return map[string]string{
			"bird.conf":         birdConfig(r.RouterID, r.ASN, r.Peers, r.maxPaths(), netip.Addr{}, netip.Addr{}),
			"bird-transit.conf": birdConfig(r.RouterID, r.ASN, r.Peers, 1, mustAddr("192.0.2.13"), mustAddr("2001:db8:3:3::1")),
		}
	case GoBGP:
		return map[string]string{"gobgpd.toml": gobgpConfig(r.RouterID, r.ASN, r.Peers, r.maxPaths())}
	}
	t.Fatalf("kind %q", o.Kind)
	return nil
}

// TestRouterConfigs compares the generated configurations with golden
// files (go test -run TestRouterConfigs -update-routers rewrites them) and
// has each implementation check its own (bgpd -C, bird -p, gobgpd -d).
func TestRouterConfigs(t *testing.T) {
	checks := map[string][]string{
		"frr-bgpd.conf":     {filepath.Join(frrDir, "bgpd"), "-C", "-u", "frr", "-g", "frr", "-f"},
		"frr-bfdd.conf":     {filepath.Join(frrDir, "bfdd"), "-C", "-u", "frr", "-g", "frr", "-f"},
		"bird.conf":         {"bird", "-p", "-c"},
		"bird-transit.conf": {"bird", "-p", "-c"},
		"gobgpd.toml":       {"gobgpd", "-d", "-t", "toml", "-f"},
	}
	seen := 0
	for _, kind := range []RouterKind{FRR, BIRD, GoBGP} {
		for name, text := range renderConfigs(t, goldenOptions(kind)) {
			seen++
			t.Run(name, func(t *testing.T) {
				golden := filepath.Join("testdata", "routers", name+".golden")
				if *updateRouterGolden {
					if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(want), text); diff != "" {
					t.Errorf("%s (-want +got):\n%s", name, diff)
				}
				// The implementation's own parser.
				// FRR reads it as user frr: no private temporary directory.
				dir, err := os.MkdirTemp("", "flab-config-")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				c := checks[name]
				args := append(c[1:], path)
				if strings.HasPrefix(name, "frr-") {
					if err := os.Chmod(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					args = append(args, "--vty_socket", dir, "-i", filepath.Join(dir, "pid"), "-z", filepath.Join(dir, "zserv"))
				}
				out, err := run(context.Background(), "", c[0], args...)
				// bgpd -C and bfdd -C exit 0 after a bad line: read what
				// they say. FRR 8.4 applies "neighbor X graceful-restart"
				// but reports it as failed (the peer needs a reset).
				var complaints []string
				for _, line := range strings.Split(out, "\n") {
					if strings.Contains(line, "[EC ") && !strings.HasSuffix(strings.TrimSpace(line), " graceful-restart") {
						complaints = append(complaints, line)
					}
				}
				if err != nil || len(complaints) > 0 {
					t.Errorf("%s rejects %s: %v\n%s\n%s", c[0], name, err, out, text)
				}
			})
		}
	}
	if seen != len(checks) {
		t.Errorf("rendered %d configurations; want %d", seen, len(checks))
	}
}

func TestRouterOptionsDefaults(t *testing.T) {
	o, err := RouterOptions{Kind: FRR, ASN: 64500, Neighbors: []Neighbor{
		{Address: mustAddr("198.51.100.11"), ASN: 64512, BFD: &BFDOptions{}},
		{Address: mustAddr("2001:db8:1::11"), ASN: 64512},
	}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != "frr" || o.IPv4 != RouterIPv4 || o.IPv6 != RouterIPv6 || o.RouterID != RouterIPv4 {
		t.Errorf("defaults: name %q, %v, %v, router ID %v", o.Name, o.IPv4, o.IPv6, o.RouterID)
	}
	if b := o.Neighbors[0].BFD; *b != (BFDOptions{RxInterval: 300 * time.Millisecond, TxInterval: 300 * time.Millisecond, Multiplier: 3}) {
		t.Errorf("BFD defaults %+v", *b)
	}
	if f := o.Neighbors[1].Families; len(f) != 1 || f[0] != model.IPv6 {
		t.Errorf("families of an IPv6 neighbour: %v", f)
	}
	behind, err := RouterOptions{Kind: BIRD, ASN: 1, Transit: "transit"}.withDefaults()
	if err != nil || behind.RouterID.IsValid() {
		t.Errorf("behind a transit the router ID waits for the link address: %v, %v", behind.RouterID, err)
	}

	nb := func(n Neighbor) []Neighbor {
		if !n.Address.IsValid() {
			n.Address = mustAddr("198.51.100.11")
		}
		if n.ASN == 0 {
			n.ASN = 64512
		}
		return []Neighbor{n}
	}
	bad := []struct {
		name string
		o    RouterOptions
	}{
		{"no ASN", RouterOptions{Kind: FRR}},
		{"address off the LAN", RouterOptions{Kind: FRR, ASN: 1, IPv4: mustAddr("192.0.2.1")}},
		{"outside behind a transit", RouterOptions{Kind: FRR, ASN: 1, Outside: true, Transit: "t"}},
		{"name too long for its outside client", RouterOptions{Kind: FRR, Name: "averylongname", ASN: 1, Outside: true}},
		{"neighbour without ASN", RouterOptions{Kind: FRR, ASN: 1, Neighbors: []Neighbor{{Address: mustAddr("198.51.100.11")}}}},
		{"neighbour twice", RouterOptions{Kind: FRR, ASN: 1, Neighbors: append(nb(Neighbor{}), nb(Neighbor{})...)}},
		{"password with a space", RouterOptions{Kind: FRR, ASN: 1, Neighbors: nb(Neighbor{Password: "a b"})}},
		{"hold time below 3 s", RouterOptions{Kind: FRR, ASN: 1, Neighbors: nb(Neighbor{HoldTime: time.Second})}},
		{"hold time not whole seconds", RouterOptions{Kind: FRR, ASN: 1, Neighbors: nb(Neighbor{HoldTime: 3500 * time.Millisecond})}},
		{"multihop TTL 300", RouterOptions{Kind: FRR, ASN: 1, Neighbors: nb(Neighbor{Multihop: 300})}},
		{"BFD multiplier 1", RouterOptions{Kind: FRR, ASN: 1, Neighbors: nb(Neighbor{BFD: &BFDOptions{Multiplier: 1}})}},
		{"IPv6 router ID", RouterOptions{Kind: FRR, ASN: 1, RouterID: mustAddr("2001:db8::1")}},
	}
	for _, tc := range bad {
		if _, err := tc.o.withDefaults(); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if err := (gobgpImpl{}).check(RouterOptions{Name: "g", Neighbors: nb(Neighbor{BFD: &BFDOptions{}})}); err == nil {
		t.Error("GoBGP accepted a BFD neighbour")
	}
	if err := (birdImpl{}).check(RouterOptions{Name: "b", Neighbors: nb(Neighbor{BFD: &BFDOptions{EchoInterval: 50 * time.Millisecond}})}); err == nil {
		t.Error("BIRD accepted a BFD echo neighbour")
	}
	if err := (birdImpl{}).check(RouterOptions{Name: "b", Neighbors: nb(Neighbor{BFD: &BFDOptions{}})}); err != nil {
		t.Errorf("BIRD rejected a BFD neighbour: %v", err)
	}
	if _, err := implFor("quagga"); err == nil {
		t.Error("implFor accepted an unknown kind")
	}
}

func TestLinkPlan(t *testing.T) {
	var prefixes []netip.Prefix
	for k := range MaxLinks {
		p4, p6 := LinkPrefixV4(k), LinkPrefixV6(k)
		n4, f4, n6, f6 := linkEnds(k)
		if !LinksV4.Contains(p4.Addr()) || !LinksV6.Contains(p6.Addr()) || !p4.Contains(n4) || !p4.Contains(f4) ||
			!p6.Contains(n6) || !p6.Contains(f6) || n4 == f4 || n4 == p4.Addr() || f4 == nth(p4, 3) {
			t.Errorf("link %d: %v (%v, %v), %v (%v, %v)", k, p4, n4, f4, p6, n6, f6)
		}
		prefixes = append(prefixes, p4, p6)
	}
	if LinkPrefixV4(1).String() != "192.0.2.4/30" || LinkPrefixV6(3).String() != "2001:db8:3:3::/64" {
		t.Errorf("link 1 is %v, link 3 is %v", LinkPrefixV4(1), LinkPrefixV6(3))
	}
	for i := 1; i <= MaxNodes; i++ {
		prefixes = append(prefixes, PodPrefixV4(i), PodPrefixV6(i))
	}
	prefixes = append(prefixes, LANv4, LANv6, PoolV4, PoolV6)
	for i, a := range prefixes {
		for _, b := range prefixes[i+1:] {
			if a.Overlaps(b) {
				t.Errorf("%v overlaps %v", a, b)
			}
		}
	}
}

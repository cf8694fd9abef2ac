package bgp

import (
	"net/netip"
	"testing"
)

func TestSetsEqual(t *testing.T) {
	p := netip.MustParsePrefix("192.0.2.1/32")
	q := netip.MustParsePrefix("192.0.2.2/32")
	a := map[netip.Prefix]Advertisement{p: {Prefix: p, LocalPref: 100, Communities: []Community{{Global: 1, Local1: 2}}}}
	same := map[netip.Prefix]Advertisement{p: {Prefix: p, LocalPref: 100, Communities: []Community{{Global: 1, Local1: 2}}}}
	if !SetsEqual(a, same) || !SetsEqual(nil, map[netip.Prefix]Advertisement{}) {
		t.Error("equal sets reported different")
	}
	for name, b := range map[string]map[netip.Prefix]Advertisement{
		"local pref":  {p: {Prefix: p, LocalPref: 200, Communities: []Community{{Global: 1, Local1: 2}}}},
		"community":   {p: {Prefix: p, LocalPref: 100, Communities: []Community{{Global: 1, Local1: 3}}}},
		"other route": {q: {Prefix: q, LocalPref: 100, Communities: []Community{{Global: 1, Local1: 2}}}},
		"one more":    {p: a[p], q: {Prefix: q}},
		"empty":       nil,
	} {
		if SetsEqual(a, b) {
			t.Errorf("%s: different sets reported equal", name)
		}
	}
}

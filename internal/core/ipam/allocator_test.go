package ipam

import (
	"strconv"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

func TestSharingScript(t *testing.T) {
	a := newWith(t, pool("p", []string{"192.0.2.8/29"}))
	k80 := []svcOpt{share("k"), ports("TCP/80")}
	runScript(t, a, []step{
		allocate("s1 takes the first address, network address included", svc("ns/s1")).gets("p", "192.0.2.8"),
		assign("s2 cannot take s1's IP", svc("ns/s2"), "192.0.2.8").
			fails(IPInUse, "IP 192.0.2.8 is used by ns/s1, which does not share it (it has no allow-shared-ip key)"),
		allocate("s2 takes the next one", svc("ns/s2")).gets("p", "192.0.2.9"),
		allocate("s3 with key k and TCP/80", svc("ns/s3", k80...)).gets("p", "192.0.2.10"),
		allocate("s4 shares with s3 (same key, other port)", svc("ns/s4", share("k"), ports("TCP/443"))).gets("p", "192.0.2.10"),
		allocate("s5 same key, same port: next IP", svc("ns/s5", k80...)).gets("p", "192.0.2.11"),
		assign("s6 port conflict with s3", svc("ns/s6", k80...), "192.0.2.10").
			fails(PortConflict, "port TCP/80 on IP 192.0.2.10 is already used by ns/s3"),
		assign("s6 other key", svc("ns/s6", share("other"), ports("TCP/8080")), "192.0.2.10").
			fails(IPInUse, `used by ns/s3, ns/s4, which do not share it (allow-shared-ip differs: "other" here, "k" there)`),
		assign("s6 without a key", svc("ns/s6", ports("TCP/8080")), "192.0.2.10").
			fails(IPInUse, "ns/s6 has no allow-shared-ip key"),
		assign("s6 Local backend vs Cluster", svc("ns/s6", share("k"), backend("app=x"), ports("TCP/8080")), "192.0.2.10").
			fails(IPInUse, `backends differ: externalTrafficPolicy Local with selector "app=x" here, externalTrafficPolicy Cluster there`),
		assign("s6 UDP/80 coexists with TCP/80", svc("ns/s6", share("k"), ports("UDP/80")), "192.0.2.10").gets("p", "192.0.2.10"),
		statsIs("p", CountOf(8), Count{}, 4, 0),
		release("s1 leaves", "ns/s1"),
		allocate("s7 gets s1's freed low IP", svc("ns/s7")).gets("p", "192.0.2.8"),
		assign("s3 cannot change its key while sharing", svc("ns/s3", share("z"), ports("TCP/80")), "192.0.2.10").
			fails(IPInUse, "ns/s4, ns/s6"),
		holds("ns/s3", "p", "192.0.2.10"),
		assign("s7, sole owner, takes a key", svc("ns/s7", share("new")), "192.0.2.8").gets("p", "192.0.2.8"),
		allocate("s8 with key new shares s7's IP", svc("ns/s8", share("new"), ports("TCP/1"))).gets("p", "192.0.2.8"),
		allocate("s9 with key k and TCP/80 after s5's", svc("ns/s9", k80...)).gets("p", "192.0.2.12"),
		allocate("s10 with key k, UDP/53, lowest shareable", svc("ns/s10", share("k"), ports("UDP/53"))).gets("p", "192.0.2.10"),
		release("s3 leaves; its IP stays with s4, s6, s10", "ns/s3"),
		allocate("s11 with key k and TCP/80 fits .10 again", svc("ns/s11", k80...)).gets("p", "192.0.2.10"),
		statsIs("p", CountOf(8), Count{}, 5, 0),
		assign("moving s11 is atomic: conflict keeps the old IP", svc("ns/s11", share("k"), ports("TCP/1")), "192.0.2.8").
			fails(IPInUse, "ns/s7, ns/s8"),
		holds("ns/s11", "p", "192.0.2.10"),
		assign("moving s11 to a free IP frees nothing shared", svc("ns/s11", k80...), "192.0.2.15").gets("p", "192.0.2.15"),
		holds("ns/s4", "p", "192.0.2.10"),
		release("s5", "ns/s5"),
		release("s9", "ns/s9"),
		allocate("s11 moved away: TCP/80 on .10 is free again", svc("ns/s12", k80...)).gets("p", "192.0.2.10"),
		allocate("s13 without key takes the freed .11", svc("ns/s13")).gets("p", "192.0.2.11"),
		allocate("s14 with key k and TCP/80 takes the freed .12", svc("ns/s14", k80...)).gets("p", "192.0.2.12"),
	})
}

func TestExhaustion(t *testing.T) {
	a := newWith(t, pool("small", []string{"192.0.2.0/31"}))
	runScript(t, a, []step{
		allocate("s1", svc("ns/s1")).gets("small", "192.0.2.0"),
		allocate("s2", svc("ns/s2")).gets("small", "192.0.2.1"),
		allocate("s3 finds nothing", svc("ns/s3")).fails(PoolExhausted, "no available IPv4 address for ns/s3 in pools small"),
		allocate("an IPv6 Service has no pool", svc("ns/s4", v6only)).fails(NoPoolMatches, "no IPv6 addresses for ns/s4 in pools small"),
		fromPool("explicit pool full", svc("ns/s3"), "small").fails(PoolExhausted, "pool small"),
		fromPool("unknown pool", svc("ns/s3"), "nope").fails(UnknownPool, `unknown pool "nope"`),
		assign("IP outside every pool", svc("ns/s3"), "198.51.100.1").fails(IPNotInAnyPool, "IP 198.51.100.1 is not in any address pool"),
		release("s1", "ns/s1"),
		allocate("s3 gets the freed IP", svc("ns/s3")).gets("small", "192.0.2.0"),
		allocate("s1 again: existing assignment confirmed", svc("ns/s3")).gets("small", "192.0.2.0"),
	})
}

func TestRequestChecks(t *testing.T) {
	a := newWith(t,
		pool("a", []string{"192.0.2.0/28", "2001:db8::/125"}),
		pool("b", []string{"192.0.2.16/28", "2001:db8:1::/125"}),
	)
	ds := dual(model.PreferDualStack, model.IPv4)
	runScript(t, a, []step{
		assign("three IPs", svc("ns/s", ds), "192.0.2.1", "2001:db8::1", "192.0.2.2").fails(TooManyIPs, "at most two"),
		assign("two IPv4", svc("ns/s", ds), "192.0.2.1", "192.0.2.2").fails(FamilyMismatch, "both IPv4"),
		assign("IPv6 for an IPv4 Service", svc("ns/s"), "2001:db8::1").fails(FamilyMismatch, "IP 2001:db8::1 is IPv6 but ns/s is single-stack IPv4"),
		assign("two IPs for a single-stack Service", svc("ns/s"), "192.0.2.1", "2001:db8::1").fails(FamilyMismatch, "single-stack"),
		assign("one IP for RequireDualStack", svc("ns/s", dual(model.RequireDualStack, model.IPv4)), "192.0.2.1").
			fails(FamilyMismatch, "RequireDualStack"),
		assign("dual SingleStack is not possible", svc("ns/s", dual(model.SingleStack, model.IPv4)), "192.0.2.1").
			fails(FamilyMismatch, "ipFamilyPolicy SingleStack"),
		assign("no IP", svc("ns/s")).fails(InvalidRequest, "no IP"),
		assign("IPs in different pools", svc("ns/s", ds), "192.0.2.1", "2001:db8:1::1").
			fails(IPsInDifferentPools, "IPs 192.0.2.1 and 2001:db8:1::1 are in different pools (a and b)"),
		assign("a v6-first request is stored IPv4 first", svc("ns/s", dual(model.RequireDualStack, model.IPv6)), "2001:db8::5", "192.0.2.5").
			gets("a", "192.0.2.5", "2001:db8::5"),
		assign("an IPv4-mapped address counts as IPv4", svc("ns/m"), "::ffff:192.0.2.20").gets("b", "192.0.2.20"),
		assign("a PreferDualStack Service may hold one IP", svc("ns/p", ds), "2001:db8:1::3").gets("b", "2001:db8:1::3"),
		allocate("a Service without family", model.Service{Key: "ns/x"}).fails(InvalidRequest, "no cluster IP family"),
		allocate("a Service without key", model.Service{Families: []model.Family{model.IPv4}}).fails(InvalidRequest, "no key"),
	})
}

func TestPoolSelection(t *testing.T) {
	a := newWith(t,
		pool("zz-general", []string{"192.0.2.0/30"}),
		pool("aa-general", []string{"192.0.2.4/30"}),
		pool("manual", []string{"192.0.2.8/30"}, manual),
		pool("prio2", []string{"192.0.2.12/30"}, priority(2)),
		pool("prio1-team", []string{"192.0.2.16/30"}, priority(1), namespaces("team")),
		pool("sel", []string{"192.0.2.20/30"}, selector("tier", "gold")),
		pool("sel-prio5", []string{"192.0.2.24/30"}, selector("tier", "gold"), priority(5)),
		pool("b-nopri-team", []string{"192.0.2.28/30"}, namespaces("team")),
		pool("a-nopri-team", []string{"192.0.2.32/30"}, namespaces("team")),
		pool("empty-ns", []string{"192.0.2.36/30"}, namespaces()),
		pool("manual-team", []string{"192.0.2.40/30"}, manual, namespaces("team")),
	)
	runScript(t, a, []step{
		allocate("priority-only pool is pinned for everyone", svc("other/s1")).gets("prio2", "192.0.2.12"),
		allocate("team: priority 1 beats priority 2", svc("team/s1")).gets("prio1-team", "192.0.2.16"),
		allocate("gold: priority 2 beats 5, selector without priority after", svc("other/g1", labels("tier", "gold"))).gets("prio2", "192.0.2.13"),
		fromPool("explicit manual pool works without autoAssign", svc("other/m1"), "manual").gets("manual", "192.0.2.8"),
		fromPool("explicit pool still enforces namespaces", svc("other/m2"), "manual-team").
			fails(PoolNotAllowed, `pool manual-team does not admit other/m2: namespace "other" is not among`),
		fromPool("explicit pool enforces selectors", svc("other/m2"), "sel").
			fails(PoolNotAllowed, "match none of the pool's serviceAllocation serviceSelectors"),
		assign("requested IP in a restricted pool", svc("other/m2"), "192.0.2.17").fails(PoolNotAllowed, "pool prio1-team does not admit other/m2"),
		assign("namespace selected by a resolved empty set admits nobody", svc("team/x"), "192.0.2.37").fails(PoolNotAllowed, "empty-ns"),
		fromPool("explicit request for a restricted pool from the right namespace", svc("team/m3"), "manual-team").gets("manual-team", "192.0.2.40"),
		// Fill prio2 (4 addresses: .12 .13 taken).
		allocate("fill prio2", svc("other/s2")).gets("prio2", "192.0.2.14"),
		allocate("fill prio2", svc("other/s3")).gets("prio2", "192.0.2.15"),
		allocate("prio2 full: gold goes to priority 5", svc("other/g2", labels("tier", "gold"))).gets("sel-prio5", "192.0.2.24"),
		allocate("prio2 full: team goes to prio1", svc("team/s2")).gets("prio1-team", "192.0.2.17"),
		allocate("prio2 full: others fall back to general pools, by name", svc("other/s4")).gets("aa-general", "192.0.2.4"),
		allocate("fill prio1", svc("team/s3")).gets("prio1-team", "192.0.2.18"),
		allocate("fill prio1", svc("team/s4")).gets("prio1-team", "192.0.2.19"),
		allocate("no-priority team pools tie: name order", svc("team/s5")).gets("a-nopri-team", "192.0.2.32"),
	})
}

func TestPinnedBeforeGeneralEvenIfLater(t *testing.T) {
	a := newWith(t,
		pool("a", []string{"192.0.2.0/32"}),
		pool("z-pinned", []string{"192.0.2.9/32"}, namespaces("ns")),
	)
	runScript(t, a, []step{
		allocate("pinned pool first", svc("ns/s1")).gets("z-pinned", "192.0.2.9"),
		allocate("pinned exhausted: general", svc("ns/s2")).gets("a", "192.0.2.0"),
		allocate("all exhausted", svc("ns/s3")).fails(PoolExhausted, "pools z-pinned, a"),
		allocate("other namespace: general only", svc("x/s3")).fails(PoolExhausted, "pools a"),
	})
	b := newWith(t, pool("off", []string{"192.0.2.0/30"}, manual), pool("ns-only", []string{"192.0.2.4/30"}, namespaces("ns")))
	runScript(t, b, []step{
		allocate("nothing for automatic assignment", svc("x/s")).
			fails(NoPoolMatches, "no address pool is available for automatic assignment to x/s (autoAssign is false for off; serviceAllocation does not select it in ns-only)"),
	})
	runScript(t, New(), []step{
		allocate("no pools at all", svc("x/s")).fails(NoPoolMatches, "no pools are configured"),
	})
}

func TestAvoidBuggyIPs(t *testing.T) {
	a := newWith(t,
		pool("b", []string{"192.0.2.254/31", "198.51.100.0/23"}, avoidBuggy),
		pool("tiny", []string{"192.0.2.0/32"}, avoidBuggy, manual),
		pool("plain", []string{"192.0.2.16/28"}, manual),
	)
	var steps []step
	steps = append(steps,
		statsIs("b", CountOf(1+2*254), Count{}, 0, 0),
		statsIs("tiny", Count{}, Count{}, 0, 0),
		allocate("the /31 only has .254", svc("ns/s0")).gets("b", "192.0.2.254"),
		allocate("then the /23 from .1", svc("ns/s1")).gets("b", "198.51.100.1"),
		assign(".0 is refused", svc("ns/x"), "198.51.100.0").fails(IPNotInAnyPool, "pool b has avoidBuggyIPs"),
		assign(".255 is refused", svc("ns/x"), "198.51.100.255").fails(IPNotInAnyPool, "avoidBuggyIPs"),
		assign(".255 of the /31 is refused", svc("ns/x"), "192.0.2.255").fails(IPNotInAnyPool, "avoidBuggyIPs"),
		assign("the second /24's .0 is refused", svc("ns/x"), "198.51.101.0").fails(IPNotInAnyPool, "avoidBuggyIPs"),
		fromPool("a pool of only .0 is empty", svc("ns/x"), "tiny").fails(NoPoolMatches, "no IPv4 addresses for ns/x in pool tiny"),
		assign(".0 of a pool without avoidBuggyIPs is fine", svc("ns/p0"), "192.0.2.16").gets("plain", "192.0.2.16"),
	)
	for i := 2; i <= 254; i++ {
		steps = append(steps, allocate("fill the first /24", svc("ns/f"+strconv.Itoa(i))).gets("b", "198.51.100."+strconv.Itoa(i)))
	}
	steps = append(steps,
		allocate("crossing the /24 skips .255 and .0", svc("ns/next")).gets("b", "198.51.101.1"),
		release("free .7", "ns/f7"),
		allocate("freed .7 comes first", svc("ns/again")).gets("b", "198.51.100.7"),
		statsIs("b", CountOf(509), Count{}, 256, 0),
	)
	runScript(t, a, steps)
}

func TestDualStack(t *testing.T) {
	a := newWith(t,
		pool("a-v4", []string{"192.0.2.0/31"}),
		pool("b-dual", []string{"2001:db8::/127", "192.0.2.8/31"}),
		pool("c-v6", []string{"2001:db8:6::/127"}),
	)
	runScript(t, a, []step{
		allocate("RequireDualStack: first pool with both, [v4, v6]", svc("ns/r1", dual(model.RequireDualStack, model.IPv6))).
			gets("b-dual", "192.0.2.8", "2001:db8::"),
		allocate("PreferDualStack: a pool with both wins over an earlier single-family pool", svc("ns/p1", dual(model.PreferDualStack, model.IPv4))).
			gets("b-dual", "192.0.2.9", "2001:db8::1"),
		allocate("RequireDualStack: dual pool exhausted", svc("ns/r2", dual(model.RequireDualStack, model.IPv4))).
			fails(PoolExhausted, "no pool has both a free IPv4 and a free IPv6 address for ns/r2"),
		allocate("PreferDualStack, primary v6: first pool with v6", svc("ns/p2", dual(model.PreferDualStack, model.IPv6))).
			gets("c-v6", "2001:db8:6::"),
		allocate("PreferDualStack, primary v4: first pool with v4", svc("ns/p3", dual(model.PreferDualStack, model.IPv4))).
			gets("a-v4", "192.0.2.0"),
		allocate("single-stack v6", svc("ns/v6", v6only)).gets("c-v6", "2001:db8:6::1"),
		allocate("PreferDualStack, primary v6, no v6 left: secondary", svc("ns/p4", dual(model.PreferDualStack, model.IPv6))).
			gets("a-v4", "192.0.2.1"),
		allocate("SingleStack with two families gets nothing", svc("ns/ss", dual(model.SingleStack, model.IPv4))).
			fails(FamilyMismatch, "ipFamilyPolicy SingleStack"),
		additional("p3 has v4 from a-v4, which has no v6", svc("ns/p3", dual(model.PreferDualStack, model.IPv4))).
			fails(NoPoolMatches, "no IPv6 addresses for ns/p3 in pool a-v4"),
		additional("additional needs an assignment", svc("ns/none", dual(model.PreferDualStack, model.IPv4))).fails(NotAssigned, "has no IP"),
		additional("additional needs PreferDualStack", svc("ns/v6", v6only)).fails(FamilyMismatch, "not a dual-stack PreferDualStack"),
		additional("p1 already has both", svc("ns/p1", dual(model.PreferDualStack, model.IPv4))).gets("b-dual", "192.0.2.9", "2001:db8::1"),
		release("r1 frees a v4 and a v6 of b-dual", "ns/r1"),
		assign("p5 holds one v6 of b-dual", svc("ns/p5", dual(model.PreferDualStack, model.IPv4)), "2001:db8::").gets("b-dual", "2001:db8::"),
		additional("p5 gets the v4 from the same pool", svc("ns/p5", dual(model.PreferDualStack, model.IPv4))).
			gets("b-dual", "192.0.2.8", "2001:db8::"),
		statsIs("b-dual", CountOf(2), CountOf(2), 2, 2),
		release("p1", "ns/p1"),
		allocate("RequireDualStack takes the pair freed by r1 and p1", svc("ns/r3", dual(model.RequireDualStack, model.IPv4), labels("x", "y"))).
			gets("b-dual", "192.0.2.9", "2001:db8::1"),
	})
	b := newWith(t, pool("v4", []string{"192.0.2.0/30"}), pool("v6", []string{"2001:db8::/126"}))
	runScript(t, b, []step{
		allocate("RequireDualStack without any dual pool", svc("ns/r", dual(model.RequireDualStack, model.IPv4))).
			fails(DualStackNotPossible, "no candidate pool has both IPv4 and IPv6"),
		fromPool("explicit single-family pool for RequireDualStack", svc("ns/r", dual(model.RequireDualStack, model.IPv4)), "v6").
			fails(DualStackNotPossible, "pool v6"),
		fromPool("explicit pool for PreferDualStack gives the family it has", svc("ns/p", dual(model.PreferDualStack, model.IPv4)), "v6").
			gets("v6", "2001:db8::"),
	})
}

func TestSetPools(t *testing.T) {
	a := newWith(t, pool("old", []string{"192.0.2.0/29", "2001:db8::/126"}), pool("keep", []string{"198.51.100.0/30"}))
	ds := dual(model.RequireDualStack, model.IPv4)
	runScript(t, a, []step{
		allocate("s1", svc("ns/s1")).gets("keep", "198.51.100.0"),
		fromPool("s2", svc("ns/s2"), "old").gets("old", "192.0.2.0"),
		fromPool("s3 takes .1", svc("ns/s3"), "old").gets("old", "192.0.2.1"),
		assign("s4 at .7", svc("ns/s4"), "192.0.2.7").gets("old", "192.0.2.7"),
		fromPool("d1 dual", svc("ns/d1", ds), "old").gets("old", "192.0.2.2", "2001:db8::"),
		setPools("rename old to new: assignments move",
			pool("new", []string{"192.0.2.0/29", "2001:db8::/126"}), pool("keep", []string{"198.51.100.0/30"})),
		holds("ns/s2", "new", "192.0.2.0"),
		holds("ns/d1", "new", "192.0.2.2", "2001:db8::"),
		statsIs("new", CountOf(8), CountOf(4), 4, 1),
		setPools("shrink to /30 and split the families",
			pool("new", []string{"192.0.2.0/30"}), pool("v6", []string{"2001:db8::/126"}), pool("keep", []string{"198.51.100.0/30"}, avoidBuggy)).
			invalid("ns/d1", "ns/s1", "ns/s4"),
		holds("ns/s4", "", "192.0.2.7"),
		holds("ns/s1", "", "198.51.100.0"),
		check("Invalid lists them", func(t *testing.T, a *Allocator) {
			if got := a.Invalid(); len(got) != 3 || got[0] != "ns/d1" {
				t.Errorf("Invalid() = %v", got)
			}
		}),
		statsIs("v6", Count{}, CountOf(4), 0, 1),
		statsIs("keep", CountOf(3), Count{}, 0, 0),
		allocate("an invalid assignment is re-checked, not silently kept", svc("ns/s4")).fails(IPNotInAnyPool, "192.0.2.7"),
		allocate("held IPs stay reserved: .2 is d1's", svc("ns/s5")).gets("keep", "198.51.100.1"),
		fromPool("new pool: .3 is the lowest free", svc("ns/s6"), "new").gets("new", "192.0.2.3"),
		assign("d1 cannot be re-learnt across pools", svc("ns/d1", ds), "192.0.2.2", "2001:db8::").fails(IPsInDifferentPools, "(new and v6)"),
		release("d1 released", "ns/d1"),
		check("released invalid leaves the list", func(t *testing.T, a *Allocator) {
			if got := a.Invalid(); len(got) != 2 {
				t.Errorf("Invalid() = %v", got)
			}
		}),
		setPools("restore the old layout: everyone valid again",
			pool("old", []string{"192.0.2.0/29", "2001:db8::/126"}), pool("keep", []string{"198.51.100.0/30"})),
		holds("ns/s4", "old", "192.0.2.7"),
		holds("ns/s1", "keep", "198.51.100.0"),
		allocate("s4 confirmed", svc("ns/s4")).gets("old", "192.0.2.7"),
		statsIs("old", CountOf(8), CountOf(4), 4, 0),
		fromPool("the space of a new CIDR knows the held IPs", svc("ns/s7"), "old").gets("old", "192.0.2.2"),
		setPools("all pools deleted: everything invalid").invalid("ns/s1", "ns/s2", "ns/s3", "ns/s4", "ns/s5", "ns/s6", "ns/s7"),
		allocate("no pools", svc("ns/s8")).fails(NoPoolMatches, "no pools are configured"),
	})
}

func TestSetPoolsOverlapAndRenameWithPreference(t *testing.T) {
	// CIDRs of different pools may nest; an IP then belongs to both, and
	// the allocator keeps an assignment in its current pool when possible.
	a := newWith(t, pool("outer", []string{"192.0.2.0/28"}, manual), pool("inner", []string{"192.0.2.4/30"}, manual))
	runScript(t, a, []step{
		fromPool("inner first IP", svc("ns/i1"), "inner").gets("inner", "192.0.2.4"),
		fromPool("outer skips the IP held in inner", svc("ns/o1"), "outer").gets("outer", "192.0.2.0"),
		fromPool("outer", svc("ns/o2"), "outer").gets("outer", "192.0.2.1"),
		fromPool("outer", svc("ns/o3"), "outer").gets("outer", "192.0.2.2"),
		fromPool("outer", svc("ns/o4"), "outer").gets("outer", "192.0.2.3"),
		fromPool("outer jumps over .4", svc("ns/o5"), "outer").gets("outer", "192.0.2.5"),
		fromPool("inner skips .5 held via outer", svc("ns/i2"), "inner").gets("inner", "192.0.2.6"),
		assign("a request inside both goes to the first by name", svc("ns/x"), "192.0.2.7").gets("inner", "192.0.2.7"),
		assign("re-learning keeps the current pool", svc("ns/o5"), "192.0.2.5").gets("outer", "192.0.2.5"),
		statsIs("inner", CountOf(4), Count{}, 4, 0),
		statsIs("outer", CountOf(16), Count{}, 8, 0),
		setPools("drop inner: its Services move to outer", pool("outer", []string{"192.0.2.0/28"}, manual)),
		holds("ns/i1", "outer", "192.0.2.4"),
		statsIs("outer", CountOf(16), Count{}, 8, 0),
		fromPool("outer continues after the held IPs", svc("ns/o6"), "outer").gets("outer", "192.0.2.8"),
	})
}

package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// BGP routers (AddRouter). A router is a namespace on the LAN (.1/::1 by
// default; pick .2, .3... for more) running one BGP implementation, with
// static neighbours (normally one per node), optionally a client behind
// it, or a transit host between it and the LAN:
//
//	<prefix>-frr-out  eth0 192.0.2.2 / 2001:db8:3::2, default via the router
//	      |  link 0: 192.0.2.0/30, 2001:db8:3::/64 (nodes route it via .1)
//	<prefix>-frr      eth1 .1 ; eth0 198.51.100.1 / 2001:db8:1::1 on the LAN
//	      |
//	=========== LAN (br0) === node1 .11 === node2 .12 === transit .5 ====
//	                                                          | link 3
//	                                      <prefix>-frrmh  eth0 192.0.2.14
//
// Links are handed out in order from 192.0.2.0/28 (the part of PodsV4 no
// node uses; MaxLinks of them) and 2001:db8:3::/48. Although that is
// inside kube-proxy's --cluster-cidr, kube-proxy still masquerades the
// outside client's traffic to a LoadBalancer Service whose backend is on
// another node (TestRouterSecondLab).
//
// What each kind does here:
//
//	                      FRR 8.4          BIRD 2.0        gobgpd 3.10
//	routes into kernel    yes (zebra)      yes (kernel)    SyncFIB, on demand
//	ECMP                  maximum-paths    merge paths     use-multiple-paths
//	BFD                   yes (bfdd)       yes (one timer  no
//	                                       set for all)
//	MD5, multihop, IPv6,  yes              yes             yes
//	graceful restart
//	Established counter   yes              no (-1)         OPENs received
//
// FRR 8.4 re-creates a neighbour's BFD session once the BGP session is up
// (it learns its local address then); a peer following RFC 5880 sees its
// BFD session go down and may reset BGP once: with BFD, expect a second
// establishment right after the first. A router on the LAN has no default
// route: its outside client reaches what it learnt by BGP, and the LAN.

// RouterKind names a BGP implementation the lab runs as a router.
type RouterKind string

const (
	// FRR runs zebra (which installs the BGP routes into the router's
	// kernel), bfdd and bgpd from /usr/lib/frr, as user frr.
	FRR RouterKind = "frr"
	// BIRD runs BIRD 2 with a kernel protocol exporting its BGP routes
	// (merged into multipath routes with ECMP on).
	BIRD RouterKind = "bird"
	// GoBGP runs gobgpd (3.x, as Debian ships it). Nothing installs its
	// routes into the kernel unless the test calls SyncFIB; it has no BFD.
	GoBGP RouterKind = "gobgp"
)

// RouterPackages are the Debian packages AddRouter needs on top of
// Packages: FRR 8.4 (vtysh, zebra, bgpd, bfdd), BIRD 2 (bird, birdc) and
// GoBGP 3 (gobgpd, gobgp).
var RouterPackages = []string{"frr", "bird2", "gobgpd"}

// RouterOptions describes a router for AddRouter.
type RouterOptions struct {
	Kind RouterKind
	// Name is the router's host name (its namespace is <prefix>-<Name>);
	// empty means the kind's name ("frr", "bird", "gobgp").
	Name string
	// ASN is the router's AS number (required).
	ASN uint32
	// RouterID defaults to the router's IPv4 address (its link address
	// behind a transit).
	RouterID netip.Addr
	// IPv4 and IPv6 are the router's LAN addresses (or, with Transit, the
	// transit's); the zero values mean RouterIPv4 and RouterIPv6 (.1 and
	// ::1). Pick other free LAN addresses (.2, .3...) for more routers.
	IPv4, IPv6 netip.Addr
	// Neighbors are the router's BGP neighbours, typically one per node
	// (see NodeNeighbors).
	Neighbors []Neighbor
	// SingleBest turns ECMP off: the router then uses one path per
	// prefix. By default it uses up to 16 equal paths (FRR maximum-paths,
	// BIRD merge paths, gobgpd use-multiple-paths).
	SingleBest bool
	// Outside adds the client behind the router: a namespace
	// "<Name>-out" on a link of its own (LinkPrefixV4/V6), with default
	// routes through the router, so its traffic to a load-balancer IP
	// follows the router's BGP routes. Every node gets a route to that
	// link through the router. Not with Transit.
	Outside bool
	// Transit, when set, names a plain forwarding host put between the
	// router and the LAN: the transit takes the LAN addresses IPv4/IPv6,
	// the router sits on a link behind it with a default route through
	// it, and every node routes that link through the transit. Sessions
	// with the nodes then need Neighbor.Multihop (2 or more), on both
	// sides. The transit has no route to the pools: traffic through it
	// is not forwarded to the nodes.
	Transit string
}

// Neighbor is one BGP neighbour of a router.
type Neighbor struct {
	Address netip.Addr
	ASN     uint32
	// Password turns TCP MD5 signatures on (no spaces or quotes).
	Password string
	// Multihop is the eBGP multihop TTL; 0 means directly connected.
	Multihop int
	// Passive makes the router wait for the neighbour to connect; by
	// default it connects too (retrying every few seconds).
	Passive bool
	// BFD, when set, ties the session to a BFD session (FRR and BIRD;
	// BIRD applies the first neighbour's timers to all).
	BFD *BFDOptions
	// GracefulRestart announces the graceful restart capability in
	// restarting mode (FRR and gobgpd; BIRD: graceful restart on).
	GracefulRestart bool
	// HoldTime is the proposed hold time (keepalive a third of it), in
	// whole seconds, at least 3 s; 0 keeps the implementation's default.
	HoldTime time.Duration
	// Families are the address families of the session; nil means the
	// family of Address.
	Families []model.Family
}

// BFDOptions are the BFD timers of a session; zero values mean 300 ms,
// 300 ms and 3.
type BFDOptions struct {
	RxInterval, TxInterval time.Duration
	Multiplier             int
	// EchoInterval, when set, runs FRR's echo mode at this interval both
	// ways (echo-mode, echo transmit-interval, echo receive-interval).
	// FRR only.
	EchoInterval time.Duration
}

// NodeNeighbors returns one Neighbor per node of the lab, copied from
// template with the node's address of the given family.
func (l *Lab) NodeNeighbors(family model.Family, template Neighbor) []Neighbor {
	var out []Neighbor
	for _, n := range l.Nodes {
		nb := template
		nb.Address = n.IPv4
		if family == model.IPv6 {
			nb.Address = n.IPv6
		}
		nb.Families = slices.Clone(template.Families)
		out = append(out, nb)
	}
	return out
}

// Router is a BGP router of the lab: daemons of one kind in their own
// namespace.
type Router struct {
	Name     string
	Kind     RouterKind
	ASN      uint32
	RouterID netip.Addr
	// Host is the router's namespace. Its IPv4/IPv6 are the addresses the
	// nodes peer with: LAN addresses, or link addresses behind a transit.
	// Lab.Exec, Ping and CurlFrom take its name.
	Host *Host
	// Outside is the client behind the router (Options.Outside), nil
	// otherwise. Lab.Exec, Ping and CurlFrom take its name; it is not on
	// the LAN (LinkDown does not apply).
	Outside *Host
	// Transit is the forwarding host between the router and the LAN
	// (Options.Transit), nil otherwise.
	Transit *Host
	// Dir holds the configuration, sockets and pid files.
	Dir string
	// Peers are the neighbours as configured (Neighbors tells their state).
	Peers []Neighbor

	l    *Lab
	impl routerImpl
	opts RouterOptions

	mu    sync.Mutex // serializes Start, Stop and Kill
	procs []*Proc    // the current daemons, in start order
}

// routerImpl is what differs between kinds.
type routerImpl interface {
	// tools lists the programs the kind needs.
	tools() []string
	// check rejects options the kind cannot honour.
	check(o RouterOptions) error
	// configure writes the configuration into r.Dir.
	configure(r *Router) error
	// daemons lists the processes to start, in order.
	daemons(r *Router) []daemon
	// ready returns nil once the daemons answer queries.
	ready(ctx context.Context, r *Router) error
	routes(ctx context.Context, r *Router, f model.Family) ([]Route, error)
	neighbors(ctx context.Context, r *Router) ([]NeighborStatus, error)
	bfdPeers(ctx context.Context, r *Router) ([]BFDPeer, error)
}

// daemon is a process of a router.
type daemon struct {
	name string // "bgpd": the log is <Dir>/logs/<router>-bgpd.log
	bin  string
	args []string
	// sockets are files the daemon creates once it is up: removed before
	// it starts, waited for before the next daemon starts.
	sockets []string
}

func implFor(k RouterKind) (routerImpl, error) {
	switch k {
	case FRR:
		return frrImpl{}, nil
	case BIRD:
		return birdImpl{}, nil
	case GoBGP:
		return gobgpImpl{}, nil
	}
	return nil, fmt.Errorf("lab: unknown router kind %q (want %s, %s or %s)", k, FRR, BIRD, GoBGP)
}

// routerStartTimeout bounds Start (and AddRouter's start).
const routerStartTimeout = 20 * time.Second

// routerSet holds a lab's routers (the Lab type has no field for them).
type routerSet struct {
	mu     sync.Mutex // held through AddRouter
	byName map[string]*Router
	links  int // links handed out (LinkPrefixV4)
}

var labRouters sync.Map // *Lab -> *routerSet

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

func (l *Lab) routers() *routerSet {
	v, loaded := labRouters.LoadOrStore(l, &routerSet{byName: map[string]*Router{}})
	if !loaded {
		l.addCloser(closerFunc(func() error { labRouters.Delete(l); return nil }))
	}
	return v.(*routerSet)
}

// Router returns a router AddRouter made, by name.
func (l *Lab) Router(name string) (*Router, error) {
	v, ok := labRouters.Load(l)
	if !ok {
		return nil, fmt.Errorf("lab: no router %q", name)
	}
	rs := v.(*routerSet)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r, ok := rs.byName[name]
	if !ok {
		return nil, fmt.Errorf("lab: no router %q", name)
	}
	return r, nil
}

// AddRouter adds a BGP router to the lab and starts it: its namespace on
// the LAN (or behind a transit host), its outside client if asked, its
// configuration in <Dir>/routers/<name>, and its daemons (tracked by the
// lab: Close ends them by PID). It returns once the daemons answer
// queries, not once sessions are up (see WaitEstablished); starting is
// bounded by 20 s. If it fails after making the namespaces, they (and the
// names) stay until Close, and Router still returns the router, with its
// daemons' logs in Procs.
func (l *Lab) AddRouter(ctx context.Context, o RouterOptions) (*Router, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	impl, err := implFor(o.Kind)
	if err != nil {
		return nil, err
	}
	if err := impl.check(o); err != nil {
		return nil, err
	}
	var missing []string
	for _, t := range impl.tools() {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("lab: %s router: missing %s; install with: apt-get install -y %s",
			o.Kind, strings.Join(missing, ", "), strings.Join(RouterPackages, " "))
	}
	killStaleRouterDaemons()

	rs := l.routers()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if err := l.checkRouterNames(o); err != nil {
		return nil, err
	}
	r := &Router{
		Name: o.Name, Kind: o.Kind, ASN: o.ASN, RouterID: o.RouterID,
		Dir: filepath.Join(l.Dir, "routers", o.Name), Peers: o.Neighbors,
		l: l, impl: impl, opts: o,
	}
	if err := l.plumbRouter(ctx, rs, r); err != nil {
		return nil, err
	}
	if !r.RouterID.IsValid() {
		r.RouterID = r.Host.IPv4
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := impl.configure(r); err != nil {
		return nil, err
	}
	rs.byName[o.Name] = r
	if err := r.Start(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// withDefaults validates o and fills its defaults.
func (o RouterOptions) withDefaults() (RouterOptions, error) {
	if o.Name == "" {
		o.Name = string(o.Kind)
	}
	if o.ASN == 0 {
		return o, fmt.Errorf("lab: router %s: no ASN", o.Name)
	}
	if !o.IPv4.IsValid() {
		o.IPv4 = RouterIPv4
	}
	if !o.IPv6.IsValid() {
		o.IPv6 = RouterIPv6
	}
	if !o.IPv4.Is4() || !LANv4.Contains(o.IPv4) || !o.IPv6.Is6() || !LANv6.Contains(o.IPv6) {
		return o, fmt.Errorf("lab: router %s: %v and %v must be inside %v and %v", o.Name, o.IPv4, o.IPv6, LANv4, LANv6)
	}
	if o.Outside && o.Transit != "" {
		return o, fmt.Errorf("lab: router %s: an outside client needs a router on the LAN, not behind transit %s", o.Name, o.Transit)
	}
	if o.Outside && len(o.Name) > 11 {
		return o, fmt.Errorf("lab: router %s: with an outside client (%s-out) the name must be at most 11 characters", o.Name, o.Name)
	}
	o.Neighbors = slices.Clone(o.Neighbors)
	seen := map[netip.Addr]bool{}
	for i := range o.Neighbors {
		n := &o.Neighbors[i]
		if !n.Address.IsValid() || n.ASN == 0 {
			return o, fmt.Errorf("lab: router %s: neighbour %d needs an address and an ASN", o.Name, i)
		}
		if seen[n.Address] {
			return o, fmt.Errorf("lab: router %s: neighbour %v twice", o.Name, n.Address)
		}
		seen[n.Address] = true
		if strings.ContainsAny(n.Password, " \t\n\"'\\") {
			return o, fmt.Errorf("lab: router %s: neighbour %v: password with spaces or quotes", o.Name, n.Address)
		}
		if n.HoldTime != 0 && (n.HoldTime < 3*time.Second || n.HoldTime%time.Second != 0) {
			return o, fmt.Errorf("lab: router %s: neighbour %v: hold time %v, want whole seconds, at least 3", o.Name, n.Address, n.HoldTime)
		}
		if n.Multihop < 0 || n.Multihop > 255 {
			return o, fmt.Errorf("lab: router %s: neighbour %v: multihop TTL %d", o.Name, n.Address, n.Multihop)
		}
		if len(n.Families) == 0 {
			n.Families = []model.Family{model.FamilyOf(n.Address)}
		}
		for _, f := range n.Families {
			if f != model.IPv4 && f != model.IPv6 {
				return o, fmt.Errorf("lab: router %s: neighbour %v: family %v", o.Name, n.Address, f)
			}
		}
		if n.BFD != nil {
			b := *n.BFD
			if b.RxInterval == 0 {
				b.RxInterval = 300 * time.Millisecond
			}
			if b.TxInterval == 0 {
				b.TxInterval = 300 * time.Millisecond
			}
			if b.Multiplier == 0 {
				b.Multiplier = 3
			}
			if b.RxInterval < 10*time.Millisecond || b.TxInterval < 10*time.Millisecond || b.Multiplier < 2 || b.Multiplier > 255 {
				return o, fmt.Errorf("lab: router %s: neighbour %v: BFD timers %+v", o.Name, n.Address, b)
			}
			n.BFD = &b
		}
	}
	if !o.RouterID.IsValid() && o.Transit == "" {
		o.RouterID = o.IPv4 // behind a transit: the link address, once known
	}
	if o.RouterID.IsValid() && !o.RouterID.Is4() {
		return o, fmt.Errorf("lab: router %s: router ID %v is not an IPv4 address", o.Name, o.RouterID)
	}
	return o, nil
}

// maxPaths is the ECMP width the router is configured with.
func (r *Router) maxPaths() int {
	if r.opts.SingleBest {
		return 1
	}
	return 16
}

// families lists the address families of any neighbour, IPv4 first.
func (r *Router) families() []model.Family {
	var out []model.Family
	for _, f := range []model.Family{model.IPv4, model.IPv6} {
		for _, n := range r.Peers {
			if slices.Contains(n.Families, f) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

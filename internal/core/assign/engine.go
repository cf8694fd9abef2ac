package assign

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ferrolb/ferrolb/internal/core/ipam"
	"github.com/ferrolb/ferrolb/internal/core/model"
)

// Engine owns the allocator and the pool configuration and turns Services
// into Outcomes. It is safe for concurrent use; every method holds the lock
// only for in-memory work.
type Engine struct {
	lbClass string

	mu      sync.Mutex
	alloc   *ipam.Allocator
	pools   map[string]*model.Pool
	loaded  bool
	pending map[string]bool // LoadBalancer Services that hold no address
}

// NewEngine returns an engine that handles Services whose
// spec.loadBalancerClass equals lbClass (nil class when lbClass is "").
func NewEngine(lbClass string) *Engine {
	return &Engine{lbClass: lbClass, alloc: ipam.New(), pending: map[string]bool{}}
}

// Handles reports whether the Service's class is ours.
func (e *Engine) Handles(s *Service) bool {
	if e.lbClass == "" {
		return s.LoadBalancerClass == nil
	}
	return s.LoadBalancerClass != nil && *s.LoadBalancerClass == e.lbClass
}

// Loaded reports whether a configuration has been loaded.
func (e *Engine) Loaded() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.loaded
}

// Load installs the first configuration and re-learns the assignments that
// existing Services already hold, before anything new is allocated, so a
// restart never hands out an address twice. Services with more addresses
// are re-learned first.
func (e *Engine) Load(pools []*model.Pool, existing []*Service) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setPoolsLocked(pools)
	ordered := slices.Clone(existing)
	sort.SliceStable(ordered, func(i, j int) bool {
		if len(ordered[i].Ingress) != len(ordered[j].Ingress) {
			return len(ordered[i].Ingress) > len(ordered[j].Ingress)
		}
		return ordered[i].Key() < ordered[j].Key()
	})
	for _, s := range ordered {
		if !e.Handles(s) || s.Type != "LoadBalancer" || len(s.Ingress) == 0 {
			continue
		}
		ips, err := ingressIPs(s)
		if err != nil {
			continue
		}
		fams, err := families(s)
		if err != nil {
			continue
		}
		req, _ := parseRequest(s)
		ms := modelService(s, fams, req.sharingKey)
		// A failure here is settled by the Service's own converge.
		_, _ = e.alloc.Assign(ms, ips)
	}
	e.loaded = true
}

// SetPools replaces the pool configuration. Assignments stay as they are
// until each Service is converged again; those no longer covered by a pool
// then move.
func (e *Engine) SetPools(pools []*model.Pool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setPoolsLocked(pools)
}

func (e *Engine) setPoolsLocked(pools []*model.Pool) {
	e.pools = make(map[string]*model.Pool, len(pools))
	for _, p := range pools {
		e.pools[p.Name] = p
	}
	e.alloc.SetPools(pools)
}

// Pending returns the keys of LoadBalancer Services that hold no address,
// sorted.
func (e *Engine) Pending() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	keys := make([]string, 0, len(e.pending))
	for k := range e.pending {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Forget releases whatever the Service with this key holds (it was
// deleted). It reports whether addresses were released.
func (e *Engine) Forget(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.pending, key)
	return e.releaseLocked(key)
}

// Usage returns the statistics of every pool.
func (e *Engine) Usage() []ipam.PoolStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.alloc.AllPoolStats()
}

func (e *Engine) releaseLocked(key string) bool {
	return e.alloc.Release(key)
}

// Converge decides the addresses of one Service.
func (e *Engine) Converge(s *Service) Outcome {
	if !e.Handles(s) {
		return Outcome{Ignore: true}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.loaded {
		return Outcome{Ignore: true}
	}
	out := e.convergeLocked(s)
	if s.Type == "LoadBalancer" && len(out.IPs) == 0 {
		e.pending[s.Key()] = true
	} else {
		delete(e.pending, s.Key())
	}
	return out
}

func (e *Engine) convergeLocked(s *Service) Outcome {
	key := s.Key()
	if s.Type != "LoadBalancer" {
		return Outcome{Released: e.releaseLocked(key)}
	}
	fail := func(reason, msg string, events ...Event) Outcome {
		return Outcome{
			Released:  e.releaseLocked(key),
			Condition: &Condition{Reason: reason, Message: msg},
			Events:    events,
		}
	}
	fams, err := families(s)
	if err != nil || len(fams) == 0 {
		return fail(ReasonNoClusterIP, "the Service has no cluster IP yet, so its address family is unknown")
	}
	if policy(s) == model.RequireDualStack && len(fams) < 2 {
		msg := "ipFamilyPolicy is RequireDualStack but the Service has cluster IPs of one family only"
		return fail(ReasonNotEnoughClusterIPs, msg, Event{Warning: true, Reason: EventNotEnoughClusterIPs, Message: msg})
	}
	if len(e.pools) == 0 {
		return fail(ReasonNoPoolsConfigured, "no IPAddressPool is configured")
	}
	req, err := parseRequest(s)
	ms := modelService(s, fams, req.sharingKey)
	if err != nil {
		// Keep what the Service holds: a malformed edit never takes an
		// address away.
		ev := Event{Warning: true, Reason: EventLoadBalancerFailed, Message: err.Error()}
		out := Outcome{Events: []Event{ev}}
		if pool, ips, ok := e.alloc.Lookup(key); ok {
			out.IPs, out.Pool = ips, pool
			out.Condition = &Condition{Reason: ReasonInvalidRequest,
				Message: err.Error() + "; keeping " + joinIPs(ips)}
		} else {
			out.Condition = &Condition{Reason: ReasonInvalidRequest, Message: err.Error()}
		}
		return out
	}

	var events []Event
	released := false
	if cur := e.current(s); len(cur) > 0 {
		pool, err := e.keep(ms, req, cur)
		if err == nil {
			ips := cur
			if policy(s) == model.PreferDualStack && len(fams) == 2 && len(ips) == 1 && len(req.ips) == 0 {
				extra, err := e.alloc.AllocateAdditional(ms)
				if err == nil && len(extra) > len(ips) {
					ips = extra
					events = append(events, Event{Reason: EventIPAllocated,
						Message: fmt.Sprintf("Assigned additional IP %s", quoteIPs(extra))})
				} else if err != nil {
					events = append(events, Event{Reason: EventAdditionalAssignFailed,
						Message: fmt.Sprintf("Failed to assign an additional IP of the other family from pool %q: %s", pool, err)})
				}
			}
			return Outcome{IPs: ips, Pool: pool, Events: events, Condition: assigned(pool, ips)}
		}
		if !errors.Is(err, errMoved) {
			events = append(events, Event{Reason: EventClearAssignment,
				Message: fmt.Sprintf("current IP for %q not allowed by config, will attempt for new IP assignment: %s", key, err)})
		}
		released = e.releaseLocked(key)
	}

	pool, ips, err := e.allocate(ms, req)
	if err != nil {
		msg := fmt.Sprintf("Failed to allocate IP for %q: %s", key, err)
		events = append(events, Event{Warning: true, Reason: EventAllocationFailed, Message: msg})
		return Outcome{Released: e.releaseLocked(key) || released, Events: events,
			Condition: &Condition{Reason: reasonOf(err), Message: err.Error()}}
	}
	events = append(events, Event{Reason: EventIPAllocated, Message: fmt.Sprintf("Assigned IP %s", quoteIPs(ips))})
	return Outcome{IPs: ips, Pool: pool, Events: events, Released: released, Condition: assigned(pool, ips)}
}

// errMoved marks an assignment given up because the Service asks for
// something else now (another pool, other IPs): not a configuration error.
var errMoved = errors.New("the Service asks for other addresses")

// current returns the addresses the Service holds: the allocator's record
// (authoritative: the cache may lag behind our own writes), else its status.
func (e *Engine) current(s *Service) []netip.Addr {
	if _, ips, ok := e.alloc.Lookup(s.Key()); ok {
		return ips
	}
	ips, err := ingressIPs(s)
	if err != nil {
		return nil
	}
	return ips
}

// keep re-claims the current addresses if they still fit the request, the
// Service's families and the configuration.
func (e *Engine) keep(ms model.Service, req request, cur []netip.Addr) (string, error) {
	for _, ip := range cur {
		if !slices.Contains(ms.Families, model.FamilyOf(ip)) {
			return "", fmt.Errorf("%w: %s does not match the Service's IP families", errMoved, ip)
		}
	}
	if len(req.ips) > 0 && !sameIPs(req.ips, cur) {
		return "", errMoved
	}
	if req.pool != "" {
		if p := e.poolOf(cur[0]); p != req.pool {
			return "", errMoved
		}
	}
	return e.alloc.Assign(ms, cur)
}

func (e *Engine) allocate(ms model.Service, req request) (string, []netip.Addr, error) {
	switch {
	case len(req.ips) > 0:
		for _, ip := range req.ips {
			if !slices.Contains(ms.Families, model.FamilyOf(ip)) {
				return "", nil, fmt.Errorf("requested IP %s does not match the Service's IP families", ip)
			}
		}
		pool, err := e.alloc.Assign(ms, req.ips)
		if err != nil {
			return "", nil, err
		}
		if req.pool != "" && pool != req.pool {
			e.alloc.Release(ms.Key)
			return "", nil, fmt.Errorf("requested IPs belong to pool %q, not to the requested pool %q", pool, req.pool)
		}
		ips := slices.Clone(req.ips)
		sort.Slice(ips, func(i, j int) bool { return ips[i].Less(ips[j]) })
		return pool, ips, nil
	case req.pool != "":
		ips, err := e.alloc.AllocateFromPool(ms, req.pool)
		return req.pool, ips, err
	default:
		return e.alloc.Allocate(ms)
	}
}

func (e *Engine) poolOf(ip netip.Addr) string {
	for name, p := range e.pools {
		if p.Contains(ip) {
			return name
		}
	}
	return ""
}

func modelService(s *Service, fams []model.Family, sharingKey string) model.Service {
	return model.Service{
		Key:        s.Key(),
		Namespace:  s.Namespace,
		Labels:     s.Labels,
		Families:   fams,
		Policy:     policy(s),
		SharingKey: sharingKey,
		BackendKey: backendKey(s),
		Ports:      s.Ports,
	}
}

func assigned(pool string, ips []netip.Addr) *Condition {
	return &Condition{Status: true, Reason: ReasonAssigned,
		Message: fmt.Sprintf("assigned %s from IPAddressPool %q", joinIPs(ips), pool)}
}

func reasonOf(err error) string {
	if r := ipam.ReasonOf(err); r != "" {
		return string(r)
	}
	return ReasonInvalidRequest
}

func sameIPs(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func joinIPs(ips []netip.Addr) string {
	parts := make([]string, len(ips))
	for i, ip := range ips {
		parts[i] = ip.String()
	}
	return strings.Join(parts, ", ")
}

func quoteIPs(ips []netip.Addr) string {
	parts := make([]string, len(ips))
	for i, ip := range ips {
		parts[i] = fmt.Sprintf("%q", ip.String())
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// DeprecatedAnnotations lists the Service's metallb.universe.tf/
// annotations, sorted; the adapter warns about them when it writes.
func DeprecatedAnnotations(s *Service) []string {
	var keys []string
	for k := range s.Annotations {
		if strings.HasPrefix(k, DeprecatedPrefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

package ipam

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/google/go-cmp/cmp"
)

type opKind int

const (
	opAlloc opKind = iota
	opFromPool
	opAssign
	opAdditional
	opRelease
	opSetPools
	opCheck
)

// step is one line of a script: an operation and what it must return.
type step struct {
	desc  string
	op    opKind
	svc   model.Service
	pool  string
	ips   []string
	pools []*model.Pool
	fn    func(t *testing.T, a *Allocator)

	wantPool    string
	wantIPs     []string
	wantErr     Reason
	wantMsg     string // substring of the error message
	wantInvalid []string
}

func allocate(desc string, s model.Service) step { return step{desc: desc, op: opAlloc, svc: s} }

func fromPool(desc string, s model.Service, pool string) step {
	return step{desc: desc, op: opFromPool, svc: s, pool: pool}
}

func assign(desc string, s model.Service, ips ...string) step {
	return step{desc: desc, op: opAssign, svc: s, ips: ips}
}

func additional(desc string, s model.Service) step { return step{desc: desc, op: opAdditional, svc: s} }

func release(desc, key string) step {
	return step{desc: desc, op: opRelease, svc: model.Service{Key: key}}
}

func setPools(desc string, pools ...*model.Pool) step {
	return step{desc: desc, op: opSetPools, pools: pools}
}

func check(desc string, fn func(t *testing.T, a *Allocator)) step {
	return step{desc: desc, op: opCheck, fn: fn}
}

func (s step) gets(pool string, ips ...string) step {
	s.wantPool, s.wantIPs = pool, ips
	return s
}

func (s step) fails(r Reason, msg string) step {
	s.wantErr, s.wantMsg = r, msg
	return s
}

func (s step) invalid(keys ...string) step {
	s.wantInvalid = keys
	return s
}

// statsIs checks the counts of a pool.
func statsIs(pool string, capV4, capV6 Count, inUseV4, inUseV6 uint64) step {
	return check(fmt.Sprintf("stats of %s", pool), func(t *testing.T, a *Allocator) {
		t.Helper()
		got, ok := a.PoolStats(pool)
		if !ok {
			t.Fatalf("no stats for pool %s", pool)
		}
		want := PoolStats{Name: pool, CapacityV4: capV4, CapacityV6: capV6, InUseV4: inUseV4, InUseV6: inUseV6}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(x, y Count) bool { return x == y })); diff != "" {
			t.Errorf("PoolStats(%s) (-want +got):\n%s", pool, diff)
		}
	})
}

// holds checks the recorded assignment of a Service.
func holds(key, pool string, ips ...string) step {
	return check(fmt.Sprintf("%s holds %v from %q", key, ips, pool), func(t *testing.T, a *Allocator) {
		t.Helper()
		p, got, ok := a.Lookup(key)
		if len(ips) == 0 {
			if ok {
				t.Errorf("Lookup(%s) = %s %v, want nothing", key, p, got)
			}
			return
		}
		if !ok || p != pool || !slices.Equal(addrStrings(got), ips) {
			t.Errorf("Lookup(%s) = %q %v %v, want %q %v", key, p, got, ok, pool, ips)
		}
	})
}

func runScript(t *testing.T, a *Allocator, steps []step) {
	t.Helper()
	for i, st := range steps {
		name := fmt.Sprintf("step %d (%s)", i+1, st.desc)
		var (
			pool    string
			ips     []netip.Addr
			err     error
			invalid []string
		)
		switch st.op {
		case opAlloc:
			pool, ips, err = a.Allocate(st.svc)
		case opFromPool:
			ips, err = a.AllocateFromPool(st.svc, st.pool)
			pool, _, _ = a.Lookup(st.svc.Key)
		case opAssign:
			pool, err = a.Assign(st.svc, addrs(st.ips...))
			_, ips, _ = a.Lookup(st.svc.Key)
		case opAdditional:
			ips, err = a.AllocateAdditional(st.svc)
			pool, _, _ = a.Lookup(st.svc.Key)
		case opRelease:
			a.Release(st.svc.Key)
			if _, _, ok := a.Lookup(st.svc.Key); ok {
				t.Errorf("%s: still assigned after Release", name)
			}
		case opSetPools:
			invalid = a.SetPools(st.pools)
			if diff := cmp.Diff(st.wantInvalid, invalid, cmp.Comparer(func(x, y []string) bool {
				return len(x) == len(y) && (len(x) == 0 || slices.Equal(x, y))
			})); diff != "" {
				t.Errorf("%s: invalid assignments (-want +got):\n%s", name, diff)
			}
		case opCheck:
			t.Run(name, func(t *testing.T) { st.fn(t, a) })
		}
		checkConsistency(t, a)
		if st.op == opRelease || st.op == opSetPools || st.op == opCheck {
			continue
		}
		if st.wantErr != "" {
			if got := ReasonOf(err); got != st.wantErr {
				t.Errorf("%s: error %v (reason %q), want reason %q", name, err, got, st.wantErr)
			} else if !strings.Contains(err.Error(), st.wantMsg) {
				t.Errorf("%s: error %q does not contain %q", name, err, st.wantMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: unexpected error: %v", name, err)
			continue
		}
		if pool != st.wantPool || !slices.Equal(addrStrings(ips), st.wantIPs) {
			t.Errorf("%s: got %q %v, want %q %v", name, pool, addrStrings(ips), st.wantPool, st.wantIPs)
		}
		if p, got, ok := a.Lookup(st.svc.Key); !ok || p != pool || !slices.Equal(got, ips) {
			t.Errorf("%s: Lookup = %q %v %v, want %q %v", name, p, got, ok, pool, ips)
		}
	}
}

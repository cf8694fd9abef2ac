package announcer

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/ferrolb/ferrolb/internal/l2/netif"
	"github.com/ferrolb/ferrolb/internal/l2/responder"
)

// scanLocked lists the interfaces and records the usable ones.
func (a *Announcer) scanLocked() {
	a.scanned = true
	a.failed = map[string]error{}
	all, err := a.lister.Interfaces()
	if err != nil {
		// Keep the previous view: a failed listing says nothing about the
		// interfaces themselves.
		if a.scanErr == nil {
			a.log.Error("cannot list network interfaces", "error", err)
		}
		a.scanErr = err
		return
	}
	a.scanErr = nil
	usable, skipped := a.filter.Usable(all)
	next := make(map[string]netif.Interface, len(usable))
	for _, ifc := range usable {
		next[ifc.Name] = ifc
		if _, had := a.ifaces[ifc.Name]; !had {
			a.log.Info("interface usable for layer 2", "interface", ifc.Name, "ipv4", ifc.ServesIPv4(), "linklocal", ifc.LinkLocal)
		}
	}
	for name := range a.ifaces {
		if _, ok := next[name]; !ok {
			a.log.Info("interface no longer usable for layer 2", "interface", name, "reason", reasonOr(skipped[name], "gone"))
		}
	}
	for name, why := range skipped {
		if a.skipped[name] != why {
			a.log.Debug("interface skipped for layer 2", "interface", name, "reason", why)
		}
	}
	a.ifaces, a.skipped = next, skipped
}

// applyLocked brings responders in line with desired and the interface
// view, and recomputes the statuses.
func (a *Announcer) applyLocked() {
	// Which IPs each interface should answer for.
	want := map[string][]netip.Addr{}
	for ip, spec := range a.desired {
		for name, ifc := range a.ifaces {
			if !spec.AllInterfaces && !slices.Contains(spec.Interfaces, name) {
				continue
			}
			if ip.Is4() && !ifc.ServesIPv4() {
				continue
			}
			if _, bad := a.failed[name]; bad {
				continue
			}
			want[name] = append(want[name], ip)
		}
	}

	// Drop responders of interfaces that are gone, changed or idle.
	for name, e := range a.responders {
		ifc, ok := a.ifaces[name]
		if ok && ifc.Same(e.ifc) && len(want[name]) > 0 {
			continue
		}
		a.log.Debug("stopping layer 2 responder", "interface", name)
		a.stopLocked(e)
		delete(a.responders, name)
	}

	// Create the missing ones, then hand every responder its IPs.
	openErr := map[string]error{}
	started := false
	for name, ips := range want {
		e := a.responders[name]
		if e == nil {
			var err error
			if e, err = a.newEntry(a.ifaces[name]); err != nil {
				a.log.Error("cannot start layer 2 responder", "interface", name, "error", err)
				openErr[name] = err
				a.failed[name] = err
				continue
			}
			a.responders[name] = e
			started = true
		}
		e.ifc = a.ifaces[name]
		e.r.SetSource(e.ifc.LinkLocal)
		if err := e.r.SetAddrs(ips); err != nil {
			a.log.Warn("cannot join solicited-node multicast groups", "interface", name, "error", err)
		}
	}
	if started {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}

	// Statuses.
	a.status = make(map[netip.Addr]Status, len(a.desired))
	on := map[netip.Addr][]string{}
	for name, e := range a.responders {
		for _, ip := range e.r.Owned() {
			on[ip] = append(on[ip], name)
		}
	}
	for ip, spec := range a.desired {
		names := on[ip]
		if len(names) > 0 {
			slices.Sort(names)
			a.status[ip] = Status{Interfaces: names}
			continue
		}
		a.status[ip] = Status{Err: a.whyNot(ip, spec, openErr)}
	}
}

func (a *Announcer) newEntry(ifc netif.Interface) (*entry, error) {
	if len(ifc.MAC) != 6 {
		return nil, fmt.Errorf("interface %s: hardware address %v is not ethernet", ifc.Name, ifc.MAC)
	}
	socks, err := a.open(ifc, ifc.ServesIPv4())
	if err != nil {
		return nil, err
	}
	cfg := responder.Config{
		Interface:       ifc.Name,
		MAC:             [6]byte(ifc.MAC),
		Schedule:        a.schedule,
		LinkLocalSource: a.llSource,
		Recorder:        a.rec,
		Logger:          a.log,
	}
	// Typed nils must not reach the responder as non-nil interfaces.
	if socks.ARP != nil {
		cfg.ARP = socks.ARP
	}
	if socks.NDP != nil {
		cfg.NDP = socks.NDP
	}
	r, err := responder.New(cfg)
	if err != nil {
		if socks.ARP != nil {
			_ = socks.ARP.Close()
		}
		if socks.NDP != nil {
			_ = socks.NDP.Close()
		}
		return nil, err
	}
	a.log.Debug("started layer 2 responder", "interface", ifc.Name)
	return &entry{ifc: ifc, r: r}, nil
}

// whyNot explains why ip is announced nowhere.
func (a *Announcer) whyNot(ip netip.Addr, spec Spec, openErr map[string]error) error {
	var reasons []string
	var errs []error
	consider := spec.Interfaces
	if spec.AllInterfaces {
		consider = slices.Sorted(maps.Keys(a.ifaces))
	}
	for _, name := range consider {
		ifc, ok := a.ifaces[name]
		switch {
		case !ok && a.skipped[name] != "":
			reasons = append(reasons, name+": "+a.skipped[name])
		case !ok:
			reasons = append(reasons, name+": not found")
		case ip.Is4() && !ifc.ServesIPv4():
			reasons = append(reasons, name+": no BROADCAST flag for ARP")
		case openErr[name] != nil:
			errs = append(errs, openErr[name])
			reasons = append(reasons, name+": "+openErr[name].Error())
		case a.failed[name] != nil:
			reasons = append(reasons, name+": "+a.failed[name].Error())
		}
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "no usable interface found")
	}
	if a.scanErr != nil {
		errs = append(errs, a.scanErr)
	}
	base := fmt.Errorf("%w for %v (%s)", ErrNoInterface, ip, strings.Join(reasons, "; "))
	return errors.Join(append([]error{base}, errs...)...)
}

func (a *Announcer) statusLocked() map[netip.Addr]Status {
	out := make(map[netip.Addr]Status, len(a.status))
	for ip, s := range a.status {
		out[ip] = Status{Interfaces: slices.Clone(s.Interfaces), Err: s.Err}
	}
	return out
}

func statusEqual(x, y map[netip.Addr]Status) bool {
	return maps.EqualFunc(x, y, func(a, b Status) bool {
		return slices.Equal(a.Interfaces, b.Interfaces) && (a.Err == nil) == (b.Err == nil)
	})
}

func reasonOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

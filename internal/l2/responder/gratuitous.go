package responder

import (
	"context"
	"net/netip"
	"time"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

// announceLoop sends the scheduled gratuitous bursts until ctx ends.
func (r *Responder) announceLoop(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		due, next := r.dueAnnouncements(time.Now())
		for _, ip := range due {
			r.sendGratuitous(ip)
		}
		var fire <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-fire:
		}
		timer.Stop()
	}
}

// dueAnnouncements returns the IPs with a burst due at now, advances them
// past every offset already reached (a late loop sends one burst, not a
// backlog), drops finished ones, and returns the earliest next deadline
// (zero when nothing is pending).
func (r *Responder) dueAnnouncements(now time.Time) (due []netip.Addr, next time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ip, a := range r.pending {
		fired := false
		for a.next < len(r.schedule) && !a.start.Add(r.schedule[a.next]).After(now) {
			a.next++
			fired = true
		}
		if fired {
			due = append(due, ip)
		}
		if a.next == len(r.schedule) {
			delete(r.pending, ip)
			continue
		}
		if at := a.start.Add(r.schedule[a.next]); next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return due, next
}

// sendGratuitous sends one burst for ip, unless it stopped being owned.
func (r *Responder) sendGratuitous(ip netip.Addr) {
	if !r.owns(ip) {
		return
	}
	var frames [][]byte
	var conn FrameConn
	if ip.Is4() {
		conn = r.arp
		// RFC 5227 announcement (request, target hardware ignored) and the
		// reply form; Linux treats a reply as gratuitous only when its
		// target hardware address equals the sender's.
		req, err1 := wire.ARPFrame(wire.Broadcast, r.mac, wire.ARP{Op: wire.ARPRequest, SenderMAC: r.mac, SenderIP: ip, TargetIP: ip})
		rep, err2 := wire.ARPFrame(wire.Broadcast, r.mac, wire.ARP{Op: wire.ARPReply, SenderMAC: r.mac, SenderIP: ip, TargetMAC: r.mac, TargetIP: ip})
		if err1 != nil || err2 != nil {
			r.log.Error("cannot encode gratuitous arp", "ip", ip, "error", err1, "error2", err2)
			return
		}
		frames = [][]byte{req, rep}
	} else {
		conn = r.ndp
		na := wire.NeighborAdvertisement{Override: true, Target: ip, TargetLL: &r.mac}
		f, err := wire.NDPFrame(wire.MulticastMAC(wire.AllNodes), r.mac, r.naSource(ip), wire.AllNodes, na)
		if err != nil {
			r.log.Error("cannot encode unsolicited neighbor advertisement", "ip", ip, "error", err)
			return
		}
		frames = [][]byte{f}
	}
	for _, f := range frames {
		if err := conn.WriteFrame(f); err != nil {
			if !r.closed.Load() {
				r.log.Warn("cannot send gratuitous announcement", "ip", ip, "error", err)
			}
			return
		}
		r.rec.GratuitousSent(ip)
	}
	r.log.Debug("sent gratuitous announcement", "ip", ip)
}

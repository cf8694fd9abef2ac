package responder

import (
	"fmt"
	"net/netip"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

// readLoop answers frames from c until c is closed.
func (r *Responder) readLoop(c FrameConn, answer func([]byte) ([]byte, netip.Addr)) error {
	buf := make([]byte, 1514)
	for {
		n, err := c.ReadFrame(buf)
		if err != nil {
			if r.closed.Load() {
				return nil
			}
			return fmt.Errorf("read on %s: %w", r.name, err)
		}
		reply, ip := answer(buf[:n])
		if reply == nil {
			continue
		}
		if err := c.WriteFrame(reply); err != nil {
			r.log.Warn("cannot send reply", "ip", ip, "error", err)
			continue
		}
		r.rec.ResponseSent(ip)
	}
}

// arpReply returns the reply to an ARP request for an owned IP, or nil.
func (r *Responder) arpReply(frame []byte) ([]byte, netip.Addr) {
	eth, err := wire.ParseEthernet(frame)
	if err != nil || eth.EtherType != wire.EtherTypeARP || eth.Src == r.mac {
		return nil, netip.Addr{}
	}
	if eth.Dst != wire.Broadcast && eth.Dst != r.mac {
		return nil, netip.Addr{}
	}
	req, err := wire.ParseARP(eth.Payload)
	if err != nil || req.Op != wire.ARPRequest {
		return nil, netip.Addr{}
	}
	if req.SenderMAC.IsMulticast() || req.SenderMAC == (wire.MAC{}) || !r.owns(req.TargetIP) {
		return nil, netip.Addr{}
	}
	r.rec.RequestReceived(req.TargetIP)
	reply, err := wire.ARPFrame(req.SenderMAC, r.mac, wire.ARP{
		Op:        wire.ARPReply,
		SenderMAC: r.mac,
		SenderIP:  req.TargetIP,
		TargetMAC: req.SenderMAC,
		TargetIP:  req.SenderIP,
	})
	if err != nil {
		r.log.Error("cannot encode arp reply", "ip", req.TargetIP, "error", err)
		return nil, netip.Addr{}
	}
	return reply, req.TargetIP
}

// naReply returns the advertisement answering a Neighbor Solicitation for
// an owned IP, or nil.
func (r *Responder) naReply(frame []byte) ([]byte, netip.Addr) {
	eth, err := wire.ParseEthernet(frame)
	if err != nil || eth.EtherType != wire.EtherTypeIPv6 || eth.Src == r.mac {
		return nil, netip.Addr{}
	}
	p, err := wire.ParseIPv6(eth.Payload)
	if err != nil || p.NextHeader != wire.ProtocolICMPv6 || len(p.Payload) == 0 || p.Payload[0] != wire.ICMPv6NeighborSolicitation {
		return nil, netip.Addr{}
	}
	ns, err := wire.ParseNeighborSolicitation(p)
	if err != nil {
		r.log.Debug("invalid neighbor solicitation", "from", p.Src, "error", err)
		return nil, netip.Addr{}
	}
	target := ns.Target.WithZone("")
	if !r.owns(target) {
		return nil, netip.Addr{}
	}
	// Sent to the target's solicited-node group, or unicast to the target
	// itself at our MAC (RFC 4861 section 4.3, Destination Address).
	multicast := p.Dst == wire.SolicitedNode(target) && (eth.Dst == wire.MulticastMAC(p.Dst) || eth.Dst == r.mac)
	unicast := p.Dst == target && eth.Dst == r.mac
	if !multicast && !unicast {
		return nil, netip.Addr{}
	}
	r.rec.RequestReceived(target)

	na := wire.NeighborAdvertisement{Target: target, TargetLL: &r.mac}
	var dstIP netip.Addr
	var dstMAC wire.MAC
	if p.Src.IsUnspecified() {
		// Duplicate Address Detection: tell everyone (RFC 4861 7.2.4).
		dstIP, dstMAC = wire.AllNodes, wire.MulticastMAC(wire.AllNodes)
		na.Override = true
	} else {
		dstIP, dstMAC = p.Src, eth.Src
		if ns.SourceLL != nil {
			dstMAC = *ns.SourceLL
		}
		na.Solicited = true
	}
	reply, err := wire.NDPFrame(dstMAC, r.mac, r.naSource(target), dstIP, na)
	if err != nil {
		r.log.Error("cannot encode neighbor advertisement", "ip", target, "error", err)
		return nil, netip.Addr{}
	}
	return reply, target
}

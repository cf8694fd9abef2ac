package responder

import "net/netip"

// FrameConn is a socket that reads and writes whole Ethernet frames on one
// interface. Close must make a blocked ReadFrame return.
type FrameConn interface {
	// ReadFrame reads one frame into b and returns its length.
	ReadFrame(b []byte) (int, error)
	// WriteFrame sends one frame.
	WriteFrame(frame []byte) error
	Close() error
}

// NDPConn is a FrameConn for IPv6 that can also subscribe the interface to
// an IPv6 multicast group, so the NIC delivers frames sent to it.
type NDPConn interface {
	FrameConn
	JoinGroup(group netip.Addr) error
	LeaveGroup(group netip.Addr) error
}

// Recorder receives per-IP counts: MetalLB's
// metallb_layer2_requests_received, metallb_layer2_responses_sent and
// metallb_layer2_gratuitous_sent (label ip). Implementations must be safe
// for concurrent use.
type Recorder interface {
	// RequestReceived counts an ARP request or Neighbor Solicitation for an
	// owned IP.
	RequestReceived(ip netip.Addr)
	// ResponseSent counts a reply that was written to the socket.
	ResponseSent(ip netip.Addr)
	// GratuitousSent counts one gratuitous frame (an ARP burst is two).
	GratuitousSent(ip netip.Addr)
}

// NopRecorder drops all counts.
type NopRecorder struct{}

func (NopRecorder) RequestReceived(netip.Addr) {}
func (NopRecorder) ResponseSent(netip.Addr)    {}
func (NopRecorder) GratuitousSent(netip.Addr)  {}

var _ Recorder = NopRecorder{}

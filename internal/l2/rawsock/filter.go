package rawsock

import (
	"golang.org/x/net/bpf"
)

// packetOtherHost is PACKET_OTHERHOST from linux/if_packet.h; 0 to 2 are
// host, broadcast and multicast.
const packetOtherHost = 3

// Offsets in an untagged Ethernet frame.
const (
	offEtherType  = 12
	offARPOp      = 14 + 6
	offNextHeader = 14 + 6
	offICMPv6Type = 14 + 40
	snapLen       = 1514
)

// hostGuard drops every frame the kernel did not classify as addressed to
// this host (PACKET_HOST, PACKET_BROADCAST or PACKET_MULTICAST, see
// packet(7)): PACKET_OTHERHOST covers unicast to other hosts seen in
// promiscuous mode and frames of a VLAN that has no device here, which reach
// the parent interface's sockets with the tag already removed and must not
// be answered untagged. It is prepended to the programs below; jumps are
// relative, so their offsets still hold.
var hostGuard = []bpf.Instruction{
	bpf.LoadExtension{Num: bpf.ExtType},
	bpf.JumpIf{Cond: bpf.JumpLessThan, Val: packetOtherHost, SkipTrue: 1},
	bpf.RetConstant{Val: 0},
}

// arpRequestFilter keeps ARP requests.
var arpRequestFilter = []bpf.Instruction{
	bpf.LoadAbsolute{Off: offEtherType, Size: 2},
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x0806, SkipTrue: 3},
	bpf.LoadAbsolute{Off: offARPOp, Size: 2},
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 1, SkipTrue: 1},
	bpf.RetConstant{Val: snapLen},
	bpf.RetConstant{Val: 0},
}

// neighborSolicitationFilter keeps IPv6 packets whose first header is
// ICMPv6 of type 135.
var neighborSolicitationFilter = []bpf.Instruction{
	bpf.LoadAbsolute{Off: offEtherType, Size: 2},
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x86dd, SkipTrue: 5},
	bpf.LoadAbsolute{Off: offNextHeader, Size: 1},
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 58, SkipTrue: 3},
	bpf.LoadAbsolute{Off: offICMPv6Type, Size: 1},
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 135, SkipTrue: 1},
	bpf.RetConstant{Val: snapLen},
	bpf.RetConstant{Val: 0},
}

// assemble prepends hostGuard and assembles.
func assemble(prog []bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(append(append([]bpf.Instruction{}, hostGuard...), prog...))
	if err != nil {
		panic("rawsock: invalid built-in BPF program: " + err.Error())
	}
	return raw
}

package netpkt

import "golang.org/x/net/bpf"

// packetOtherHost is PACKET_OTHERHOST from linux/if_packet.h; 0 to 2 are
// host, broadcast and multicast.
const packetOtherHost = 3

// HostGuard drops every frame the kernel did not classify as addressed to
// this host (PACKET_HOST, PACKET_BROADCAST or PACKET_MULTICAST, see
// packet(7)): PACKET_OTHERHOST covers unicast to other hosts seen in
// promiscuous mode and frames of a VLAN that has no device here, which
// reach the parent interface's sockets with the tag already removed. It is
// meant to be prepended to a program; jumps are relative, so the program's
// offsets still hold. x/net/bpf's virtual machine cannot run it (no packet
// type metadata).
func HostGuard() []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpLessThan, Val: packetOtherHost, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
	}
}

// Guarded returns HostGuard followed by prog.
func Guarded(prog []bpf.Instruction) []bpf.Instruction {
	return append(HostGuard(), prog...)
}

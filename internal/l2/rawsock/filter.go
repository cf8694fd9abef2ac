package rawsock

import (
	"golang.org/x/net/bpf"

	"github.com/ferrolb/ferrolb/internal/netpkt"
)

// Offsets in an untagged Ethernet frame.
const (
	offEtherType  = 12
	offARPOp      = 14 + 6
	offNextHeader = 14 + 6
	offICMPv6Type = 14 + 40
	snapLen       = 1514
)

// Every program below runs behind netpkt.HostGuard (see assemble): frames
// of a VLAN without a device here reach the parent interface's sockets
// with the tag already removed and must not be answered untagged.

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

// assemble prepends netpkt.HostGuard and assembles.
func assemble(prog []bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(netpkt.Guarded(prog))
	if err != nil {
		panic("rawsock: invalid built-in BPF program: " + err.Error())
	}
	return raw
}

package netpkt

import (
	"testing"

	"golang.org/x/net/bpf"
)

// RFC 1071's example: the words 0001 f203 f4f5 f6f7 sum to ddf2.
func TestChecksumRFC1071(t *testing.T) {
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := Fold(Sum(0, b)); got != 0xddf2 {
		t.Errorf("sum %#x, want 0xddf2", got)
	}
	if got := Checksum(0, b); got != ^uint16(0xddf2) {
		t.Errorf("checksum %#x, want %#x", got, ^uint16(0xddf2))
	}
	// An odd length pads with a zero byte.
	if Checksum(0, []byte{0xab}) != Checksum(0, []byte{0xab, 0}) {
		t.Errorf("odd length not padded")
	}
	// Data carrying its own checksum verifies to 0.
	c := Checksum(0, b)
	with := append(append([]byte(nil), b...), byte(c>>8), byte(c))
	if got := Checksum(0, with); got != 0 {
		t.Errorf("checksum over data and its checksum %#x, want 0", got)
	}
}

func TestGuardedPrepends(t *testing.T) {
	prog := Guarded(nil)
	if len(prog) != 3 || len(Guarded(prog)) != 6 {
		t.Fatalf("guard of %d instructions", len(prog))
	}
	// The guard's jump skips its own drop: relative offsets of the
	// program after it are unchanged.
	if _, err := bpf.Assemble(Guarded(prog)); err != nil {
		t.Errorf("guarded program does not assemble: %v", err)
	}
}

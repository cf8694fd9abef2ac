package wire

import "errors"

// Error kinds; every parse or encode error wraps exactly one of them.
var (
	// ErrTruncated: the input ends before the structure does.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed: a field holds a value the specification forbids.
	ErrMalformed = errors.New("malformed")
	// ErrUnsupported: a valid message this package does not handle
	// (another hardware or protocol type, another ICMPv6 type).
	ErrUnsupported = errors.New("unsupported")
	// ErrChecksum: the ICMPv6 checksum does not verify.
	ErrChecksum = errors.New("bad checksum")
)

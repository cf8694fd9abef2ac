package ipam

import (
	"errors"
	"fmt"
)

// Reason classifies an allocation failure. The values are CamelCase so the
// controller can use them as condition reasons as they are.
type Reason string

const (
	// InvalidRequest: the Service or the IP list is malformed (no key, no
	// family, no IP, an invalid or zoned address).
	InvalidRequest Reason = "InvalidRequest"
	// NoPoolMatches: no pool admits the Service for automatic assignment, or
	// none of the admitting pools has addresses of the needed family.
	NoPoolMatches Reason = "NoPoolMatches"
	// PoolExhausted: the candidate pools have the family but no usable
	// address is left (free, or shareable with this Service).
	PoolExhausted Reason = "PoolExhausted"
	// IPNotInAnyPool: a requested IP is outside every pool (or is a .0/.255
	// address of a pool that avoids buggy IPs).
	IPNotInAnyPool Reason = "IPNotInAnyPool"
	// IPsInDifferentPools: the requested IPs are each in a pool, but not in
	// the same one.
	IPsInDifferentPools Reason = "IPsInDifferentPools"
	// PoolNotAllowed: the pool's serviceAllocation (namespaces, service
	// selectors) does not admit the Service.
	PoolNotAllowed Reason = "PoolNotAllowed"
	// UnknownPool: the requested pool does not exist.
	UnknownPool Reason = "UnknownPool"
	// IPInUse: the IP is held by a Service that does not share it with this
	// one (sharing key or backend key differs, or either has no key).
	IPInUse Reason = "IPInUse"
	// PortConflict: the IP could be shared but a (protocol, port) pair is
	// already used on it by another Service.
	PortConflict Reason = "PortConflict"
	// FamilyMismatch: the IPs' families do not fit the Service's families
	// and policy.
	FamilyMismatch Reason = "FamilyMismatch"
	// TooManyIPs: more than two IPs were requested.
	TooManyIPs Reason = "TooManyIPs"
	// DualStackNotPossible: RequireDualStack, but no candidate pool has
	// both families.
	DualStackNotPossible Reason = "DualStackNotPossible"
	// NotAssigned: the operation needs an existing assignment.
	NotAssigned Reason = "NotAssigned"
)

// Error is an allocation failure with its kind and a message meant for
// people (events, conditions).
type Error struct {
	Reason Reason
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// Is makes errors.Is(err, &Error{Reason: r}) match any *Error with reason r.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason && (t.Msg == "" || t.Msg == e.Msg)
}

func errorf(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Msg: fmt.Sprintf(format, args...)}
}

// ReasonOf returns the Reason of an *Error in err's chain, "" otherwise.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

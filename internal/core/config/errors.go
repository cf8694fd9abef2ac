package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Kind names a metallb.io object kind, spelled as in the API.
type Kind string

const (
	KindPool             Kind = "IPAddressPool"
	KindL2Advertisement  Kind = "L2Advertisement"
	KindBGPAdvertisement Kind = "BGPAdvertisement"
	KindBGPPeer          Kind = "BGPPeer"
	KindBFDProfile       Kind = "BFDProfile"
	KindCommunity        Kind = "Community"
)

// kindOrder is the order in which kinds are reported and in which Resolve
// tries changed objects: referenced kinds first, pools before the
// advertisements that select them.
var kindOrder = []Kind{KindBFDProfile, KindCommunity, KindPool, KindBGPPeer, KindBGPAdvertisement, KindL2Advertisement}

func kindRank(k Kind) int {
	if i := slices.Index(kindOrder, k); i >= 0 {
		return i
	}
	return len(kindOrder)
}

// Error is one problem of one object: which object, which field (a JSON
// path such as "spec.addresses[1]", empty when the object as a whole is at
// fault), and why.
type Error struct {
	Kind    Kind
	Name    string
	Field   string
	Message string
	// Transient is set for errors that can fix themselves when another
	// object appears: a missing BFDProfile, a missing password Secret, an
	// unknown Community alias.
	Transient bool
}

func (e Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s %q: %s", e.Kind, e.Name, e.Message)
	}
	return fmt.Sprintf("%s %q: %s: %s", e.Kind, e.Name, e.Field, e.Message)
}

// ObjectRef names one object.
type ObjectRef struct {
	Kind Kind
	Name string
}

func (r ObjectRef) String() string { return fmt.Sprintf("%s %q", r.Kind, r.Name) }

func compareRefs(a, b ObjectRef) int {
	if c := cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// Errors is every problem found in a Snapshot, ordered by kind, then object
// name, then in the order the fields were checked.
type Errors []Error

// Error renders one error per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns es as an error, or nil when there is none (avoiding the
// typed-nil trap of returning an empty Errors as an error).
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Objects lists the objects at fault, sorted by kind then name, each once.
func (es Errors) Objects() []ObjectRef {
	if len(es) == 0 {
		return nil
	}
	refs := make([]ObjectRef, 0, len(es))
	for _, e := range es {
		refs = append(refs, ObjectRef{e.Kind, e.Name})
	}
	slices.SortFunc(refs, compareRefs)
	return slices.Compact(refs)
}

// For returns the errors of one object.
func (es Errors) For(kind Kind, name string) Errors {
	var out Errors
	for _, e := range es {
		if e.Kind == kind && e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// Transient reports whether there is at least one error and all of them are
// transient (the configuration may become valid without being edited).
func (es Errors) Transient() bool {
	if len(es) == 0 {
		return false
	}
	for _, e := range es {
		if !e.Transient {
			return false
		}
	}
	return true
}

// errorList collects errors while compiling and remembers which objects
// are at fault.
type errorList struct {
	errs Errors
	bad  map[ObjectRef]bool
}

func (l *errorList) push(e Error) {
	if l.bad == nil {
		l.bad = map[ObjectRef]bool{}
	}
	l.bad[ObjectRef{e.Kind, e.Name}] = true
	l.errs = append(l.errs, e)
}

func (l *errorList) add(kind Kind, name, field, format string, args ...any) {
	l.push(Error{Kind: kind, Name: name, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (l *errorList) addTransient(kind Kind, name, field, format string, args ...any) {
	l.push(Error{Kind: kind, Name: name, Field: field, Message: fmt.Sprintf(format, args...), Transient: true})
}

// faulty reports whether object (kind, name) has an error so far.
func (l *errorList) faulty(kind Kind, name string) bool {
	return l.bad[ObjectRef{kind, name}]
}

// sorted returns the errors ordered by object, keeping the check order
// within one object.
func (l *errorList) sorted() Errors {
	out := slices.Clone(l.errs)
	slices.SortStableFunc(out, func(a, b Error) int {
		return compareRefs(ObjectRef{a.Kind, a.Name}, ObjectRef{b.Kind, b.Name})
	})
	return out
}

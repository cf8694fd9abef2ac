// Package confstate writes a component's ConfigurationState object: the
// controller's "controller" and each speaker's "speaker-<node>", in the
// project's namespace.
//
// Reconcilers hand their verdict to a Reporter as conditions (Set); the
// Reporter derives the result (Valid, Invalid, Unknown) and the error
// summary, and applies the object with server-side apply from its own
// goroutine, so a reconciler never waits on the write. The object is
// checked again periodically and re-created if somebody deleted it.
package confstate

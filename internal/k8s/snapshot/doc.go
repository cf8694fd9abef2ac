// Package snapshot turns metallb.io API objects, plus the cluster's
// namespaces, nodes and secrets, into the plain config.Snapshot the
// configuration compiler reads. It is a pure translation: no client, no
// validation (the compiler owns every rule), no I/O.
//
// Output is deterministic: every list is sorted by object name, and maps
// and slices are copied so the snapshot never shares memory with the
// (cached, read-only) API objects.
package snapshot

// Command crdref writes the configuration reference under docs/reference
// from the sources of truth, so the documentation cannot drift from them:
//
//   - one page per metallb.io kind, read from the CustomResourceDefinitions
//     in config/crd/bases: for every served version its printer columns and
//     every field path with its type, description, default, enum, bounds,
//     pattern, required flag, list and map type and CEL validation rules;
//   - flags.md, the command-line flags of the controller and the speaker,
//     captured from each binary's -h output (so names, types and defaults
//     are the compiled ones), with the environment variable each flag reads
//     its default from, found in the command's source.
//
// Usage, from anywhere inside the repository:
//
//	go run ./hack/crdref          # regenerate docs/reference
//	go run ./hack/crdref -check   # exit 1 if docs/reference is stale
//
// The defaults are relative to the repository root (the nearest directory
// above the working directory holding go.mod); -crds and -out override them.
// Output is deterministic: kinds, versions and fields are sorted, and a
// generated page carries a marker line so pages of kinds that no longer
// exist are removed.
//
// The package's tests also guard the hand-written pages under docs/: they
// fail when the committed reference differs from a fresh rendering, when a
// relative link (or its #fragment) under docs/ does not resolve, and when
// docs/metrics.md does not list exactly the metallb_* metrics of
// internal/metrics with their types and labels.
package main

// Package metrics defines the Prometheus metrics of the MetalLB API (names,
// types and labels as MetalLB exports them) behind small recorder types, so
// the core never touches a global gauge. Collectors register into the
// registry they are given.
package metrics

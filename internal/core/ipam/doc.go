// Package ipam is the address allocator: it decides which Service gets which
// load-balancer IP from which pool, following MetalLB's rules (pool
// priorities, serviceAllocation namespaces and selectors, autoAssign,
// avoidBuggyIPs, dual-stack family policies and IP sharing through the
// allow-shared-ip key), with deterministic results and without scanning.
//
// Each CIDR of a pool is a "space" of usable slots (avoidBuggyIPs removes the
// .0 and .255 addresses from the numbering instead of leaving holes). A
// treap of free slot intervals finds the lowest free address and takes or
// returns one in O(log n); IPs held with a sharing key are indexed per
// (sharing key, backend key) so a Service that may share finds its partners
// without looking at anything else. Counts are exact: a /0 IPv6 pool holds
// 2^128 addresses (see Count).
//
// The package is pure (standard library only), keeps no clock and does not
// log; errors carry a Reason for conditions and events. An Allocator is not
// safe for concurrent use: the controller serialises its calls.
package ipam

// Package assign decides which addresses a LoadBalancer Service should hold:
// it reads the Service as plain values (type, class, cluster IPs, family
// policy, metallb.io annotations, current status), asks the allocator, and
// returns an Outcome — the addresses, the pool, a condition explaining the
// result, and the events to emit. The Kubernetes adapter applies the
// Outcome; nothing here performs I/O. Standard library only.
package assign

// Package benchkit holds what the benchmark programs (hack/bench*) share:
// per-process CPU accounting from /proc and running code inside a network
// namespace of the lab.
package benchkit

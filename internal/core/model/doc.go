// Package model holds the slim domain types shared by the pure core:
// address pools, label selectors, services as the allocator sees them, and
// address families. It imports only the standard library; adapters translate
// Kubernetes objects into these types.
package model

// Package controller is the controller's Kubernetes adapter: it reads
// Services and metallb.io configuration from the controller-runtime cache,
// hands them as plain values to the pure core (config.Resolve for the
// configuration, assign.Engine for each Service), and applies the outcome:
// status.loadBalancer.ingress, the metallb.io/ip-allocated-from-pool
// annotation, the metallb.io/AddressAssigned condition and events.
package controller

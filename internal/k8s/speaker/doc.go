// Package speaker is the speaker's Kubernetes adapter for layer 2 mode. One
// level-based reconcile reads everything from the controller-runtime cache
// (configuration, Nodes, Services, EndpointSlices) plus the live speakers
// from membership, asks the pure planner (plan.Desired) what this node
// must announce, hands that to the ARP/NDP announcer first, and only then
// publishes the slow parts: ServiceL2Status objects (written by a separate,
// coalescing writer), events and metrics.
package speaker

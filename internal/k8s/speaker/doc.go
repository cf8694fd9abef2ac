// Package speaker is the speaker's Kubernetes adapter, for layer 2 and
// BGP mode. One level-based reconcile reads everything from the
// controller-runtime cache (configuration, Nodes, and Services and
// EndpointSlices straight from the informer stores, trimmed to the fields
// the speaker reads) plus the live speakers from membership, asks the pure
// planner (plan.Desired, plan.DesiredBGP) what this node must announce,
// hands that to the ARP/NDP announcer and the BGP backend first, and only
// then publishes the slow parts: ServiceL2Status and ServiceBGPStatus
// objects (written by a separate, coalescing writer that gives way while a
// burst of changes goes on), events (held back during bursts) and metrics.
package speaker

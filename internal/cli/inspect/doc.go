// Package inspect gathers what `kubectl metallb explain service` and
// `kubectl metallb status` print, from the API server only: Services and
// their Events, the metallb.io configuration objects, the ServiceL2Status
// and ServiceBGPStatus objects the speakers write, and the
// ConfigurationState objects of the controller and of each speaker
// (including the speakers' bgpSessionsReady session summary).
//
// Explain and Status return plain report values; WriteText renders them as
// readable tables, and Write renders any report as text, YAML or JSON.
// Nothing here writes to the cluster.
package inspect

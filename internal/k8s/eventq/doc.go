// Package eventq holds Kubernetes events back while their component is
// busy, so that during a burst the writes users wait for (Service status,
// announcements) go first and the events follow; none is dropped.
package eventq

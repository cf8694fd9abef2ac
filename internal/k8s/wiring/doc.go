// Package wiring holds what both binaries set up the same way before their
// reconcilers: the scheme, the logger bridge, the namespace default, the
// client configuration and the authenticated HTTPS metrics server.
package wiring

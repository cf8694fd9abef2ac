// Package tlsopts turns MetalLB's --tls-min-version, --tls-cipher-suites
// and --tls-curve-preferences flag values into a crypto/tls option for the
// metrics and webhook servers of both binaries.
package tlsopts

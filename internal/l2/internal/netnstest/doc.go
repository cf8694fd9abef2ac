// Package netnstest builds a two-node Ethernet link out of Linux network
// namespaces for tests that need real sockets and real tools: a "speaker"
// namespace and a "client" namespace joined by one veth pair, with
// documentation addresses only (198.51.100.0/24, 2001:db8::/64) and no link
// to the root namespace. Everything is removed in t.Cleanup, also on
// failure, and every command runs under a deadline.
//
// The tests that use it need root and the Debian packages iproute2,
// iputils-arping, iputils-ping, ndisc6, tcpdump and procps (see [AptInstall]);
// [Require] fails the test (it does not skip) when they are missing.
package netnstest

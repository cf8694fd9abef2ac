// Package sessions reads the BGP session summary a speaker publishes in its
// ConfigurationState object ("speaker-<node>"), condition type
// bgpSessionsReady.
//
// The condition message holds one line per session, sorted:
//
//	<BGPPeer name> <address>:<port> <FSM state>[ bfd=<BFD state>][ error=<text to end of line>]
//
// Parse is deliberately lenient: a line that lacks the address, the state
// or the optional parts still yields a Session with what it has, so a
// newer or older speaker never makes the CLI fail.
package sessions

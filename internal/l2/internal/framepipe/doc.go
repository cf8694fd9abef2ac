// Package framepipe is an in-memory stand-in for the responder's sockets,
// for tests that must run without privileges.
package framepipe

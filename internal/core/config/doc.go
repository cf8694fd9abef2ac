// Package config is the one configuration compiler: a Snapshot of
// metallb.io objects (plus namespaces and nodes) goes in, a validated Config
// or a list of precise errors (object, field, reason) comes out. The
// controller, the speaker and the admission webhook all call Compile, so
// they never disagree about what is valid. Standard library only.
package config

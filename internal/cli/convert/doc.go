// Package convert turns a MetalLB configuration of the pre-v0.13 format
// (the "config" ConfigMap) into the equivalent metallb.io custom
// resources, as `kubectl metallb convert` prints them.
//
// The legacy format is read strictly: an unknown key, a wrong type or an
// impossible value is an error naming the offending field
// ("address-pools[1].bgp-advertisements[0].localpref"). The resources are
// then compiled with the same configuration compiler the controller and
// the speaker use (snapshot.Build, config.Compile), and every error it
// finds is reported against the legacy field it came from, so a
// conversion that succeeds yields a configuration FerroLB accepts.
//
// Mapping (names and semantics as MetalLB's configmaptocrs defines them):
//
//	peers[i]                      -> BGPPeer (v1beta2) "peer<i+1>"
//	bgp-communities               -> Community "communities", aliases sorted
//	address-pools[i]              -> IPAddressPool <name>
//	  bgp pool, each advertisement -> BGPAdvertisement "bgpadvertisement<n>"
//	  bgp pool without any        -> one BGPAdvertisement "bgpadvertisement<n>"
//	  layer2 pool                 -> L2Advertisement "l2advertisement<n>"
//	bfd-profiles[i]               -> BFDProfile <name>
//
// Counters n run over the whole file from 1, in file order. A peer's hold
// time defaults to 90s and durations are rounded to whole seconds. Names
// that are not valid Kubernetes object names are lower-cased, "_" (and any
// other character a name cannot hold) becomes "-", leading non-letters are
// dropped and the result is cut to 63 characters; references follow the
// renamed object.
package convert

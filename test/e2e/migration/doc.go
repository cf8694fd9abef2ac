// Package migration holds the end-to-end test of a migration from MetalLB
// in the lab (test/lab): a cluster state written with MetalLB's API, as
// MetalLB's controller and speakers left it, then this project's controller
// and speakers started on it in their place.
//
// The state (state_test.go) is made before any of our processes runs: in
// metallb-system, IPAddressPools (a dual-stack layer 2 pool, a BGP pool, a
// pool with autoAssign false), an L2Advertisement, a BGPAdvertisement with
// communities (literal and a Community alias) and LOCAL_PREF, a BGPPeer
// written as metallb.io/v1beta1 (the lab's CRDs use the None conversion,
// so the API server serves v1beta1 without the conversion webhook), the
// memberlist Secret "memberlist" (key "secretkey"); and LoadBalancer
// Services carrying the old metallb.universe.tf/ annotations (address-pool,
// loadBalancerIPs, allow-shared-ip, ip-allocated-from-pool) or the
// deprecated spec.loadBalancerIP, whose status.loadBalancer.ingress
// already holds the addresses MetalLB chose — never the first free
// address of their pool, so a controller that re-allocated instead of
// keeping them would be caught — with endpoints (traffic policy Cluster,
// and Local on one node).
//
// TestMigrationKeepsAddressesAndAnnouncements (migration_test.go) then
// starts the controller and the speakers and checks, with every wait
// bounded:
//
//   - a watch on the Services, from before the controller starts to the
//     end of the test, never sees the ingress of a migrated Service change
//     or go away (and does see the controller's writes, so it is not
//     blind);
//   - each migrated Service gets metallb.io/AddressAssigned=True, the
//     metallb.io/ip-allocated-from-pool annotation of its pool, keeps its
//     metallb.universe.tf/ annotations, and gets a deprecatedAnnotation
//     warning event;
//   - the controller and every speaker report the configuration Valid
//     (ConfigurationState), and the memberlist Secret is left as it was;
//   - layer 2 addresses (IPv4 and IPv6) answer ARP/NDP from exactly one
//     node's MAC (with the Local policy, the endpoint's node), the shared
//     address from one MAC, and HTTP from the client reaches the backends
//     through kube-proxy; the BGP addresses are not answered on the LAN;
//   - FRR (iBGP) holds each BGP address with one path per node (one path,
//     from the endpoint's node, with the Local policy), the advertisement's
//     communities and LOCAL_PREF;
//   - a Service asking, through the old annotation, for an address another
//     Service holds without sharing stays without address, with
//     AddressAssigned=False and reason IPInUse naming the holder;
//   - new Services get addresses none of the migrated Services holds.
package migration

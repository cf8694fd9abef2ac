// Package lab runs a small bare-metal cluster on one machine, for the
// end-to-end tests and `make demo`: a real API server (test/cluster), and
// nodes, pods, a client (and later a router) as network namespaces joined
// by a switch, with kube-proxy forwarding Service traffic on every node.
//
//	root namespace: etcd, kube-apiserver (127.0.0.1:<port>), controller,
//	the lab's own process (backends, API bridges)
//	      |
//	      | API bridge: a Go relay per node listening on 127.0.0.1:6443 inside
//	      | the node namespace (a socket stays in the namespace it was made in,
//	      | so no veth or route reaches the root namespace)
//	......|...............................................................
//	:  <prefix>-node1          <prefix>-node2 ...       <prefix>-client   :
//	:  kube-proxy, speaker     (same as node1)          curl, arping,     :
//	:  eth0 .11 / ::11         eth0 .12 / ::12          ndisc6            :
//	:   |   veth-pod            |                       eth0 .100 / ::100 :
//	:   |      |                |                        |                :
//	:   |   <prefix>-node1-pod  |                        |                :
//	:   |   eth0 192.0.2.18     |                        |                :
//	:   |   HTTP :80 -> "node1" |                        |                :
//	:  +-+----------------------+------------------------+-------------+  :
//	:  | br0 in <prefix>-lan; one port per host, named after the host  |  :
//	:  +----------------------------------------------------------------+  :
//	:.....................................................................:
//
// Address plan (documentation ranges only, nothing routed out):
//
//	LAN                198.51.100.0/24         2001:db8:1::/64
//	  router (AddHost) 198.51.100.1            2001:db8:1::1
//	  node i           198.51.100.(10+i)       2001:db8:1::(10+i)   i = 1..15
//	  client           198.51.100.100          2001:db8:1::100
//	  MAC of a host    02:fe:<its four IPv4 bytes>, e.g. 02:fe:c6:33:64:0b
//	pods of node i     192.0.2.(16i)/28        2001:db8:2:i::/64
//	  node's end       .16i+1                  ::1     (interface veth-pod)
//	  backend pod      .16i+2                  ::2
//	Services           198.18.0.0/16           2001:db8:ffff::/108  (kubeapi.DefaultServiceCIDRs)
//	pools              203.0.113.0/24          2001:db8:100::/64   (on-link for client and nodes)
//	big bench pools    198.19.0.0/16 is still free (198.18.0.0/15 minus Services)
//
// Nodes forward, route to the other nodes' pod subnets through their LAN
// addresses and reach the Service ranges on-link (so a locally sent packet
// to a cluster IP reaches kube-proxy's rules). Pods route everything to
// their node. The client knows only the LAN and the pool ranges: it ARPs
// (or solicits) for a load-balancer IP on the LAN, exactly what a layer 2
// announcement answers.
//
// Each node has a Node object (hostname/os/arch labels, both LAN addresses
// as InternalIP, Ready; nothing ever changes it), a kubeconfig for
// https://127.0.0.1:6443 (the API bridge; the serving certificate names
// 127.0.0.1, so TLS is verified), kube-proxy in nftables mode, and a backend
// that answers every HTTP request on port 80 with the node's name.
// Backends publishes chosen nodes' backends as a Service's endpoints.
// StartSpeakers runs ./cmd/speaker on every node with the environment of a
// MetalLB speaker Pod (and creates those Pods, since no kubelet does).
//
// Every namespace is named <prefix>-<name> with a per-run prefix
// flab-<pid>-<hex>, so parallel runs never collide and CleanupStale can
// remove what a crashed run left (its PID is gone). Close ends every
// process by PID (process groups), deletes every namespace and the run's
// directory. Processes also die with the lab's process (Pdeathsig).
//
// A test uses it like this (every helper is bounded; see lab_test.go):
//
//	l := lab.ForTest(t, lab.Options{Nodes: 3}) // torn down by t.Cleanup
//	if err := l.StartSpeakers(ctx, "--log-level", "debug"); err != nil { ... }
//	... create a pool and a LoadBalancer Service through l.Cluster.Client ...
//	l.Backends(ctx, svc, "node2")       // endpoints: node2's backend pod
//	body, err := l.Curl(ctx, ip)         // from the client: "node2"
//	mac, n, err := l.ARPing(ctx, ip)     // who answers ARP, how many MACs
//	l.LinkDown(ctx, "node1"); l.KillSpeaker(ctx, "node1", syscall.SIGKILL)
//
// A router joins with AddHost(ctx, "router", RouterIPv4, RouterIPv6) and runs
// its daemon with StartProcess (or commands with Exec).
//
// The lab needs root and the tools in Packages (AptInstall).
package lab

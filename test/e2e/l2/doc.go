// Package l2 holds the end-to-end tests of layer 2 mode in the lab
// (test/lab): real speakers in node network namespaces, kube-proxy, backend
// pods, and a client on the same LAN that checks ARP/NDP answers with
// arping/ndisc6 and reaches the backends with HTTP.
package l2

// Package netif finds the network interfaces a layer-2 announcer may use.
//
// [System] lists the interfaces of the calling thread's network namespace
// through rtnetlink (RTM_GETLINK and RTM_GETADDR, see rtnetlink(7)), which
// gives the flags, hardware address, bridge/bond master and IPv6 link-local
// address without reading /sys (whose view depends on which namespace
// mounted it). [Filter] then applies MetalLB's rules: skip names matching an
// exclusion pattern (default [DefaultExclude], MetalLB's
// announcedInterfacesToExclude), interfaces that are down, enslaved to a
// bridge, bond or VRF (they have a master), flagged NOARP, or without a
// 6-byte Ethernet address. An interface that passes serves IPv4 through ARP
// when it has the BROADCAST flag, and IPv6 through NDP.
package netif

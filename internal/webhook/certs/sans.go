package certs

import (
	"net/netip"
	"strings"
)

// ParseSANs splits a comma-separated list of extra subject alternative
// names into DNS names and IP addresses (entries that parse as IPs).
// Blank entries are skipped.
func ParseSANs(list string) (dnsNames []string, ips []netip.Addr) {
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if ip, err := netip.ParseAddr(s); err == nil {
			ips = append(ips, ip.Unmap())
		} else {
			dnsNames = append(dnsNames, s)
		}
	}
	return dnsNames, ips
}

package lab

import "strings"

// Packages are the Debian packages the lab needs: ip (iproute2), ping,
// arping, ndisc6, nft (kube-proxy's nftables mode execs it) and conntrack;
// tcpdump, socat and curl are for people looking into a running lab.
var Packages = []string{
	"iproute2", "iputils-ping", "iputils-arping", "ndisc6", "nftables", "conntrack",
	"tcpdump", "socat", "curl",
}

// AptInstall is the command that installs Packages (after apt-get update).
var AptInstall = "apt-get install -y " + strings.Join(Packages, " ")

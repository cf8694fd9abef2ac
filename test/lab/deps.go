package lab

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Packages are the Debian packages the lab needs: ip (iproute2), ping,
// arping, ndisc6, nft (kube-proxy's nftables mode execs it) and conntrack;
// tcpdump, socat and curl are for people looking into a running lab.
var Packages = []string{
	"iproute2", "iputils-ping", "iputils-arping", "ndisc6", "nftables", "conntrack",
	"tcpdump", "socat", "curl",
}

// AptInstall is the command that installs Packages (after apt-get update).
var AptInstall = "apt-get install -y " + strings.Join(Packages, " ")

// EnvRequire makes a lab test fail, instead of skipping, where the lab
// cannot run (CI sets it to 1).
const EnvRequire = "FERROLB_REQUIRE_LAB"

// Need skips the test (or fails it with FERROLB_REQUIRE_LAB=1) unless it
// runs as root and finds every one of tools. who names the test in the
// message ("the lab test"), install tells how to get the tools.
func Need(t testing.TB, who, install string, tools ...string) {
	t.Helper()
	missing := ""
	if os.Geteuid() != 0 {
		missing = "root"
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil && missing == "" {
			missing = tool + " (" + install + ")"
		}
	}
	if missing == "" {
		return
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s needs %s", who, missing)
	}
	t.Skipf("%s needs %s (set %s=1 to fail instead)", who, missing, EnvRequire)
}

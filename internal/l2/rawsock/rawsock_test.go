package rawsock

import (
	"net"
	"os"
	"testing"
)

// The ARP and NDP sockets get a receive buffer far above the default, so a
// burst of requests is not dropped. Opening packet sockets needs
// CAP_NET_RAW (CI runs as root).
func TestSocketsGetALargeReadBuffer(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("FERROLB_REQUIRE_LAB") != "" {
			t.Fatal("packet sockets need root, and FERROLB_REQUIRE_LAB is set")
		}
		t.Skip("packet sockets need root")
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	arp, err := OpenARP(lo)
	if err != nil {
		t.Fatal(err)
	}
	defer arp.Close()
	ndp, err := OpenNDP(lo, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ndp.Close()
	for name, c := range map[string]*Conn{"arp": arp, "ndp": &ndp.Conn} {
		n, err := c.ReadBuffer()
		if err != nil {
			t.Fatal(err)
		}
		// As root SO_RCVBUFFORCE applies; the kernel doubles the value.
		if n < readBuffer {
			t.Errorf("%s socket: receive buffer %d bytes, want at least %d", name, n, readBuffer)
		}
	}
}

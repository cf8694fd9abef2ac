package speaker

import (
	"testing"

	"github.com/ferrolb/ferrolb/internal/bgp"
	"github.com/ferrolb/ferrolb/internal/core/config"
)

// The session presents localASN instead of myASN, and a dynamic ASN goes
// to the backend as it is.
func TestToBGPPeerASNs(t *testing.T) {
	p := toBGPPeer(&config.BGPPeer{Name: "r", MyASN: 64500, LocalASN: 64600, PeerASN: 64512})
	if p.MyASN != 64600 || p.PeerASN != 64512 || p.IBGP() {
		t.Errorf("localASN: %+v", p)
	}
	p = toBGPPeer(&config.BGPPeer{Name: "r", MyASN: 64500, DynamicASN: "internal"})
	if p.MyASN != 64500 || p.PeerASN != 0 || p.DynamicASN != bgp.DynamicInternal || !p.IBGP() {
		t.Errorf("dynamic internal: %+v", p)
	}
	p = toBGPPeer(&config.BGPPeer{Name: "r", MyASN: 64500, DynamicASN: "external"})
	if p.DynamicASN != bgp.DynamicExternal || p.IBGP() {
		t.Errorf("dynamic external: %+v", p)
	}
}

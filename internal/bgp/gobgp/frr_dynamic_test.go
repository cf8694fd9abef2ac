package gobgp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

// dynamicPeer starts FRR in AS routerASN, peering with AS 64500, and a
// backend of AS 64500 whose peer "r" has the given dynamicASN, advertising
// pfxA (with localPref, 0 for none).
func dynamicPeer(t *testing.T, routerASN uint32, mode string, localPref uint32) (*link, *frr, *Backend) {
	t.Helper()
	l := newLink(t, 1)
	f := startFRR(t, l, frrBGP(l, routerASN, l.node4.String(), 64500), "")
	b, _ := runBackend(t, Options{})
	b.SetPeers([]bgp.Peer{{Name: "r", Address: l.router4, MyASN: 64500, DynamicASN: mode}})
	b.SetAdvertisements("r", []bgp.Advertisement{{Prefix: mustPrefix(pfxA), LocalPref: localPref}})
	return l, f, b
}

// dynamicASN "external" accepts the router's ASN, whatever it is, as an
// eBGP session (no LOCAL_PREF sent).
func TestFRRDynamicExternal(t *testing.T) {
	l, f, b := dynamicPeer(t, 64512, bgp.DynamicExternal, 200)
	waitEstablished(t, b, "r")
	waitFRRRoute(t, f, "ipv4", pfxA, frrSummary{NextHop: l.node4.String(), ASPath: "64500"})
}

// dynamicASN "internal" is an iBGP session: LOCAL_PREF goes through.
func TestFRRDynamicInternal(t *testing.T) {
	l, f, b := dynamicPeer(t, 64500, bgp.DynamicInternal, 200)
	waitEstablished(t, b, "r")
	// FRR shows the empty AS_PATH of an iBGP route as "Local".
	waitFRRRoute(t, f, "ipv4", pfxA, frrSummary{NextHop: l.node4.String(), ASPath: "Local", LocalPref: 200})
}

// dynamicASN "external" towards a router in our own AS: the session is
// closed as soon as it comes up, the status says why, and the route does
// not stay at the router.
func TestFRRDynamicExternalRefusesOwnAS(t *testing.T) {
	_, f, b := dynamicPeer(t, 64500, bgp.DynamicExternal, 0)
	eventually(t, 30*time.Second, "the refusal in the status", func() error {
		st, err := peerStatus(b, "r")
		if err != nil {
			return err
		}
		if !strings.Contains(st.LastError, "dynamicASN is external") || st.State == bgp.StateEstablished {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
	// Over the next seconds the session never stays up and the router
	// ends up without the route.
	eventually(t, 10*time.Second, "no route at the router", func() error {
		if paths, err := f.route("ipv4", pfxA); err == nil && len(paths) > 0 {
			return fmt.Errorf("FRR has %d paths", len(paths))
		}
		return nil
	})
	for range 6 {
		time.Sleep(500 * time.Millisecond)
		if st, err := peerStatus(b, "r"); err == nil && st.State == bgp.StateEstablished {
			// It may come up for a moment on a retry, then closes again;
			// it must not stay up.
			time.Sleep(time.Second)
			if st, err := peerStatus(b, "r"); err == nil && st.State == bgp.StateEstablished {
				t.Fatalf("session stayed established: %+v", st)
			}
		}
	}
}

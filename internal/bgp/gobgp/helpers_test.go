package gobgp

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// recorder is a bgp.Recorder that keeps what it is told, with times.
type recorder struct {
	mu       sync.Mutex
	up       map[string]bool
	sent     map[string]bgp.MessageCounts
	received map[string]bgp.MessageCounts
	prefixes map[string][2]int
	bfd      []bfdCall
	// bfdIn, bfdOut and bfdNotifs add up the BFD counters per peer.
	bfdIn, bfdOut, bfdNotifs map[string]uint64
	echoIn, echoOut          map[string]uint64
	removed                  []string
}

type bfdCall struct {
	peer string
	up   bool
	at   time.Time
}

func newRecorder() *recorder {
	return &recorder{up: map[string]bool{}, prefixes: map[string][2]int{},
		sent: map[string]bgp.MessageCounts{}, received: map[string]bgp.MessageCounts{},
		bfdIn: map[string]uint64{}, bfdOut: map[string]uint64{}, bfdNotifs: map[string]uint64{},
		echoIn: map[string]uint64{}, echoOut: map[string]uint64{}}
}

func (r *recorder) SessionUp(peer string, up bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.up[peer] = up
}

func (r *recorder) Messages(peer string, sent, received bgp.MessageCounts) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent[peer] = r.sent[peer].Add(sent)
	r.received[peer] = r.received[peer].Add(received)
}

func (r *recorder) BFDControlPackets(peer string, in, out uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bfdIn[peer] += in
	r.bfdOut[peer] += out
}

func (r *recorder) BFDEchoPackets(peer string, in, out uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.echoIn[peer] += in
	r.echoOut[peer] += out
}

// echoCounters returns the echo packets that came back and those sent.
func (r *recorder) echoCounters(peer string) (in, out uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.echoIn[peer], r.echoOut[peer]
}

func (r *recorder) BFDNotification(peer string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bfdNotifs[peer]++
}

func (r *recorder) Prefixes(peer string, announced, pending int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prefixes[peer] = [2]int{announced, pending}
}

func (r *recorder) BFDSessionUp(peer string, up bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bfd = append(r.bfd, bfdCall{peer, up, time.Now()})
}

func (r *recorder) PeerRemoved(peer, bfdPeer string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = append(r.removed, peer)
	delete(r.up, peer)
	delete(r.prefixes, peer)
}

// messages returns the BGP messages recorded for peer.
func (r *recorder) messages(peer string) (sent, received bgp.MessageCounts) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent[peer], r.received[peer]
}

// bfdCounters returns the BFD counters recorded for peer.
func (r *recorder) bfdCounters(peer string) (in, out, notifs uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bfdIn[peer], r.bfdOut[peer], r.bfdNotifs[peer]
}

func (r *recorder) snapshot(peer string) (up bool, updates uint64, prefixes [2]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.up[peer], r.sent[peer].Update, r.prefixes[peer]
}

// lastBFD returns the last BFD transition recorded for peer after since.
func (r *recorder) lastBFD(peer string, up bool, since time.Time) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.bfd) - 1; i >= 0; i-- {
		c := r.bfd[i]
		if c.peer == peer && c.up == up && c.at.After(since) {
			return c.at, true
		}
	}
	return time.Time{}, false
}

// route is what a router has for a prefix, in comparable form.
type route struct {
	NextHop     string
	ASPath      string
	LocalPref   uint32
	Communities string
	Large       string
}

// gobgpdRoute summarizes the single path gobgpd has for a prefix.
func gobgpdRoute(paths []gobgpdPath) (route, error) {
	if len(paths) != 1 {
		return route{}, fmt.Errorf("%d paths", len(paths))
	}
	var r route
	num := func(v any) uint64 { f, _ := v.(float64); return uint64(f) }
	for _, a := range paths[0].Attrs {
		switch num(a["type"]) {
		case 2:
			segs, _ := a["as_paths"].([]any)
			for _, s := range segs {
				for _, as := range s.(map[string]any)["asns"].([]any) {
					r.ASPath += fmt.Sprintf("%d ", num(as))
				}
			}
		case 3, 14:
			r.NextHop, _ = a["nexthop"].(string)
		case 5:
			r.LocalPref = uint32(num(a["value"]))
		case 8:
			for _, c := range a["communities"].([]any) {
				v := num(c)
				r.Communities += fmt.Sprintf("%d:%d ", v>>16, v&0xffff)
			}
		case 32:
			for _, c := range a["value"].([]any) {
				m := c.(map[string]any)
				r.Large += fmt.Sprintf("%d:%d:%d ", num(m["ASN"]), num(m["LocalData1"]), num(m["LocalData2"]))
			}
		}
	}
	return r, nil
}

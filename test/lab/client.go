package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// httpTimeout bounds one HTTP request made by the lab.
const httpTimeout = 3 * time.Second

// Curl fetches http://ip/ from the client namespace and returns the body:
// the name of the node whose backend answered. One attempt, at most 3 s.
func (l *Lab) Curl(ctx context.Context, ip string) (string, error) {
	return l.CurlFrom(ctx, "client", ip, BackendPort)
}

// CurlFrom fetches http://ip:port/ from a host's namespace ("client",
// "node1"...) and returns the body. Any status but 200 is an error.
func (l *Lab) CurlFrom(ctx context.Context, from, ip string, port int) (string, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "", fmt.Errorf("lab: %w", err)
	}
	url := "http://" + netip.AddrPortFrom(a, uint16(port)).String() + "/"
	code, body, err := l.get(ctx, from, url)
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("lab: GET %s from %s: status %d: %s", url, from, code, body)
	}
	return body, nil
}

// Ping sends one ICMP echo from a host's namespace; nil means an answer
// came within a second.
func (l *Lab) Ping(ctx context.Context, from, ip string) error {
	_, err := l.Exec(ctx, from, "ping", "-n", "-c", "1", "-W", "1", ip)
	return err
}

var (
	arpReply = regexp.MustCompile(`reply from \S+ \[([0-9A-Fa-f:]+)\]`)
	ndpReply = regexp.MustCompile(`Target link-layer address: ([0-9A-Fa-f:]+)`)
)

// ARPing asks for ip from the client with broadcast ARP requests (up to
// 2 s) and returns the MAC of the first answer and how many distinct MACs
// answered: 1 means one announcer, 0 none, more is a conflict.
func (l *Lab) ARPing(ctx context.Context, ip string) (mac string, n int, err error) {
	out, err := nsExec(ctx, l.Client.NS, "arping", "-b", "-I", "eth0", "-c", "2", "-w", "2", ip)
	if err != nil && !exitCode(err, 1) { // 1: no reply
		return "", 0, err
	}
	macs := distinctMACs(arpReply, out)
	if len(macs) == 0 {
		return "", 0, nil
	}
	return macs[0], len(macs), nil
}

// NDisc sends IPv6 neighbor solicitations for ip from the client (two
// tries, 1 s each) and returns the distinct MACs that answered.
func (l *Lab) NDisc(ctx context.Context, ip string) ([]string, error) {
	out, err := nsExec(ctx, l.Client.NS, "ndisc6", "-m", "-n", "-r", "2", "-w", "1000", ip, "eth0")
	if err != nil && !exitCode(err, 2) { // 2: no response
		return nil, err
	}
	return distinctMACs(ndpReply, out), nil
}

// Answer is what the client sees when it resolves an address on the LAN.
type Answer struct {
	// Node is the node owning the first MAC that answered: "" if none
	// answered, "unknown MAC <mac>" if it is no node's.
	Node string
	// MACs is how many distinct MACs answered: 1 is one announcer, 2+ a
	// conflict.
	MACs int
}

func (a Answer) String() string {
	if a.MACs == 0 {
		return "no answer"
	}
	return fmt.Sprintf("%s (%d MACs)", a.Node, a.MACs)
}

// Resolve asks for ip from the client (ARP for IPv4, neighbor
// solicitation for IPv6) and tells which node answered.
func (l *Lab) Resolve(ctx context.Context, ip string) (Answer, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return Answer{}, fmt.Errorf("lab: %w", err)
	}
	var first string
	var n int
	if a.Is4() {
		if first, n, err = l.ARPing(ctx, ip); err != nil {
			return Answer{}, err
		}
	} else {
		macs, err := l.NDisc(ctx, ip)
		if err != nil {
			return Answer{}, err
		}
		if n = len(macs); n > 0 {
			first = macs[0]
		}
	}
	if n == 0 {
		return Answer{}, nil
	}
	for _, node := range l.Nodes {
		if node.MAC.String() == first {
			return Answer{Node: node.Name, MACs: n}, nil
		}
	}
	return Answer{Node: "unknown MAC " + first, MACs: n}, nil
}

// NodeMAC returns the MAC address of a node's LAN interface, as a
// lower-case string like ARPing's.
func (l *Lab) NodeMAC(node string) (string, error) {
	n, err := l.Node(node)
	if err != nil {
		return "", err
	}
	return n.MAC.String(), nil
}

// ClientNeighbor returns the MAC the client's neighbor table holds for ip
// ("" when it has none, or only an unresolved entry).
func (l *Lab) ClientNeighbor(ctx context.Context, ip string) (string, error) {
	out, err := run(ctx, "", "ip", "-n", l.Client.NS, "-j", "neigh", "show", "to", ip, "dev", "eth0")
	if err != nil {
		return "", err
	}
	var entries []struct {
		LLAddr string `json:"lladdr"`
	}
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		return "", fmt.Errorf("lab: neighbor table: %w", err)
	}
	for _, e := range entries {
		if e.LLAddr != "" {
			return normalMAC(e.LLAddr), nil
		}
	}
	return "", nil
}

// FlushClientNeighbors empties the client's neighbor table, so its next
// packet to any address asks the LAN again.
func (l *Lab) FlushClientNeighbors(ctx context.Context) error {
	return ipBatch(ctx, l.Client.NS, "neigh flush dev eth0")
}

func distinctMACs(re *regexp.Regexp, out string) []string {
	var macs []string
	seen := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		mac := normalMAC(m[1])
		if !seen[mac] {
			seen[mac] = true
			macs = append(macs, mac)
		}
	}
	return macs
}

func normalMAC(s string) string {
	if hw, err := net.ParseMAC(s); err == nil {
		return hw.String()
	}
	return strings.ToLower(s)
}

func exitCode(err error, code int) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == code
}

package tlsopts

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// Option returns a function that applies the flag values to a tls.Config.
// minVersion is VersionTLS12 or VersionTLS13 ("" = TLS 1.3); suites and
// curves are comma-separated Go names (empty = Go's defaults).
func Option(minVersion, suites, curves string) (func(*tls.Config), error) {
	var min uint16
	switch minVersion {
	case "VersionTLS12":
		min = tls.VersionTLS12
	case "VersionTLS13", "":
		min = tls.VersionTLS13
	default:
		return nil, fmt.Errorf("invalid TLS minimum version %q: want VersionTLS12 or VersionTLS13", minVersion)
	}
	ids, err := cipherSuites(suites)
	if err != nil {
		return nil, err
	}
	cs, err := curvePreferences(curves)
	if err != nil {
		return nil, err
	}
	return func(c *tls.Config) {
		c.MinVersion = min
		c.CipherSuites = ids
		c.CurvePreferences = cs
		// HTTP/1.1 only: HTTP/2 rapid-reset exposure is not worth it here.
		c.NextProtos = []string{"http/1.1"}
	}, nil
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func cipherSuites(s string) ([]uint16, error) {
	byName := map[string]uint16{}
	for _, c := range tls.CipherSuites() {
		byName[c.Name] = c.ID
	}
	var ids []uint16
	for _, name := range split(s) {
		id, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("unknown or insecure TLS cipher suite %q", name)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

var curves = map[string]tls.CurveID{
	"CurveP256": tls.CurveP256, "CurveP384": tls.CurveP384, "CurveP521": tls.CurveP521,
	"X25519": tls.X25519, "X25519MLKEM768": tls.X25519MLKEM768,
}

func curvePreferences(s string) ([]tls.CurveID, error) {
	var out []tls.CurveID
	for _, name := range split(s) {
		id, ok := curves[name]
		if !ok {
			return nil, fmt.Errorf("unknown TLS curve %q", name)
		}
		out = append(out, id)
	}
	return out, nil
}

package tlsopts

import (
	"crypto/tls"
	"testing"
)

func TestOption(t *testing.T) {
	opt, err := Option("VersionTLS12", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "X25519,CurveP256")
	if err != nil {
		t.Fatal(err)
	}
	var c tls.Config
	opt(&c)
	if c.MinVersion != tls.VersionTLS12 || len(c.CipherSuites) != 2 || len(c.CurvePreferences) != 2 {
		t.Errorf("got min %x suites %v curves %v", c.MinVersion, c.CipherSuites, c.CurvePreferences)
	}
	opt, err = Option("", "", "")
	if err != nil {
		t.Fatal(err)
	}
	c = tls.Config{}
	opt(&c)
	if c.MinVersion != tls.VersionTLS13 || c.CipherSuites != nil {
		t.Errorf("defaults: got min %x suites %v", c.MinVersion, c.CipherSuites)
	}
	for _, bad := range [][3]string{{"VersionTLS10", "", ""}, {"", "TLS_NOPE", ""}, {"", "", "CurveNope"}} {
		if _, err := Option(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("Option%v accepted", bad)
		}
	}
}

package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func params() Params {
	return Params{
		DNSNames:     ServiceDNSNames("metallb-webhook-service", "metallb-system"),
		IPs:          []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		CALifetime:   DefaultCALifetime,
		CertLifetime: DefaultCertLifetime,
		Lookahead:    DefaultLookahead,
	}
}

func mustPlan(t *testing.T, cur map[string][]byte, p Params, now time.Time) (map[string][]byte, string) {
	t.Helper()
	next, reason, err := Plan(cur, p, now)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return next, reason
}

func leafOf(t *testing.T, data map[string][]byte) *x509.Certificate {
	t.Helper()
	pair, err := tls.X509KeyPair(data[KeyCert], data[KeyKey])
	if err != nil {
		t.Fatalf("tls.crt/tls.key: %v", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// verify checks the serving certificate against the bundle the way the
// API server does, for every wanted name.
func verify(t *testing.T, data map[string][]byte, p Params, now time.Time) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(data[KeyCACert]) {
		t.Fatal("ca.crt holds no certificate")
	}
	leaf := leafOf(t, data)
	names := append([]string{}, p.DNSNames...)
	for _, ip := range p.IPs {
		names = append(names, ip.String())
	}
	for _, n := range names {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: n, CurrentTime: now}); err != nil {
			t.Errorf("certificate does not verify for %q: %v", n, err)
		}
	}
}

func TestPlanFromNothing(t *testing.T) {
	p := params()
	data, reason := mustPlan(t, nil, p, t0)
	if reason == "" {
		t.Fatal("empty Secret: want a new certificate, Plan kept it")
	}
	for _, k := range []string{KeyCACert, KeyCAKey, KeyCert, KeyKey} {
		if len(data[k]) == 0 {
			t.Errorf("key %s is empty", k)
		}
	}
	verify(t, data, p, t0)
	ca := parseCerts(data[KeyCACert])
	if len(ca) != 1 {
		t.Fatalf("ca.crt holds %d certificates, want 1", len(ca))
	}
	if got, want := ca[0].NotAfter.Sub(t0), DefaultCALifetime; got != want {
		t.Errorf("CA lifetime %s, want %s", got, want)
	}
	if ca[0].Subject.CommonName != "cert" || ca[0].Subject.Organization[0] != "metallb" {
		t.Errorf("CA subject %v, want CN=cert O=metallb", ca[0].Subject)
	}
	if got, want := leafOf(t, data).NotAfter.Sub(t0), DefaultCertLifetime; got != want {
		t.Errorf("certificate lifetime %s, want %s", got, want)
	}

	// A fresh Secret is stable.
	again, reason := mustPlan(t, data, p, t0.Add(time.Hour))
	if reason != "" {
		t.Errorf("valid Secret: Plan wants a change: %s", reason)
	}
	for k := range data {
		if !bytes.Equal(again[k], data[k]) {
			t.Errorf("key %s changed", k)
		}
	}
}

func TestPlanRenewsCertWithinLookahead(t *testing.T) {
	p := params()
	data, _ := mustPlan(t, nil, p, t0)
	oldSerial := leafOf(t, data).SerialNumber

	justBefore := t0.Add(DefaultCertLifetime - DefaultLookahead - time.Minute)
	if _, reason := mustPlan(t, data, p, justBefore); reason != "" {
		t.Fatalf("outside the lookahead: Plan wants a change: %s", reason)
	}
	inside := t0.Add(DefaultCertLifetime - DefaultLookahead + time.Minute)
	next, reason := mustPlan(t, data, p, inside)
	if !strings.Contains(reason, "serving certificate expires") {
		t.Fatalf("inside the lookahead: reason %q, want the certificate's expiry", reason)
	}
	if leafOf(t, next).SerialNumber.Cmp(oldSerial) == 0 {
		t.Error("certificate not re-issued")
	}
	if !bytes.Equal(next[KeyCACert], data[KeyCACert]) || !bytes.Equal(next[KeyCAKey], data[KeyCAKey]) {
		t.Error("re-issuing the certificate changed the CA: the injected bundle would go stale")
	}
	verify(t, next, p, inside)
}

func TestPlanRotatesCAKeepingTheOldOne(t *testing.T) {
	p := params()
	p.CALifetime = 2 * DefaultCertLifetime
	data, _ := mustPlan(t, nil, p, t0)
	oldCA := parseCerts(data[KeyCACert])[0]

	now := t0.Add(p.CALifetime - p.Lookahead + time.Hour)
	next, reason := mustPlan(t, data, p, now)
	if !strings.Contains(reason, "CA expires") {
		t.Fatalf("reason %q, want the CA's expiry", reason)
	}
	bundle := parseCerts(next[KeyCACert])
	if len(bundle) != 2 || bundle[0].Equal(oldCA) || !bundle[1].Equal(oldCA) {
		t.Fatalf("bundle after CA rotation: %d certificates; want the new CA then the old one", len(bundle))
	}
	if err := leafOf(t, next).CheckSignatureFrom(bundle[0]); err != nil {
		t.Errorf("certificate not signed by the new CA: %v", err)
	}
	verify(t, next, p, now)

	// Once the old CA has expired it leaves the bundle.
	later := oldCA.NotAfter.Add(time.Hour)
	pruned, reason := mustPlan(t, next, p, later)
	if !strings.Contains(reason, "previous CA expired") {
		t.Fatalf("reason %q, want the old CA pruned", reason)
	}
	if n := len(parseCerts(pruned[KeyCACert])); n != 1 {
		t.Errorf("bundle holds %d certificates after the old CA expired, want 1", n)
	}
}

func TestPlanRepairs(t *testing.T) {
	p := params()
	good, _ := mustPlan(t, nil, p, t0)
	other, _ := mustPlan(t, nil, p, t0)
	tests := []struct {
		name    string
		data    map[string][]byte
		p       Params
		reason  string
		sameCA  bool
		extraOK bool
	}{
		{name: "garbage certificate", data: with(good, KeyCert, []byte("junk")), reason: "serving certificate", sameCA: true},
		{name: "key of another certificate", data: with(good, KeyKey, other[KeyKey]), reason: "serving certificate", sameCA: true},
		{name: "certificate of another CA", data: with(with(good, KeyCert, other[KeyCert]), KeyKey, other[KeyKey]), reason: "not signed by the current CA", sameCA: true},
		{name: "missing CA key", data: with(good, KeyCAKey, nil), reason: "CA key"},
		{name: "CA key of another CA", data: with(good, KeyCAKey, other[KeyCAKey]), reason: "does not match"},
		{name: "new DNS name wanted", data: good, p: func() Params { q := p; q.DNSNames = append(q.DNSNames, "x.example"); return q }(),
			reason: `does not cover DNS name "x.example"`, sameCA: true},
		{name: "new IP wanted", data: good, p: func() Params { q := p; q.IPs = append(q.IPs, netip.MustParseAddr("::1")); return q }(),
			reason: "does not cover IP ::1", sameCA: true},
		{name: "extra keys kept", data: with(good, "other", []byte("x")), extraOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pp := p
			if tt.p.CertLifetime != 0 {
				pp = tt.p
			}
			next, reason := mustPlan(t, tt.data, pp, t0)
			if tt.reason == "" {
				if reason != "" {
					t.Fatalf("Plan wants a change: %s", reason)
				}
			} else if !strings.Contains(reason, tt.reason) {
				t.Fatalf("reason %q, want it to contain %q", reason, tt.reason)
			}
			if tt.extraOK && string(next["other"]) != "x" {
				t.Error("unrelated key lost")
			}
			if tt.sameCA && !bytes.Equal(next[KeyCACert], tt.data[KeyCACert]) {
				t.Error("CA replaced, want it kept")
			}
			verify(t, next, pp, t0)
		})
	}
}

func with(m map[string][]byte, k string, v []byte) map[string][]byte {
	out := map[string][]byte{}
	for kk, vv := range m {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func TestPlanRejectsBadParams(t *testing.T) {
	for _, p := range []Params{
		{CALifetime: time.Hour, CertLifetime: time.Hour, Lookahead: time.Minute},
		{DNSNames: []string{"a"}, CALifetime: time.Hour, CertLifetime: time.Hour, Lookahead: time.Hour},
		{DNSNames: []string{"a"}, CALifetime: time.Hour, CertLifetime: 0, Lookahead: 0},
	} {
		if _, _, err := Plan(nil, p, t0); err == nil {
			t.Errorf("Plan(%+v): no error", p)
		}
	}
}

func TestParseSANs(t *testing.T) {
	dns, ips := ParseSANs(" 127.0.0.1, webhook.example ,,::1,::ffff:192.0.2.1")
	if len(dns) != 1 || dns[0] != "webhook.example" {
		t.Errorf("DNS names %q, want [webhook.example]", dns)
	}
	want := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1"), netip.MustParseAddr("192.0.2.1")}
	if len(ips) != len(want) {
		t.Fatalf("IPs %v, want %v", ips, want)
	}
	for i := range want {
		if ips[i] != want[i] {
			t.Errorf("IPs %v, want %v", ips, want)
		}
	}
	if d, i := ParseSANs(""); d != nil || i != nil {
		t.Errorf("empty list gave %v %v", d, i)
	}
}

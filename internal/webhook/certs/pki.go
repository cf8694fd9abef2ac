package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Keys of the certificate Secret.
const (
	KeyCACert = "ca.crt" // PEM: the signing CA first, then a previous CA still valid
	KeyCAKey  = "ca.key" // PEM PKCS#8: the signing CA's key
	KeyCert   = "tls.crt"
	KeyKey    = "tls.key"
)

// Subject names, as MetalLB's rotator uses them.
const (
	caCommonName = "cert"
	organization = "metallb"
)

// backdate moves NotBefore into the past so clocks a little behind ours
// still accept a fresh certificate.
const backdate = time.Hour

// Params says what certificate is wanted.
type Params struct {
	// DNSNames and IPs are the subject alternative names the serving
	// certificate must carry (at least one of the two lists is non-empty).
	DNSNames []string
	IPs      []netip.Addr
	// CALifetime and CertLifetime are the validity of a new CA and of a new
	// serving certificate; Lookahead is how long before expiry either is
	// replaced. Lookahead must be shorter than both lifetimes.
	CALifetime, CertLifetime, Lookahead time.Duration
}

func (p Params) validate() error {
	switch {
	case len(p.DNSNames) == 0 && len(p.IPs) == 0:
		return errors.New("certs: no DNS name or IP for the serving certificate")
	case p.CALifetime <= 0 || p.CertLifetime <= 0:
		return errors.New("certs: lifetimes must be positive")
	case p.Lookahead < 0 || p.Lookahead >= p.CertLifetime || p.Lookahead >= p.CALifetime:
		return fmt.Errorf("certs: lookahead %s must be shorter than the certificate lifetime %s and the CA lifetime %s",
			p.Lookahead, p.CertLifetime, p.CALifetime)
	}
	return nil
}

// Plan returns the Secret data to store, given the current data cur and
// the time now. When cur is fine, Plan returns it unchanged and an empty
// reason; otherwise it returns new data (a copy: cur is not modified) and
// why. Keys of cur other than the four it owns are kept.
//
// The CA is kept while it parses, matches its key and does not expire
// within the lookahead; otherwise a new one is made and the old one stays
// second in ca.crt while it is still valid (and not longer than that). The
// serving certificate is kept while it parses, matches its key, is signed
// by the CA, covers every wanted name and does not expire within the
// lookahead; otherwise it is re-issued.
func Plan(cur map[string][]byte, p Params, now time.Time) (next map[string][]byte, reason string, err error) {
	if err := p.validate(); err != nil {
		return nil, "", err
	}
	next = maps.Clone(cur)
	if next == nil {
		next = map[string][]byte{}
	}
	var reasons []string

	bundle := parseCerts(cur[KeyCACert])
	ca, caKey, caProblem := currentCA(bundle, cur[KeyCAKey], now, p.Lookahead)
	if caProblem != "" {
		reasons = append(reasons, caProblem)
		newCA, newKey, err := newCA(now, p.CALifetime)
		if err != nil {
			return nil, "", err
		}
		pems := [][]byte{encodeCert(newCA.Raw)}
		if ca != nil && now.Before(ca.NotAfter) {
			pems = append(pems, encodeCert(ca.Raw)) // keep trusting the old CA while it lives
		}
		keyPEM, err := encodeKey(newKey)
		if err != nil {
			return nil, "", err
		}
		next[KeyCACert], next[KeyCAKey] = bytes.Join(pems, nil), keyPEM
		ca, caKey = newCA, newKey
	} else if len(bundle) > 1 {
		// Drop previous CAs once expired.
		pems := [][]byte{encodeCert(bundle[0].Raw)}
		for _, old := range bundle[1:] {
			if now.Before(old.NotAfter) {
				pems = append(pems, encodeCert(old.Raw))
			}
		}
		if len(pems) < len(bundle) {
			reasons = append(reasons, "a previous CA expired")
			next[KeyCACert] = bytes.Join(pems, nil)
		}
	}

	if problem := certProblem(cur[KeyCert], cur[KeyKey], ca, p, now); problem != "" {
		reasons = append(reasons, problem)
		certPEM, keyPEM, err := issue(ca, caKey, p, now)
		if err != nil {
			return nil, "", err
		}
		next[KeyCert], next[KeyKey] = certPEM, keyPEM
	}
	if len(reasons) == 0 {
		return cur, "", nil
	}
	return next, strings.Join(reasons, "; "), nil
}

// currentCA returns the signing CA (first of the bundle) and its key, and
// a non-empty problem when it must be replaced. The CA is returned even
// when it must be replaced, so the caller can keep trusting it.
func currentCA(bundle []*x509.Certificate, keyPEM []byte, now time.Time, lookahead time.Duration) (*x509.Certificate, crypto.Signer, string) {
	if len(bundle) == 0 {
		return nil, nil, "no CA certificate"
	}
	ca := bundle[0]
	key, err := parseKey(keyPEM)
	switch {
	case err != nil:
		return ca, nil, "CA key: " + err.Error()
	case !ca.IsCA:
		return ca, nil, "CA certificate is not a CA"
	case !publicKeysEqual(ca.PublicKey, key.Public()):
		return ca, nil, "CA key does not match the CA certificate"
	case !ca.NotAfter.After(now.Add(lookahead)):
		return ca, nil, fmt.Sprintf("CA expires at %s, within the lookahead", ca.NotAfter.UTC().Format(time.RFC3339))
	}
	return ca, key, ""
}

// certProblem says why the serving certificate must be re-issued, or "".
func certProblem(certPEM, keyPEM []byte, ca *x509.Certificate, p Params, now time.Time) string {
	if len(certPEM) == 0 {
		return "no serving certificate"
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return "serving certificate: " + err.Error()
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return "serving certificate: " + err.Error()
		}
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		return "serving certificate is not signed by the current CA"
	}
	if !leaf.NotAfter.After(now.Add(p.Lookahead)) {
		return fmt.Sprintf("serving certificate expires at %s, within the lookahead", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return "serving certificate is not valid yet"
	}
	for _, n := range p.DNSNames {
		if !slices.Contains(leaf.DNSNames, n) {
			return fmt.Sprintf("serving certificate does not cover DNS name %q", n)
		}
	}
	for _, ip := range p.IPs {
		if !slices.ContainsFunc(leaf.IPAddresses, func(have net.IP) bool {
			a, ok := netip.AddrFromSlice(have)
			return ok && a.Unmap() == ip.Unmap()
		}) {
			return fmt.Sprintf("serving certificate does not cover IP %s", ip)
		}
	}
	return ""
}

func newCA(now time.Time, lifetime time.Duration) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: CA key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: caCommonName, Organization: []string{organization}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: CA certificate: %w", err)
	}
	return ca, key, nil
}

// issue makes a serving certificate signed by ca, valid for p.CertLifetime
// (never beyond the CA's own expiry).
func issue(ca *x509.Certificate, caKey crypto.Signer, p Params, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: serving key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(p.CertLifetime)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	cn := ""
	if len(p.DNSNames) > 0 {
		cn = p.DNSNames[0]
	} else {
		cn = p.IPs[0].String()
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{organization}},
		DNSNames:     slices.Clone(p.DNSNames),
		NotBefore:    now.Add(-backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, ip := range p.IPs {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.Unmap().AsSlice()))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: serving certificate: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return encodeCert(der), keyPEM, nil
}

func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certs: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certs: encoding key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parseCerts returns the certificates of a PEM bundle, skipping blocks
// that are not certificates or do not parse.
func parseCerts(data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			out = append(out, c)
		}
	}
}

func parseKey(data []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch b.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("unexpected PEM block %q", b.Type)
	}
	if err != nil {
		return nil, err
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T", key)
	}
	return s, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// Package identitytest mints SPIFFE X.509 SVIDs from an in-memory CA for
// tests: real certificates, real keys, no files.
//
//	ca := identitytest.NewCA(t, "iant.test")
//	svid := ca.SVID(t, identity.Principal{State: "MX", Role: identity.RoleNode, Name: "node"})
//	creds := identity.ServerCredentials(svid, ca.Bundle())
package identitytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/identity"
)

// CA is an in-memory certificate authority for one trust domain.
type CA struct {
	TD   spiffeid.TrustDomain
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA creates a CA for the trust domain named td.
func NewCA(tb testing.TB, td string) *CA {
	tb.Helper()
	trust := spiffeid.RequireTrustDomainFromString(td)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"IANT test"}, CommonName: td + " CA"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		URIs:                  []*url.URL{trust.ID().URL()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &CA{TD: trust, cert: cert, key: key}
}

// Bundle returns the CA's trust bundle.
func (ca *CA) Bundle() *x509bundle.Bundle {
	return x509bundle.FromX509Authorities(ca.TD, []*x509.Certificate{ca.cert})
}

// SVID mints an SVID for principal p in the CA's trust domain.
func (ca *CA) SVID(tb testing.TB, p identity.Principal) *x509svid.SVID {
	tb.Helper()
	return ca.SVIDForID(tb, p.ID(ca.TD))
}

// SVIDForID mints an SVID for any SPIFFE ID, even one outside the scheme or
// the CA's trust domain, so tests can present bad identities.
func (ca *CA) SVIDForID(tb testing.TB, id spiffeid.ID) *x509svid.SVID {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{id.URL()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &x509svid.SVID{ID: id, Certificates: []*x509.Certificate{cert}, PrivateKey: key}
}

// LoadCA loads a CA of trust domain td from PEM files, its certificate
// and its PKCS#8 key: e.g. the development PKI's (bundle.pem and
// ca/ca.key, see package devpki), so a test can mint an identity that PKI
// never issued.
func LoadCA(tb testing.TB, td spiffeid.TrustDomain, certFile, keyFile string) *CA {
	tb.Helper()
	block := func(name, typ string) []byte {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		p, _ := pem.Decode(b)
		if p == nil || p.Type != typ {
			tb.Fatalf("%s holds no PEM %s", name, typ)
		}
		return p.Bytes
	}
	cert, err := x509.ParseCertificate(block(certFile, "CERTIFICATE"))
	if err != nil {
		tb.Fatal(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(block(keyFile, "PRIVATE KEY"))
	if err != nil {
		tb.Fatal(err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		tb.Fatalf("%s: CA key of type %T, want ECDSA", keyFile, key)
	}
	return &CA{TD: td, cert: cert, key: ec}
}

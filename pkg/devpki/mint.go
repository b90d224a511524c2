package devpki

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
)

// organization is the only subject attribute of the SVIDs. Nothing may
// identify a principal by subject: the SPIFFE ID is the identity.
const organization = "IANT development"

// clockSkew backdates certificates so a peer whose clock is a little behind
// accepts them at once.
const clockSkew = 5 * time.Minute

// writer mints and writes one PKI.
type writer struct {
	dir               string
	td                spiffeid.TrustDomain
	created, notAfter time.Time // the CA's
	svidNotAfter      time.Time

	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
}

// write makes the CA, one SVID per principal, and last the manifest, so an
// interrupted run leaves no manifest that [Load] would trust.
func (w *writer) write(ctx context.Context, states []string, hubs int) (*Layout, error) {
	if err := w.writeCA(); err != nil {
		return nil, err
	}
	l := &Layout{
		Dir:          w.dir,
		BundleFile:   filepath.Join(w.dir, bundleName),
		TrustDomain:  w.td,
		States:       states,
		NotAfter:     w.notAfter,
		SVIDNotAfter: w.svidNotAfter,
	}
	for _, p := range principals(states, hubs) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := newEntry(w.dir, w.td, p)
		if err := w.writeSVID(e); err != nil {
			return nil, fmt.Errorf("SVID for %s: %w", p, err)
		}
		l.Entries = append(l.Entries, e)
	}
	if err := writeManifest(l, w.created); err != nil {
		return nil, err
	}
	return l, nil
}

// writeCA makes the self-signed CA and writes its key and the bundle.
func (w *writer) writeCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := serialNumber()
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{organization}, CommonName: "IANT development CA"},
		NotBefore:             w.created.Add(-clockSkew),
		NotAfter:              w.notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		URIs:                  []*url.URL{w.td.ID().URL()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create CA certificate: %w", err)
	}
	if w.caCert, err = x509.ParseCertificate(der); err != nil {
		return err
	}
	w.caKey = key
	if err := writeKey(filepath.Join(w.dir, caDir, caKeyName), key); err != nil {
		return err
	}
	return writeFile(filepath.Join(w.dir, bundleName), pemBlock("CERTIFICATE", der), 0o644)
}

// writeSVID mints the SVID of e, with a new key, and writes its key, then
// its certificate, each replacing the old file at once: a reader of the
// pair meanwhile sees a key that does not match and keeps what it had
// (identity.FileSource), until both are new.
func (w *writer) writeSVID(e Entry) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := serialNumber()
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{organization}},
		NotBefore:             w.created.Add(-clockSkew),
		NotAfter:              w.svidNotAfter,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:                  []*url.URL{e.ID.URL()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, w.caCert, &key.PublicKey, w.caKey)
	if err != nil {
		return fmt.Errorf("create certificate: %w", err)
	}
	if err := writeKey(e.KeyFile, key); err != nil {
		return err
	}
	return replaceFile(e.CertFile, pemBlock("CERTIFICATE", der), 0o644)
}

// newEntry returns the entry of p in the PKI at dir.
func newEntry(dir string, td spiffeid.TrustDomain, p identity.Principal) Entry {
	stem := Stem(p)
	return Entry{
		Principal: p,
		ID:        p.ID(td),
		Stem:      stem,
		CertFile:  filepath.Join(dir, svidDir, stem+".pem"),
		KeyFile:   filepath.Join(dir, svidDir, stem+".key"),
	}
}

// writeKey writes key as a PKCS#8 PEM "PRIVATE KEY" with mode 0600.
func writeKey(name string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return replaceFile(name, pemBlock("PRIVATE KEY", der), 0o600)
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// serialNumber returns a random positive 127-bit serial number.
func serialNumber() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

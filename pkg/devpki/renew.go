package devpki

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// RenewOptions says what [Renew] renews.
type RenewOptions struct {
	// SVIDValidity is how long the new SVIDs are valid, cut to the CA's
	// NotAfter; zero means [DefaultSVIDValidity].
	SVIDValidity time.Duration
	// Only lists the SPIFFE IDs to renew; empty renews every SVID.
	Only []spiffeid.ID
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Renew issues new SVIDs, each with a new key and serial number, for the
// principals of the PKI in dir (all of them, or opts.Only), signed by its
// CA, and writes them over the old files. A process reading its SVID from
// the files ([identity.FileSource]) takes the new one on its next
// handshake, without a restart; open connections stay up. The old
// certificates stay valid until they expire: deny a stolen one by serial
// number (iant admin deny).
//
// [identity.FileSource]: https://pkg.go.dev/github.com/oas-cicte/iant/pkg/identity#FileSource
func Renew(ctx context.Context, dir string, opts RenewOptions) (*Layout, error) {
	l, err := Load(dir)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	w := &writer{dir: l.Dir, td: l.TrustDomain, created: now().UTC().Truncate(time.Second), notAfter: l.NotAfter}
	if !w.created.Before(l.NotAfter) {
		return nil, fmt.Errorf("devpki: the CA of %s expired on %s: make a new PKI (iant certs init --force)", l.Dir, l.NotAfter.Format(time.DateOnly))
	}
	w.svidNotAfter = w.created.Add(cmp.Or(opts.SVIDValidity, DefaultSVIDValidity))
	if w.svidNotAfter.After(l.NotAfter) {
		w.svidNotAfter = l.NotAfter
	}
	if err := w.readCA(); err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	renewed := 0
	for _, e := range l.Entries {
		if len(opts.Only) > 0 && !slices.Contains(opts.Only, e.ID) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := w.writeSVID(e); err != nil {
			return nil, fmt.Errorf("devpki: renew %s: %w", e.Principal, err)
		}
		renewed++
	}
	if renewed == 0 {
		return nil, fmt.Errorf("devpki: no SVID of %s is one of %v", l.Dir, opts.Only)
	}
	if l.SVIDNotAfter, err = l.expiry(); err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	return l, nil
}

// readCA reads the CA certificate and key that Init wrote.
func (w *writer) readCA() error {
	certPEM, err := os.ReadFile(filepath.Join(w.dir, bundleName))
	if err != nil {
		return err
	}
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return fmt.Errorf("%s holds no PEM certificate", bundleName)
	}
	if w.caCert, err = x509.ParseCertificate(b.Bytes); err != nil {
		return fmt.Errorf("%s: %w", bundleName, err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(w.dir, caDir, caKeyName))
	if err != nil {
		return err
	}
	if b, _ = pem.Decode(keyPEM); b == nil {
		return fmt.Errorf("%s holds no PEM key", caKeyName)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return fmt.Errorf("%s: %w", caKeyName, err)
	}
	var ok bool
	if w.caKey, ok = k.(*ecdsa.PrivateKey); !ok {
		return fmt.Errorf("%s is not an ECDSA key", caKeyName)
	}
	return nil
}

// expiry returns when the first SVID of the layout expires, read from the
// certificate files.
func (l *Layout) expiry() (time.Time, error) {
	var first time.Time
	for _, e := range l.Entries {
		c, err := readCert(e.CertFile)
		if err != nil {
			return time.Time{}, err
		}
		na := c.NotAfter
		if first.IsZero() || na.Before(first) {
			first = na
		}
	}
	if first.IsZero() {
		return time.Time{}, errors.New("devpki: no SVID")
	}
	return first, nil
}

// readCert reads the first certificate of a PEM file.
func readCert(name string) (*x509.Certificate, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("devpki: %s holds no PEM certificate", name)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("devpki: %s: %w", name, err)
	}
	return c, nil
}

// replaceFile writes data to name with mode perm through a new file
// renamed over it, so a reader sees the old content or the new, whole.
func replaceFile(name string, data []byte, perm os.FileMode) error {
	tmp := name + ".new"
	if err := writeFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

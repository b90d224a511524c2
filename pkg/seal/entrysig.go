package seal

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/identity"
)

// entryMagic starts a signed directory entry.
const entryMagic = "IANTDENT"

// SignEntry signs e with the node's SVID and returns the signed entry:
//
//	"IANTDENT" u8(1) blob32(entry) blob16(signature) u8(n) n × blob32(cert DER)
//
// The signature is made by the SVID's key over "iant/directory-entry/v1\x00"
// ‖ entry (ECDSA and RSA-PSS over its SHA-256, Ed25519 directly); the
// certificates are the SVID's chain, leaf first. The SVID must be that of
// e.NodeID, the node of e.State, and be valid at e.NotBefore.
//
// It returns an error wrapping [ErrMalformed], [ErrVersion], [ErrKey] or
// [ErrEntrySigner].
func SignEntry(e DirectoryEntry, svid *x509svid.SVID) ([]byte, error) {
	b, err := signEntry(e, svid)
	if err != nil {
		return nil, fmt.Errorf("seal: sign directory entry: %w", err)
	}
	return b, nil
}

func signEntry(e DirectoryEntry, svid *x509svid.SVID) ([]byte, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	if err := e.checkKeys(); err != nil {
		return nil, err
	}
	switch {
	case svid == nil || len(svid.Certificates) == 0 || svid.PrivateKey == nil:
		return nil, fmt.Errorf("%w: SVID without certificate or key", ErrKey)
	case len(svid.Certificates) > maxChain:
		return nil, fmt.Errorf("%w: chain of %d certificates", ErrMalformed, len(svid.Certificates))
	case svid.ID.String() != e.NodeID:
		return nil, fmt.Errorf("%w: SVID %s cannot sign for %s", ErrEntrySigner, svid.ID, e.NodeID)
	}
	if err := checkEntrySigner(svid.ID.TrustDomain(), svid.ID, &e); err != nil {
		return nil, err
	}
	entry := appendEntry(nil, &e)
	sig, err := identity.SignWithSVIDKey(svid.PrivateKey, entrySignedMessage(entry))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	b := append([]byte(entryMagic), 1)
	b = appendBlob32(b, entry)
	b = appendBlob16(b, sig)
	b = append(b, byte(len(svid.Certificates)))
	for _, c := range svid.Certificates {
		b = appendBlob32(b, c.Raw)
	}
	return b, nil
}

// entrySignedMessage is what an SVID signs for an entry.
func entrySignedMessage(entry []byte) []byte {
	return append([]byte(domainEntry), entry...)
}

// VerifyEntry checks a signed directory entry and returns it. In order:
//
//  1. the bytes parse: [ErrMalformed], [ErrVersion]
//  2. a signature and chain are present: [ErrEntryUnsigned]
//  3. the chain verifies against bundle at the entry's NotBefore
//     (x509svid.Verify): [ErrEntryChain]
//  4. the leaf's key signed the entry: [ErrEntrySignature]
//  5. the leaf's SPIFFE ID is e.NodeID and, in trust domain td, the node
//     of e.State: [ErrEntrySigner]
//  6. the keys parse and match their IDs: [ErrKey], [ErrMalformed]
//  7. now is within [NotBefore, NotAfter): [ErrEntryExpired]
//
// The chain is checked at NotBefore rather than now because the SVID that
// signed the entry expires within the hour while the entry lives on; the
// node re-signs and re-publishes (higher Sequence) before NotAfter.
func VerifyEntry(data []byte, bundle x509bundle.Source, td spiffeid.TrustDomain, now time.Time) (DirectoryEntry, error) {
	e, err := verifyEntry(data, bundle, td, now)
	if err != nil {
		return DirectoryEntry{}, fmt.Errorf("seal: verify directory entry: %w", err)
	}
	return e, nil
}

// VerifyEntryOf verifies data as [VerifyEntry] does, for an entry read or
// heard under state's name: a genuine entry of another state (a node that
// republished it under its own name) is refused with [ErrEntryState].
func VerifyEntryOf(data []byte, bundle x509bundle.Source, td spiffeid.TrustDomain, state string, now time.Time) (DirectoryEntry, error) {
	e, err := VerifyEntry(data, bundle, td, now)
	switch {
	case err != nil:
		return DirectoryEntry{}, err
	case e.State != state:
		return DirectoryEntry{}, fmt.Errorf("%w: entry under %s is for %s", ErrEntryState, state, e.State)
	}
	return e, nil
}

func verifyEntry(data []byte, bundle x509bundle.Source, td spiffeid.TrustDomain, now time.Time) (DirectoryEntry, error) {
	entry, sig, certs, err := parseSignedEntry(data)
	if err != nil {
		return DirectoryEntry{}, err
	}
	e, err := parseEntry(entry)
	if err != nil {
		return DirectoryEntry{}, err
	}
	if bundle == nil {
		return DirectoryEntry{}, fmt.Errorf("%w: no trust bundle", ErrEntryChain)
	}
	id, _, err := x509svid.Verify(certs, bundle, x509svid.WithTime(e.NotBefore))
	if err != nil {
		return DirectoryEntry{}, fmt.Errorf("%w: %v", ErrEntryChain, err)
	}
	if !identity.VerifySVIDSignature(certs[0].PublicKey, entrySignedMessage(entry), sig) {
		return DirectoryEntry{}, ErrEntrySignature
	}
	if id.String() != e.NodeID {
		return DirectoryEntry{}, fmt.Errorf("%w: signed by %s for %s", ErrEntrySigner, id, e.NodeID)
	}
	if err := checkEntrySigner(td, id, &e); err != nil {
		return DirectoryEntry{}, err
	}
	if err := e.checkKeys(); err != nil {
		return DirectoryEntry{}, err
	}
	if now.Before(e.NotBefore) || !now.Before(e.NotAfter) {
		return DirectoryEntry{}, fmt.Errorf("%w: valid %s to %s", ErrEntryExpired,
			e.NotBefore.Format(time.RFC3339), e.NotAfter.Format(time.RFC3339))
	}
	return e, nil
}

// checkEntrySigner reports whether id is, in trust domain td, the node of
// e.State.
func checkEntrySigner(td spiffeid.TrustDomain, id spiffeid.ID, e *DirectoryEntry) error {
	p, err := identity.Parse(td, id)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrEntrySigner, err)
	}
	if p.Role != identity.RoleNode || p.State != e.State {
		return fmt.Errorf("%w: %s is not the node of %q", ErrEntrySigner, p, e.State)
	}
	return nil
}

// parseSignedEntry splits a signed entry into entry bytes, signature and
// parsed chain.
func parseSignedEntry(data []byte) (entry, sig []byte, certs []*x509.Certificate, err error) {
	d := decoder{b: data}
	if string(d.take(len(entryMagic), "magic")) != entryMagic {
		return nil, nil, nil, fmt.Errorf("%w: not a signed directory entry", ErrMalformed)
	}
	if v := d.u8("version"); d.err == nil && v != 1 {
		return nil, nil, nil, fmt.Errorf("%w: signed entry version %d", ErrVersion, v)
	}
	entry = d.blob("entry", 4, maxEntry)
	sig = d.blob("signature", 2, maxSig)
	n := int(d.u8("certificate count"))
	if n > maxChain {
		d.fail("%d certificates, at most %d", n, maxChain)
	}
	var ders [][]byte
	for i := 0; i < n && d.err == nil; i++ {
		ders = append(ders, d.blob("certificate", 4, maxCert))
	}
	d.done()
	switch {
	case d.err != nil:
		return nil, nil, nil, d.err
	case len(sig) == 0 || n == 0:
		return nil, nil, nil, ErrEntryUnsigned
	}
	for _, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%w: certificate: %v", ErrMalformed, err)
		}
		certs = append(certs, c)
	}
	return entry, sig, certs, nil
}

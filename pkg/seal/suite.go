package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hpke"
	"fmt"
	"slices"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Suite names the algorithms of a sealed bulletin: the HPKE KEM, KDF and
// AEAD that wrap the content key (RFC 9180), the AEAD that also encrypts
// the body, and the origin's signature algorithm. Names travel on the wire,
// so they are frozen once shipped.
type Suite struct {
	KEM  string // HPKE KEM, e.g. "MLKEM768-X25519"
	KDF  string // HPKE KDF, e.g. "HKDF-SHA256"
	AEAD string // HPKE and content AEAD, e.g. "AES-256-GCM"
	Sig  string // origin signature, e.g. "Ed25519"
}

// SuiteV1 is the default suite: post-quantum hybrid ML-KEM-768 + X25519
// (X-Wing, draft-ietf-hpke-pq), HKDF-SHA256, AES-256-GCM and Ed25519.
var SuiteV1 = Suite{KEM: "MLKEM768-X25519", KDF: "HKDF-SHA256", AEAD: "AES-256-GCM", Sig: "Ed25519"}

// String formats s as "KEM/KDF/AEAD/Sig".
func (s Suite) String() string { return s.KEM + "/" + s.KDF + "/" + s.AEAD + "/" + s.Sig }

// IsZero reports whether s names no algorithm at all.
func (s Suite) IsZero() bool { return s == Suite{} }

// Policy says which suites and format versions [Open] and
// [OpenForwarded] accept and which trust domain signers must belong to.
type Policy struct {
	// Allowed lists the accepted suites. Empty means []Suite{SuiteV1}.
	Allowed []Suite
	// TrustDomain, if set, is the trust domain a header's Signer must
	// belong to. Zero means the signer's own trust domain is used to parse
	// it; the [SignerLookup] still has to vouch for the key.
	TrustDomain spiffeid.TrustDomain
	// MinVersion is the oldest sealed format version accepted. Zero means
	// [Version3]: earlier versions carry no key commitment, so their
	// origin can give two recipients different plaintexts under one
	// signature. Set [Version1] only to read archived bulletins.
	MinVersion int
}

// minVersion returns p's oldest accepted version.
func (p Policy) minVersion() int {
	if p.MinVersion == 0 {
		return Version3
	}
	return p.MinVersion
}

// Allows reports whether p accepts suite s. It does not check that this
// package implements s; [Open] does both.
func (p Policy) Allows(s Suite) bool {
	if len(p.Allowed) == 0 {
		return s == SuiteV1
	}
	return slices.Contains(p.Allowed, s)
}

// algs are the implementations a Suite names. Every mapping from a name to
// crypto/hpke lives in the tables below and nowhere else.
type algs struct {
	kem  hpke.KEM
	kdf  hpke.KDF
	aead hpke.AEAD
	// content builds the AEAD that encrypts the body under a contentKeySize
	// key.
	content func(key []byte) (cipher.AEAD, error)
}

// contentKeySize is the size of the random per-bulletin content key.
const contentKeySize = 32

var (
	kems = map[string]hpke.KEM{
		"MLKEM768-X25519": hpke.MLKEM768X25519(),
	}
	kdfs = map[string]hpke.KDF{
		"HKDF-SHA256": hpke.HKDFSHA256(),
		"HKDF-SHA384": hpke.HKDFSHA384(),
		"HKDF-SHA512": hpke.HKDFSHA512(),
	}
	aeads = map[string]struct {
		hpke    hpke.AEAD
		content func(key []byte) (cipher.AEAD, error)
	}{
		"AES-256-GCM": {hpke.AES256GCM(), newAESGCM},
	}
	sigs = map[string]bool{
		"Ed25519": true,
	}
)

// newAESGCM returns AES-256-GCM under a 32-byte key.
func newAESGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("AES-256-GCM key of %d bytes", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// lookup returns the implementations of s, or an error wrapping ErrSuite
// naming the first unknown algorithm.
func (s Suite) lookup() (algs, error) {
	kem, ok := kems[s.KEM]
	if !ok {
		return algs{}, fmt.Errorf("%w: unknown KEM %q", ErrSuite, s.KEM)
	}
	kdf, ok := kdfs[s.KDF]
	if !ok {
		return algs{}, fmt.Errorf("%w: unknown KDF %q", ErrSuite, s.KDF)
	}
	aead, ok := aeads[s.AEAD]
	if !ok {
		return algs{}, fmt.Errorf("%w: unknown AEAD %q", ErrSuite, s.AEAD)
	}
	if !sigs[s.Sig] {
		return algs{}, fmt.Errorf("%w: unknown signature algorithm %q", ErrSuite, s.Sig)
	}
	return algs{kem: kem, kdf: kdf, aead: aead.hpke, content: aead.content}, nil
}

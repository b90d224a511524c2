package seal

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"time"
)

// SignerLookup returns the Ed25519 public key with ID signKeyID of the
// node of state origin. The node implements it from verified directory
// entries ([VerifyEntry]), checking that the key belongs to the origin
// state's node; any error makes [Open] fail with [ErrSigner].
type SignerLookup func(origin, signKeyID string) (ed25519.PublicKey, error)

// Open authenticates and decrypts s for recipient state self, returning
// the plaintext. ring holds self's KEM private keys (current and rotated),
// verifier vouches for the origin's signing key, pol limits suites and
// signer trust domain, and now is compared with ExpiresAt.
//
// Checks run in this order, each failing with its own sentinel:
//
//  1. the suite is known and allowed by pol: [ErrSuite]
//  2. the header is sane: [ErrVersion], [ErrMalformed]; its Signer is the
//     node of its Origin: [ErrSigner]
//  3. self is a recipient: [ErrNotRecipient]
//  4. verifier knows the signing key: [ErrSigner]; the signature over
//     header and wrapped keys holds: [ErrSignature]
//  5. not expired at now: [ErrExpired]
//  6. the copy carries self's wrapped key, not only its hash (a copy made
//     by [Sealed.For] for another recipient): [ErrMalformed]; ring holds
//     the wrapped key's KEM key: [ErrUnknownKey]; it unwraps the content
//     key: [ErrUnwrap]
//  7. the ciphertext matches the header's hash: [ErrCiphertextHash]
//  8. the body decrypts: [ErrDecrypt]
//
// Open does not modify s.
func Open(s *Sealed, self string, ring KeyRing, verifier SignerLookup, pol Policy, now time.Time) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("seal: open: %w: nil bulletin", ErrMalformed)
	}
	pt, err := open(s, self, ring, verifier, pol, now)
	if err != nil {
		return nil, fmt.Errorf("seal: open bulletin %q from %q: %w", s.ID, s.Origin, err)
	}
	return pt, nil
}

func open(s *Sealed, self string, ring KeyRing, verifier SignerLookup, pol Policy, now time.Time) ([]byte, error) {
	a, i, err := authenticate(s, self, verifier, pol, now)
	if err != nil {
		return nil, err
	}
	key, err := unwrap(s, i, ring, a)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	sum := sha256.Sum256(s.Ciphertext)
	if subtle.ConstantTimeCompare(sum[:], s.CiphertextHash[:]) != 1 {
		return nil, ErrCiphertextHash
	}
	aead, err := a.content(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	pt, err := aead.Open(nil, zeroNonce[:], s.Ciphertext, contentAAD(&s.Header))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// authenticate runs Open's checks up to expiry and returns the suite's
// algorithms and the index of self's wrapped key.
func authenticate(s *Sealed, self string, verifier SignerLookup, pol Policy, now time.Time) (algs, int, error) {
	if !pol.Allows(s.Suite) {
		return algs{}, 0, fmt.Errorf("%w: %s", ErrSuite, s.Suite)
	}
	a, err := s.Suite.lookup()
	if err != nil {
		return algs{}, 0, err
	}
	if err := s.check(); err != nil {
		return algs{}, 0, err
	}
	if err := checkSigner(pol.TrustDomain, s.Signer, s.Origin); err != nil {
		return algs{}, 0, err
	}
	i := indexOf(s.Recipients, self)
	if i < 0 {
		return algs{}, 0, fmt.Errorf("%w: %q", ErrNotRecipient, self)
	}
	if err := verify(s, verifier); err != nil {
		return algs{}, 0, err
	}
	if !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt) {
		return algs{}, 0, fmt.Errorf("%w: at %s", ErrExpired, s.ExpiresAt.Format(time.RFC3339))
	}
	return a, i, nil
}

// verify checks the origin's signature over header and wrapped keys.
func verify(s *Sealed, verifier SignerLookup) error {
	if verifier == nil {
		return fmt.Errorf("%w: no signer lookup", ErrSigner)
	}
	pub, err := verifier(s.Origin, s.SignKeyID)
	if err != nil {
		return fmt.Errorf("%w: key %s: %v", ErrSigner, s.SignKeyID, err)
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: key %s is not an Ed25519 key", ErrSigner, s.SignKeyID)
	}
	if !ed25519.Verify(pub, signedMessage(&s.Header, s.Keys), s.Signature) {
		return ErrSignature
	}
	return nil
}

// unwrap opens the content key wrapped for recipient index i.
func unwrap(s *Sealed, i int, ring KeyRing, a algs) ([]byte, error) {
	wk := s.Keys[i]
	if len(wk.Enc) == 0 {
		return nil, fmt.Errorf("%w: the copy carries only the hash of the wrapped key for %s", ErrMalformed, wk.Recipient)
	}
	if ring == nil {
		return nil, fmt.Errorf("%w: no key ring", ErrUnknownKey)
	}
	sk, ok := ring.KEMPrivate(wk.KEMKeyID)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownKey, wk.KEMKeyID)
	}
	if sk.KEM().ID() != a.kem.ID() {
		return nil, fmt.Errorf("%w: key %s is not a %s key", ErrUnwrap, wk.KEMKeyID, s.Suite.KEM)
	}
	key, err := hpke.Open(sk, a.kdf, a.aead, wrapInfo(&s.Header, wk.Recipient, wk.KEMKeyID), wk.Enc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnwrap, err)
	}
	if len(key) != contentKeySize {
		clear(key)
		return nil, fmt.Errorf("%w: content key of %d bytes", ErrUnwrap, len(key))
	}
	return key, nil
}

// indexOf returns the index of s in list, or -1.
func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

package seal

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"time"
)

// SignerKey is a signing key a [SignerLookup] vouches for.
type SignerKey struct {
	// Public is the Ed25519 public key.
	Public ed25519.PublicKey
	// RetiredAt, if not zero, is when the key's node retired it
	// ([NodeKeys.RotateSign]): it then verifies only bulletins created,
	// and forward statements made, before that instant.
	RetiredAt time.Time
	// Compromised says the key's node retired it as compromised: it then
	// verifies nothing ([ErrKeyCompromised]), whenever it signed.
	Compromised bool
}

// SignerLookup returns the signing key with ID signKeyID of the node of
// member state state, current or retired. The node implements it from
// verified directory entries ([VerifyEntry], [DirectoryEntry.SignKey]),
// checking that the key belongs to that state's node; any error makes
// [Open], [OpenForwarded] and the attestations' Verify fail with
// [ErrSigner], wrapping the lookup's error too, so that the caller can
// tell its own temporary failure (a directory that cannot be read) from
// a verdict.
type SignerLookup func(state, signKeyID string) (SignerKey, error)

// Open authenticates and decrypts s for recipient state self, returning
// the plaintext. ring holds self's KEM private keys (current and rotated),
// verifier vouches for the origin's signing key, pol limits suites,
// versions and signer trust domain, and now is compared with ExpiresAt.
//
// Checks run in this order, each failing with its own sentinel:
//
//  1. the suite is known and allowed by pol: [ErrSuite]
//  2. the header is sane: [ErrVersion], [ErrMalformed]; its version is at
//     least pol's minimum: [ErrVersionRefused]; its Signer is the node of
//     its Origin: [ErrSigner]
//  3. self is a recipient: [ErrNotRecipient]; in version 5 every
//     audience opening s carries (self's, in a copy) is committed to by
//     the header: [ErrAudience]
//  4. verifier knows the signing key: [ErrSigner]; it was not retired at
//     CreatedAt: [ErrKeyRetired]; the signature over header and wrapped
//     keys holds: [ErrSignature]
//  5. not expired at now: [ErrExpired]
//  6. the copy carries self's wrapped key, not only its hash (a copy made
//     by [Sealed.For] for another recipient): [ErrMalformed]; ring holds
//     the wrapped key's KEM key: [ErrUnknownKey]; it unwraps the content
//     key: [ErrUnwrap]
//  7. version 3: the content key matches the header's key commitment:
//     [ErrKeyCommitment]
//  8. the ciphertext matches the header's hash: [ErrCiphertextHash]
//  9. the body decrypts: [ErrDecrypt]
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
	wk := s.Keys[i]
	if len(wk.Enc) == 0 {
		return nil, fmt.Errorf("%w: the copy carries only the hash of the wrapped key for %s", ErrMalformed, wk.Recipient)
	}
	key, err := unwrap(wk.Enc, wk.KEMKeyID, wrapInfo(&s.Header, wk.Recipient, wk.KEMKeyID), ring, &s.Header, a)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return decryptBody(&s.Header, s.Ciphertext, key, a)
}

// authenticate runs Open's checks up to expiry and returns the suite's
// algorithms and the index of self's wrapped key.
func authenticate(s *Sealed, self string, verifier SignerLookup, pol Policy, now time.Time) (algs, int, error) {
	a, err := checkOrigin(s, pol)
	if err != nil {
		return algs{}, 0, err
	}
	i := indexOf(s.Recipients, self)
	if i < 0 {
		return algs{}, 0, fmt.Errorf("%w: %q", ErrNotRecipient, self)
	}
	if err := checkOpenings(&s.Header, s.Keys); err != nil {
		return algs{}, 0, err
	}
	if err := verifyOrigin(s, verifier); err != nil {
		return algs{}, 0, err
	}
	if err := checkExpiry(&s.Header, now); err != nil {
		return algs{}, 0, err
	}
	return a, i, nil
}

// checkOrigin runs the checks of s that need no key: suite, structure,
// version and signer.
func checkOrigin(s *Sealed, pol Policy) (algs, error) {
	if !pol.Allows(s.Suite) {
		return algs{}, fmt.Errorf("%w: %s", ErrSuite, s.Suite)
	}
	a, err := s.Suite.lookup()
	if err != nil {
		return algs{}, err
	}
	if err := s.check(); err != nil {
		return algs{}, err
	}
	if s.Version < pol.minVersion() {
		return algs{}, fmt.Errorf("%w: version %d has no key commitment, the policy requires version %d", ErrVersionRefused, s.Version, pol.minVersion())
	}
	if err := checkSigner(pol.TrustDomain, s.Signer, s.Origin); err != nil {
		return algs{}, err
	}
	return a, nil
}

// verifyOrigin checks the origin's signature over header and wrapped keys.
func verifyOrigin(s *Sealed, verifier SignerLookup) error {
	return verifySignature(verifier, s.Origin, s.SignKeyID, s.CreatedAt, signedMessage(&s.Header, s.Keys), s.Signature)
}

// verifySignature checks sig over msg by the key keyID of state's node,
// which must not have been retired at or before at.
func verifySignature(verifier SignerLookup, state, keyID string, at time.Time, msg, sig []byte) error {
	if verifier == nil {
		return fmt.Errorf("%w: no signer lookup", ErrSigner)
	}
	k, err := verifier(state, keyID)
	if err != nil {
		return fmt.Errorf("%w: key %s of %s: %w", ErrSigner, keyID, state, err)
	}
	if k.Compromised && len(k.Public) == 0 {
		// Named compromised by its node, its public key no longer known
		// here: it verifies nothing, whatever the signature.
		return fmt.Errorf("%w: key %s of %s, named compromised, signed for %s", ErrKeyCompromised, keyID, state,
			at.UTC().Format(time.RFC3339))
	}
	if len(k.Public) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: key %s of %s is not an Ed25519 key", ErrSigner, keyID, state)
	}
	if k.Compromised {
		if !ed25519.Verify(k.Public, msg, sig) {
			return ErrSignature
		}
		return fmt.Errorf("%w: key %s of %s, retired at %s, signed for %s", ErrKeyCompromised, keyID, state,
			k.RetiredAt.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	if !k.RetiredAt.IsZero() && !at.Before(k.RetiredAt) {
		return fmt.Errorf("%w: key %s of %s retired at %s, signed for %s", ErrKeyRetired, keyID, state,
			k.RetiredAt.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	if !ed25519.Verify(k.Public, msg, sig) {
		return ErrSignature
	}
	return nil
}

// checkExpiry refuses h at or after its ExpiresAt.
func checkExpiry(h *Header, now time.Time) error {
	if !h.ExpiresAt.IsZero() && !now.Before(h.ExpiresAt) {
		return fmt.Errorf("%w: at %s", ErrExpired, h.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// unwrap opens the content key wrapped in enc under KEM key kemKeyID with
// HPKE info, from ring.
func unwrap(enc []byte, kemKeyID string, info []byte, ring KeyRing, h *Header, a algs) ([]byte, error) {
	if ring == nil {
		return nil, fmt.Errorf("%w: no key ring", ErrUnknownKey)
	}
	sk, ok := ring.KEMPrivate(kemKeyID)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownKey, kemKeyID)
	}
	if sk.KEM().ID() != a.kem.ID() {
		return nil, fmt.Errorf("%w: key %s is not a %s key", ErrUnwrap, kemKeyID, h.Suite.KEM)
	}
	key, err := hpke.Open(sk, a.kdf, a.aead, info, enc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnwrap, err)
	}
	if len(key) != contentKeySize {
		clear(key)
		return nil, fmt.Errorf("%w: content key of %d bytes", ErrUnwrap, len(key))
	}
	return key, nil
}

// checkCommitment refuses a content key that is not the one a version 3
// header commits to. Earlier versions commit to nothing.
func checkCommitment(h *Header, key []byte) error {
	if h.Version < Version3 {
		return nil
	}
	sum := keyCommitment(key)
	if subtle.ConstantTimeCompare(sum[:], h.KeyCommitment[:]) != 1 {
		return ErrKeyCommitment
	}
	return nil
}

// decryptBody checks the key commitment and the ciphertext hash of h and
// decrypts ct under key.
func decryptBody(h *Header, ct, key []byte, a algs) ([]byte, error) {
	if err := checkCommitment(h, key); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(ct)
	if subtle.ConstantTimeCompare(sum[:], h.CiphertextHash[:]) != 1 {
		return nil, ErrCiphertextHash
	}
	aead, err := a.content(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	pt, err := aead.Open(nil, zeroNonce[:], ct, contentAAD(h))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
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

package seal

import (
	"fmt"
	"slices"
)

// Attestation is what an origin signed about a bulletin, without its
// content: the header (with its key commitment and ciphertext hash), the
// hash of every wrapped key and the origin node's signature over them.
// The signature verifies over these alone, so a recipient can hand it to
// a third party (the audit) as evidence of what the origin signed,
// revealing nothing a copy's header does not: no ciphertext, no wrapped
// key. Only versions 2 to 5 have attestations (version 1 signs the
// wrapped keys as one list). In version 5 the keys are the audience
// openings the attested value carries (see [Attestation.Verify]), so a
// recipient's copy attests its own recipient only.
type Attestation struct {
	// Header is the origin's header as signed.
	Header Header
	// Keys are the wrapped keys as the signature covers them, in
	// Header.Recipients order, each as its hash: Enc empty, EncHash set.
	Keys []WrappedKey
	// Signature is the origin node's signature (see the package doc).
	Signature []byte
}

// ForwardAttestation is what a forwarder signed when it forwarded a
// bulletin, with what the bulletin's origin signed: the origin's
// [Attestation], the forwarder's [ForwardStatement] and its signature
// over it. Like an Attestation it carries no content and no wrapped key.
type ForwardAttestation struct {
	// Origin is the attestation of the origin's bulletin.
	Origin Attestation
	// Statement is what the forwarder signed.
	Statement ForwardStatement
	// Signature is the forwarder node's signature over the statement.
	Signature []byte
}

// Attest returns the attestation of s, a sealed bulletin or any
// recipient's copy of it (all attest the same, but for version 5, where
// a copy attests its own recipient's opening only). It returns an error
// wrapping [ErrVersionRefused] for a version 1 bulletin, or
// [ErrMalformed] or [ErrVersion] if s breaks the format. The result
// shares no slices with s.
func (s *Sealed) Attest() (*Attestation, error) {
	if s == nil {
		return nil, fmt.Errorf("seal: attest: %w: nil bulletin", ErrMalformed)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("seal: attest bulletin %q: %w", s.ID, err)
	}
	if !hashesKeys(s.Version) {
		return nil, fmt.Errorf("seal: attest bulletin %q: %w: version %d signs its wrapped keys as one list", s.ID, ErrVersionRefused, s.Version)
	}
	return s.attest(), nil
}

// attest is Attest of a checked version 2 or 3 bulletin.
func (s *Sealed) attest() *Attestation {
	a := &Attestation{Header: s.Header, Keys: make([]WrappedKey, len(s.Keys)), Signature: slices.Clone(s.Signature)}
	a.Header.Recipients = slices.Clone(s.Recipients)
	a.Header.Audience = slices.Clone(s.Audience)
	for i := range s.Keys {
		k := &s.Keys[i]
		a.Keys[i] = WrappedKey{Recipient: k.Recipient, KEMKeyID: k.KEMKeyID, EncHash: k.encHash(), Salt: k.Salt}
	}
	return a
}

// Attest returns the attestation of the forward f: the origin's
// attestation, the statement and the forwarder's signature. It returns an
// error wrapping [ErrMalformed] or [ErrVersion] if f breaks the format.
// The result shares no slices with f.
func (f *Forwarded) Attest() (*ForwardAttestation, error) {
	if f == nil {
		return nil, fmt.Errorf("seal: attest forward: %w: nil forward", ErrMalformed)
	}
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("seal: attest forward of %q: %w", f.Sealed.ID, err)
	}
	return &ForwardAttestation{Origin: *f.Sealed.attest(), Statement: f.Statement, Signature: slices.Clone(f.Signature)}, nil
}

// check validates a's structure: a sane version 2 or 3 header, one hashed
// key per recipient in order, a signature.
func (a *Attestation) check() error {
	h := &a.Header
	if err := h.check(); err != nil {
		return err
	}
	switch {
	case !hashesKeys(h.Version):
		return fmt.Errorf("%w: an attestation of a version %d header", ErrMalformed, h.Version)
	case len(a.Keys) != len(h.Recipients):
		return fmt.Errorf("%w: %d wrapped key hashes for %d recipients", ErrMalformed, len(a.Keys), len(h.Recipients))
	case len(a.Signature) == 0 || len(a.Signature) > maxSig:
		return fmt.Errorf("%w: signature of %d bytes", ErrMalformed, len(a.Signature))
	}
	if err := checkSalts(h.Version, a.Keys); err != nil {
		return err
	}
	for i, k := range a.Keys {
		if k.Recipient != h.Recipients[i] {
			return fmt.Errorf("%w: wrapped key %d is for %q, recipient %d is %q", ErrMalformed, i, k.Recipient, i, h.Recipients[i])
		}
		if err := checkString("kem key id", k.KEMKeyID, maxKeyID); err != nil {
			return err
		}
		if len(k.Enc) != 0 {
			return fmt.Errorf("%w: attestation carries wrapped key %d, not its hash", ErrMalformed, i)
		}
	}
	return nil
}

// check validates f's structure: a sane origin attestation of version 3
// or 4 (only those are forwarded), statement and signature.
func (f *ForwardAttestation) check() error {
	if err := f.Origin.check(); err != nil {
		return err
	}
	if v := f.Origin.Header.Version; v < Version3 || v > Version4 {
		return fmt.Errorf("%w: forward of a version %d bulletin, forwards carry version 3 or 4", ErrMalformed, v)
	}
	if err := f.Statement.check(); err != nil {
		return err
	}
	if len(f.Signature) == 0 || len(f.Signature) > maxSig {
		return fmt.Errorf("%w: forwarder signature of %d bytes", ErrMalformed, len(f.Signature))
	}
	return nil
}

// Verify checks that a is what its origin signed. verifier vouches for
// the origin's signing key and pol limits suites, versions and the
// signer's trust domain, as for [Open]. Expiry is not checked: evidence
// outlives the bulletin.
//
// Checks run in this order, each failing with its own sentinel:
//
//  1. the suite is known and allowed by pol: [ErrSuite]
//  2. the attestation is sane: [ErrVersion], [ErrMalformed]; its version
//     is at least pol's minimum: [ErrVersionRefused]; its Signer is the
//     node of its Origin: [ErrSigner]
//  3. version 5: every audience opening a carries is committed to by
//     the header: [ErrAudience]
//  4. verifier knows the signing key: [ErrSigner]; it was not retired at
//     CreatedAt: [ErrKeyRetired]; the signature over header and wrapped
//     key hashes holds: [ErrSignature]
//
// A version 5 attestation names (in Header.Recipients) exactly the
// recipients whose openings it carries: all of them when the origin
// attests its bulletin, one when a recipient attests its copy. Once
// verified, each of them was addressed by the origin.
//
// An error of verifier is wrapped (with [ErrSigner]), so that a caller
// can tell its own temporary failure from a verdict.
func (a *Attestation) Verify(verifier SignerLookup, pol Policy) error {
	if a == nil {
		return fmt.Errorf("seal: verify attestation: %w: nil attestation", ErrMalformed)
	}
	if err := a.verify(verifier, pol); err != nil {
		return fmt.Errorf("seal: verify attestation of %q from %q: %w", a.Header.ID, a.Header.Origin, err)
	}
	return nil
}

func (a *Attestation) verify(verifier SignerLookup, pol Policy) error {
	h := &a.Header
	if !pol.Allows(h.Suite) {
		return fmt.Errorf("%w: %s", ErrSuite, h.Suite)
	}
	if _, err := h.Suite.lookup(); err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	if h.Version < pol.minVersion() {
		return fmt.Errorf("%w: version %d has no key commitment, the policy requires version %d", ErrVersionRefused, h.Version, pol.minVersion())
	}
	if err := checkSigner(pol.TrustDomain, h.Signer, h.Origin); err != nil {
		return err
	}
	if err := checkOpenings(h, a.Keys); err != nil {
		return err
	}
	return verifySignature(verifier, h.Origin, h.SignKeyID, h.CreatedAt, signedMessage(h, a.Keys), a.Signature)
}

// Verify checks that f's origin signed its attestation and that its
// forwarder, which held the bulletin, signed the statement about it.
// verifier vouches for both signing keys and pol applies to the origin's
// attestation as in [Attestation.Verify].
//
// Checks run in this order, each failing with its own sentinel:
//
//  1. structure: [ErrVersion], [ErrMalformed]; the statement names the
//     attested bulletin (origin, id, header hash) and was made after it
//     was created: [ErrStatement]; and before it expired: [ErrExpired]
//  2. the origin's attestation, as [Attestation.Verify] checks it
//  3. the forwarder is not the origin: [ErrOwnForward]; it is one of the
//     origin's recipients, so it held the bulletin: [ErrNotHeld]
//  4. the statement's signer is the forwarder's node: [ErrSigner]; its
//     signature, by a key not retired at At: [ErrSigner],
//     [ErrKeyRetired], [ErrSignature]
//  5. the statement's recipient is neither one of the origin's nor the
//     origin: [ErrAlreadyRecipient]
//
// The statement's key hash is the forwarder's claim about a key this
// attestation does not carry; [OpenForwarded] checks it at the
// recipient.
func (f *ForwardAttestation) Verify(verifier SignerLookup, pol Policy) error {
	if f == nil {
		return fmt.Errorf("seal: verify forward attestation: %w: nil attestation", ErrMalformed)
	}
	if err := f.verify(verifier, pol); err != nil {
		return fmt.Errorf("seal: verify forward of %q from %q by %q: %w", f.Origin.Header.ID, f.Origin.Header.Origin, f.Statement.Forwarder, err)
	}
	return nil
}

func (f *ForwardAttestation) verify(verifier SignerLookup, pol Policy) error {
	if err := f.check(); err != nil {
		return err
	}
	h, st := &f.Origin.Header, &f.Statement
	if err := statementNames(st, h); err != nil {
		return err
	}
	if !h.ExpiresAt.IsZero() && !st.At.Before(h.ExpiresAt) {
		return fmt.Errorf("%w: forwarded at %s, the bulletin expired at %s", ErrExpired, st.At.Format("2006-01-02T15:04:05Z07:00"), h.ExpiresAt.Format("2006-01-02T15:04:05Z07:00"))
	}
	if err := f.Origin.verify(verifier, pol); err != nil {
		return err
	}
	if err := checkForwarder(h, st, f.Signature, pol, verifier); err != nil {
		return err
	}
	if indexOf(h.Recipients, st.Recipient) >= 0 || st.Recipient == h.Origin {
		return fmt.Errorf("%w: %q", ErrAlreadyRecipient, st.Recipient)
	}
	return nil
}

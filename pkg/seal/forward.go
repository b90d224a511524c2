package seal

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Forwarded is a sealed bulletin that a state which received it
// forwards to a state the origin did not release it to. It carries the
// origin's bulletin unchanged, so the origin's signature still vouches
// for header and content, plus the content key wrapped anew for the new
// recipient and the forwarder's signed statement: "Origin's bulletin ID,
// forwarded by Forwarder to Recipient for Reason at At". A forwarder can
// thus share what it holds but never speak for the origin.
//
// A forward cannot be forwarded again: only a [Sealed] is forwarded, and
// [OpenForwarded] requires the forwarder to be one of the origin's
// recipients ([ErrNotHeld]). A state that received a forward and wants
// to share it further asks the origin.
type Forwarded struct {
	// Sealed is the origin's version 3 bulletin as the forwarder received
	// it: header, ciphertext and signature unchanged, every wrapped key
	// reduced to its hash ([WrappedKey.EncHash]).
	Sealed Sealed
	// Statement is what the forwarder signs.
	Statement ForwardStatement
	// Key is the content key wrapped with HPKE for Statement.Recipient's
	// KEM key Statement.KEMKeyID (see the package doc for its info).
	Key []byte
	// Signature is the forwarder node's Ed25519 signature over the
	// statement.
	Signature []byte
}

// ForwardStatement is a forwarder's signed account of one forward. The
// caller of [Forward] sets Signer, Reason and At; Forward sets the rest.
type ForwardStatement struct {
	// Origin and ID name the forwarded bulletin.
	Origin, ID string
	// HeaderHash is [Header.Hash] of the origin's header.
	HeaderHash [32]byte
	// Forwarder is the forwarding member state.
	Forwarder string
	// Signer is the SPIFFE ID of Forwarder's node, which signs.
	Signer string
	// SignKeyID is the [KeyID] of the signer's Ed25519 key.
	SignKeyID string
	// Recipient is the state forwarded to; it must not be one of the
	// origin's recipients.
	Recipient string
	// KEMKeyID is the [KeyID] of Recipient's KEM key that Key is wrapped
	// for.
	KEMKeyID string
	// KeyHash is SHA-256 of [Forwarded.Key].
	KeyHash [32]byte
	// Reason is the policy or reason the forward was allowed under: 1 to
	// 256 bytes of printable ASCII (spaces allowed). It is the
	// forwarder's text: escape it wherever it is shown.
	Reason string
	// At is when the forward was made; not before the bulletin's
	// CreatedAt, and before its ExpiresAt.
	At time.Time
}

// Forward makes the forward of c, a copy of a version 3 bulletin that
// state self received (and opened, see [Open]), to the state of to. ring
// holds self's KEM keys, to are the recipient's published keys, st
// carries Signer, Reason and At, and fk are self's node keys, which sign
// the statement.
//
// Forward unwraps the content key from self's wrapped key, checks it
// against the header's key commitment and the ciphertext against its
// hash, wraps the key for to under the forward info, and signs. It
// returns an error wrapping [ErrVersionRefused] (c is not version 3),
// [ErrOwnForward] (self is c's origin), [ErrNotRecipient] (self holds no
// wrapped key of c), [ErrAlreadyRecipient], [ErrExpired] (At not before
// ExpiresAt), [ErrSigner], [ErrKey], [ErrMalformed], [ErrSuite],
// [ErrVersion], [ErrUnknownKey], [ErrUnwrap], [ErrKeyCommitment] or
// [ErrCiphertextHash].
func Forward(c *Sealed, self string, ring KeyRing, to PublicKeys, st ForwardStatement, fk *NodeKeys) (*Forwarded, error) {
	if c == nil {
		return nil, fmt.Errorf("seal: forward: %w: nil bulletin", ErrMalformed)
	}
	f, err := forward(c, self, ring, to, st, fk)
	if err != nil {
		return nil, fmt.Errorf("seal: forward bulletin %q from %q to %q: %w", c.ID, c.Origin, to.State, err)
	}
	return f, nil
}

func forward(c *Sealed, self string, ring KeyRing, to PublicKeys, st ForwardStatement, fk *NodeKeys) (*Forwarded, error) {
	a, i, err := checkForwardInputs(c, self, to, &st, fk)
	if err != nil {
		return nil, err
	}
	pks, err := parseRecipients(a.kem, []PublicKeys{to})
	if err != nil {
		return nil, err
	}
	wk := c.Keys[i]
	if len(wk.Enc) == 0 {
		return nil, fmt.Errorf("%w: the copy carries only the hash of %s's wrapped key", ErrNotRecipient, self)
	}
	key, err := unwrap(wk.Enc, wk.KEMKeyID, wrapInfo(&c.Header, wk.Recipient, wk.KEMKeyID), ring, &c.Header, a)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	if err := checkCommitment(&c.Header, key); err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(c.Ciphertext); subtle.ConstantTimeCompare(sum[:], c.CiphertextHash[:]) != 1 {
		return nil, ErrCiphertextHash
	}
	enc, err := hpke.Seal(pks[0], a.kdf, a.aead, forwardInfo(&c.Header, self, to.State, to.KEMKeyID), key)
	if err != nil {
		return nil, fmt.Errorf("wrap content key for %s: %w", to.State, err)
	}
	st.Origin, st.ID, st.HeaderHash = c.Origin, c.ID, c.Header.Hash()
	st.Forwarder, st.SignKeyID = self, fk.signID
	st.Recipient, st.KEMKeyID, st.KeyHash = to.State, to.KEMKeyID, sha256.Sum256(enc)
	f := &Forwarded{Sealed: *c.copyFor(-1, c.keyHashes()), Statement: st, Key: enc}
	if err := f.Statement.check(); err != nil {
		return nil, err
	}
	if err := f.consistent(); err != nil {
		return nil, err
	}
	f.Signature = ed25519.Sign(fk.sign, statementMessage(&f.Statement))
	return f, nil
}

// checkForwardInputs validates Forward's inputs and returns the suite's
// algorithms and the index of self's wrapped key in c. It normalizes
// st.At.
func checkForwardInputs(c *Sealed, self string, to PublicKeys, st *ForwardStatement, fk *NodeKeys) (algs, int, error) {
	if err := c.check(); err != nil {
		return algs{}, 0, err
	}
	a, err := c.Suite.lookup()
	if err != nil {
		return algs{}, 0, err
	}
	st.At = st.At.Round(0).UTC()
	i := indexOf(c.Recipients, self)
	switch {
	case c.Version < Version3 || c.Version > Version4:
		return algs{}, 0, fmt.Errorf("%w: only version 3 and 4 bulletins are forwarded (a confidential audience never), this is version %d", ErrVersionRefused, c.Version)
	case fk == nil:
		return algs{}, 0, fmt.Errorf("%w: no signing keys", ErrKey)
	case fk.state != self:
		return algs{}, 0, fmt.Errorf("%w: keys of %s cannot sign for %q", ErrSigner, fk.state, self)
	case self == c.Origin:
		return algs{}, 0, fmt.Errorf("%w: %s is the origin; seal the bulletin again for more recipients", ErrOwnForward, self)
	case i < 0:
		return algs{}, 0, fmt.Errorf("%w: %q", ErrNotRecipient, self)
	case indexOf(c.Recipients, to.State) >= 0 || to.State == c.Origin:
		return algs{}, 0, fmt.Errorf("%w: %q", ErrAlreadyRecipient, to.State)
	case !c.ExpiresAt.IsZero() && !st.At.Before(c.ExpiresAt):
		return algs{}, 0, fmt.Errorf("%w: at %s", ErrExpired, c.ExpiresAt.Format(time.RFC3339))
	}
	return a, i, checkSigner(spiffeid.TrustDomain{}, st.Signer, self)
}

// OpenForwarded authenticates and decrypts f for state self, returning
// the plaintext: the origin's bulletin, which the caller binds to
// f.Sealed's header ([Header.Bind]) before applying its own policy to
// the forward (f.Statement). ring holds self's KEM private keys, verifier
// vouches for the origin's and the forwarder's signing keys, pol limits
// suites and the signers' trust domain, now is compared with ExpiresAt.
//
// Checks run in this order, each failing with its own sentinel:
//
//  1. structure: the suite is known and allowed by pol: [ErrSuite]; the
//     origin's bulletin is a sane version 3 or 4 bulletin with every key
//     hashed and the statement is sane: [ErrVersion], [ErrMalformed]; the
//     statement names this bulletin (origin, id, header hash, key hash,
//     time): [ErrStatement]
//  2. the origin's signer is the node of its Origin: [ErrSigner]
//  3. the origin's signature, by a key not retired at CreatedAt:
//     [ErrSigner], [ErrKeyRetired], [ErrSignature]
//  4. the forwarder is not the origin: [ErrOwnForward]; it is one of the
//     origin's recipients, so it held the bulletin: [ErrNotHeld]
//  5. the statement's signer is the forwarder's node: [ErrSigner]
//  6. the forwarder's signature over the statement, by a key not retired
//     at At: [ErrSigner], [ErrKeyRetired], [ErrSignature]
//  7. self is the statement's recipient: [ErrNotRecipient]; and neither
//     one of the origin's nor the origin: [ErrAlreadyRecipient]
//  8. not expired at now: [ErrExpired]
//  9. ring holds the KEM key: [ErrUnknownKey]; the key unwraps:
//     [ErrUnwrap]
//  10. the content key matches the origin's key commitment, so the
//     forwarder cannot substitute another key or content:
//     [ErrKeyCommitment]
//  11. the ciphertext matches the origin's hash: [ErrCiphertextHash]
//  12. the body decrypts: [ErrDecrypt]
//
// OpenForwarded does not modify f.
func OpenForwarded(f *Forwarded, self string, ring KeyRing, verifier SignerLookup, pol Policy, now time.Time) ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("seal: open forward: %w: nil forward", ErrMalformed)
	}
	pt, err := openForwarded(f, self, ring, verifier, pol, now)
	if err != nil {
		return nil, fmt.Errorf("seal: open bulletin %q from %q forwarded by %q: %w", f.Sealed.ID, f.Sealed.Origin, f.Statement.Forwarder, err)
	}
	return pt, nil
}

func openForwarded(f *Forwarded, self string, ring KeyRing, verifier SignerLookup, pol Policy, now time.Time) ([]byte, error) {
	a, err := authenticateForward(f, self, verifier, pol, now)
	if err != nil {
		return nil, err
	}
	st, h := &f.Statement, &f.Sealed.Header
	key, err := unwrap(f.Key, st.KEMKeyID, forwardInfo(h, st.Forwarder, st.Recipient, st.KEMKeyID), ring, h, a)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return decryptBody(h, f.Sealed.Ciphertext, key, a)
}

// authenticateForward runs OpenForwarded's checks up to expiry.
func authenticateForward(f *Forwarded, self string, verifier SignerLookup, pol Policy, now time.Time) (algs, error) {
	o, st := &f.Sealed, &f.Statement
	if !pol.Allows(o.Suite) {
		return algs{}, fmt.Errorf("%w: %s", ErrSuite, o.Suite)
	}
	a, err := o.Suite.lookup()
	if err != nil {
		return algs{}, err
	}
	if err := f.check(); err != nil {
		return algs{}, err
	}
	if err := f.consistent(); err != nil {
		return algs{}, err
	}
	if err := checkSigner(pol.TrustDomain, o.Signer, o.Origin); err != nil {
		return algs{}, err
	}
	if err := verifyOrigin(o, verifier); err != nil {
		return algs{}, err
	}
	if err := checkForwarder(&o.Header, st, f.Signature, pol, verifier); err != nil {
		return algs{}, err
	}
	switch {
	case self != st.Recipient:
		return algs{}, fmt.Errorf("%w: forwarded to %q, not %q", ErrNotRecipient, st.Recipient, self)
	case indexOf(o.Recipients, self) >= 0 || self == o.Origin:
		return algs{}, fmt.Errorf("%w: %q", ErrAlreadyRecipient, self)
	}
	return a, checkExpiry(&o.Header, now)
}

// checkForwarder runs the checks of the forwarder of the bulletin with
// header h (steps 4 to 6 of OpenForwarded): not its origin, one of its
// recipients, the statement st signed by its node with a key not retired
// at st.At.
func checkForwarder(h *Header, st *ForwardStatement, sig []byte, pol Policy, verifier SignerLookup) error {
	switch {
	case st.Forwarder == h.Origin:
		return fmt.Errorf("%w: %s", ErrOwnForward, st.Forwarder)
	case indexOf(h.Recipients, st.Forwarder) < 0:
		return fmt.Errorf("%w: %q", ErrNotHeld, st.Forwarder)
	}
	if err := checkSigner(pol.TrustDomain, st.Signer, st.Forwarder); err != nil {
		return err
	}
	return verifySignature(verifier, st.Forwarder, st.SignKeyID, st.At, statementMessage(st), sig)
}

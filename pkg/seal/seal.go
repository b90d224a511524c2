package seal

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// zeroNonce is the body's AEAD nonce. Every content key is fresh and
// random and encrypts exactly one message, so a fixed nonce never repeats
// under a key.
var zeroNonce [12]byte

// Seal encrypts plaintext once under a fresh content key, wraps that key
// with HPKE for each of recipients, and signs the result with signer's
// Ed25519 key. The plaintext is opaque (the node serializes the bulletin's
// secret part into it) and at most [MaxCiphertext]-16 bytes.
//
// From hdr the caller sets ID, Origin (signer's state), Signer (the SPIFFE
// ID of Origin's node), Precedence, Marking, CreatedAt and optionally
// ExpiresAt, Version, Suite and, in version 4, the message fields (Kind,
// Revision, Subkind, Ref; a zero Kind and Revision make a bulletin's first
// version). With Version set to [Version5] the audience is confidential:
// Seal draws a salt per recipient and makes [Header.Audience]. Seal sets
// SignKeyID, KeyCommitment (version 3 on), CiphertextHash and Recipients (the recipients' states in order; if hdr.Recipients is set it
// must already equal them).
//
// Seal returns an error wrapping [ErrSuite], [ErrVersion], [ErrMalformed],
// [ErrTooLarge], [ErrKey] or [ErrSigner].
func Seal(hdr Header, plaintext []byte, recipients []PublicKeys, signer *NodeKeys) (*Sealed, error) {
	s, err := seal(hdr, plaintext, recipients, signer)
	if err != nil {
		return nil, fmt.Errorf("seal: seal bulletin %q: %w", hdr.ID, err)
	}
	return s, nil
}

func seal(hdr Header, plaintext []byte, recipients []PublicKeys, signer *NodeKeys) (*Sealed, error) {
	h, a, pks, err := prepare(hdr, plaintext, recipients, signer)
	if err != nil {
		return nil, err
	}
	key := make([]byte, contentKeySize)
	rand.Read(key)
	defer clear(key)
	aead, err := a.content(key)
	if err != nil {
		return nil, err
	}
	s := &Sealed{Header: h}
	s.Keys = make([]WrappedKey, len(recipients))
	for i, pk := range pks {
		r := recipients[i]
		enc, err := hpke.Seal(pk, a.kdf, a.aead, wrapInfo(&s.Header, r.State, r.KEMKeyID), key)
		if err != nil {
			return nil, fmt.Errorf("wrap content key for %s: %w", r.State, err)
		}
		s.Keys[i] = WrappedKey{Recipient: r.State, KEMKeyID: r.KEMKeyID, Enc: enc}
	}
	if h.Version == Version5 {
		// The audience is in the header the AAD covers, and commits to
		// the wrapped keys, so the keys are wrapped first.
		s.Audience = makeAudience(s.Keys)
	}
	if h.Version >= Version3 {
		s.KeyCommitment = keyCommitment(key)
	}
	s.Ciphertext = aead.Seal(nil, zeroNonce[:], plaintext, contentAAD(&s.Header))
	s.CiphertextHash = sha256.Sum256(s.Ciphertext)
	s.Signature = ed25519.Sign(signer.sign, signedMessage(&s.Header, s.Keys))
	return s, nil
}

// prepare validates Seal's inputs and returns the completed header (without
// ciphertext hash), the suite's algorithms and the recipients' parsed KEM
// public keys.
func prepare(hdr Header, plaintext []byte, recipients []PublicKeys, signer *NodeKeys) (Header, algs, []hpke.PublicKey, error) {
	if hdr.Version == 0 {
		hdr.Version = Version4
	}
	if hdr.Version >= Version4 && hdr.Kind == 0 {
		hdr.Kind = KindBulletin
	}
	if hdr.Version >= Version4 && hdr.Revision == 0 {
		hdr.Revision = 1
	}
	if hdr.Suite.IsZero() {
		hdr.Suite = SuiteV1
	}
	a, err := hdr.Suite.lookup()
	if err != nil {
		return Header{}, algs{}, nil, err
	}
	if err := checkInputs(&hdr, plaintext, recipients, signer); err != nil {
		return Header{}, algs{}, nil, err
	}
	states := make([]string, len(recipients))
	for i, r := range recipients {
		states[i] = r.State
	}
	if hdr.Recipients != nil && !slices.Equal(hdr.Recipients, states) {
		return Header{}, algs{}, nil, fmt.Errorf("%w: header recipients %v differ from keys for %v", ErrMalformed, hdr.Recipients, states)
	}
	hdr.Recipients = states
	hdr.SignKeyID = signer.signID
	hdr.CreatedAt = hdr.CreatedAt.Round(0).UTC()
	if !hdr.ExpiresAt.IsZero() {
		hdr.ExpiresAt = hdr.ExpiresAt.Round(0).UTC()
	}
	if hdr.Audience != nil {
		return Header{}, algs{}, nil, fmt.Errorf("%w: the audience commitment is made by Seal", ErrMalformed)
	}
	if err := hdr.checkFields(); err != nil {
		return Header{}, algs{}, nil, err
	}
	pks, err := parseRecipients(a.kem, recipients)
	return hdr, a, pks, err
}

// checkInputs checks what Seal takes besides the header's format.
func checkInputs(hdr *Header, plaintext []byte, recipients []PublicKeys, signer *NodeKeys) error {
	switch {
	case signer == nil:
		return fmt.Errorf("%w: no signing keys", ErrKey)
	case hdr.Suite.KEM != nodeKEM || hdr.Suite.Sig != nodeSign:
		return fmt.Errorf("%w: node keys are %s and %s", ErrSuite, nodeKEM, nodeSign)
	case len(recipients) > MaxRecipients:
		return fmt.Errorf("%w: %d recipients, at most %d", ErrTooLarge, len(recipients), MaxRecipients)
	case len(plaintext) > MaxCiphertext-16:
		return fmt.Errorf("%w: plaintext of %d bytes, at most %d", ErrTooLarge, len(plaintext), MaxCiphertext-16)
	case hdr.Origin != signer.state:
		return fmt.Errorf("%w: keys of %s cannot sign for origin %q", ErrSigner, signer.state, hdr.Origin)
	}
	return checkSigner(spiffeid.TrustDomain{}, hdr.Signer, hdr.Origin)
}

// parseRecipients parses each recipient's KEM public key, checking that
// the state is a member and the key ID matches the key.
func parseRecipients(kem hpke.KEM, recipients []PublicKeys) ([]hpke.PublicKey, error) {
	pks := make([]hpke.PublicKey, len(recipients))
	for i, r := range recipients {
		if !region.IsMember(r.State) {
			return nil, fmt.Errorf("%w: recipient %q is not a member state", ErrMalformed, r.State)
		}
		if KeyID(nodeKEM, r.KEMPublic) != r.KEMKeyID {
			return nil, fmt.Errorf("%w: KEM key ID of %s does not match its key", ErrKey, r.State)
		}
		pk, err := kem.NewPublicKey(r.KEMPublic)
		if err != nil {
			return nil, fmt.Errorf("%w: KEM key of %s: %v", ErrKey, r.State, err)
		}
		pks[i] = pk
	}
	return pks, nil
}

// checkSigner reports whether signer is the SPIFFE ID of a node of state
// origin. A zero td means the ID's own trust domain.
func checkSigner(td spiffeid.TrustDomain, signer, origin string) error {
	id, err := spiffeid.FromString(signer)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSigner, err)
	}
	if td.IsZero() {
		td = id.TrustDomain()
	}
	p, err := identity.Parse(td, id)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSigner, err)
	}
	if p.Role != identity.RoleNode || p.State != origin {
		return fmt.Errorf("%w: %s is not the node of %q", ErrSigner, p, origin)
	}
	return nil
}

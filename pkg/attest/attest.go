// Package attest makes and verifies the evidence the delivery audit keeps
// of what a bulletin's origin signed — its sealed header — and of what a
// forwarding state signed, for [audit.HeaderVerifier] and
// [audit.ForwardVerifier]:
//
//	att, err := attest.Header(sealed)           // at the origin, from what it sealed
//	att, err := attest.FromCopy(copyBytes)      // at a recipient, from the copy it opened
//	v := attest.Verifiers(lookup, td)            // at the secretariat
//	h, err := v.Header(ctx, att)                 // what the origin signed
//
// An attestation is the sealed bulletin (pkg/seal's wire format) as one
// recipient's copy has it — the header, that recipient's wrapped key and
// the hashes of the others', and the origin node's signature over them —
// with the ciphertext left out (one zero byte stands for it: the
// signature covers only its hash, which the header keeps). It reveals
// nothing a recipient's copy does not, but the body.
//
// This is the interim form, until pkg/seal exports header attestations
// itself (its format version 3 work): the verification below leans on
// seal.Open's documented order of checks, stopping it at the unwrap of the
// content key, which it cannot do without a key ring. Replacing it means
// replacing this package's functions; pkg/audit keeps the bytes opaque.
//
// # Concurrency
//
// The functions are safe for concurrent use; Verifiers calls lookup
// concurrently.
package attest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
)

// Header returns the attestation of s, a sealed bulletin or a copy of
// it: its copy for its first recipient whose wrapped key it holds, with
// the ciphertext left out.
func Header(s *seal.Sealed) ([]byte, error) {
	if s == nil {
		return nil, errors.New("attest: nil bulletin")
	}
	c := *s
	c.Ciphertext = []byte{0}
	for i, k := range s.Keys {
		if len(k.Enc) == 0 {
			continue
		}
		if s.Version == seal.Version2 {
			cp, err := s.For(s.Recipients[i])
			if err != nil {
				return nil, fmt.Errorf("attest: %w", err)
			}
			c = *cp
			c.Ciphertext = []byte{0}
		}
		b, err := c.Marshal()
		if err != nil {
			return nil, fmt.Errorf("attest: %w", err)
		}
		return b, nil
	}
	return nil, errors.New("attest: the bulletin holds no wrapped key")
}

// FromCopy returns the attestation of a sealed copy as it travelled
// (seal.Unmarshal's input).
func FromCopy(data []byte) ([]byte, error) {
	s, err := seal.Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	return Header(s)
}

// KeyLookup returns the Ed25519 key signKeyID of state's node, from its
// verified directory entry. An error wrapping [audit.ErrAttestation] is a
// verdict (no such key); any other is temporary.
type KeyLookup func(ctx context.Context, state, signKeyID string) (ed25519.PublicKey, error)

// Verifiers returns the audit's header and forward verifiers for
// attestations made by [Header] and [FromCopy], checking signatures with
// lookup and signers against trust domain td.
func Verifiers(lookup KeyLookup, td spiffeid.TrustDomain) audit.Verifiers {
	return audit.Verifiers{
		Header: func(ctx context.Context, att []byte) (audit.SignedHeader, error) {
			s, err := verify(ctx, att, lookup, td)
			if err != nil {
				return audit.SignedHeader{}, err
			}
			return signedHeader(s)
		},
		Forward: func(ctx context.Context, h audit.SignedHeader, st []byte) (audit.SignedForward, error) {
			s, err := verify(ctx, st, lookup, td)
			if err != nil {
				return audit.SignedForward{}, err
			}
			return signedForward(h, s)
		},
	}
}

// verify authenticates an attestation: it parses, its signer is the node
// of its origin, and the origin's key signed its header and wrapped keys.
func verify(ctx context.Context, att []byte, lookup KeyLookup, td spiffeid.TrustDomain) (*seal.Sealed, error) {
	s, err := seal.Unmarshal(att)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", audit.ErrAttestation, err)
	}
	self := ""
	for i, k := range s.Keys {
		if len(k.Enc) > 0 {
			self = s.Recipients[i]
			break
		}
	}
	if self == "" {
		return nil, fmt.Errorf("%w: no recipient's wrapped key", audit.ErrAttestation)
	}
	var lookupErr error
	keyOf := func(origin, keyID string) (seal.SignerKey, error) {
		pub, err := lookup(ctx, origin, keyID)
		lookupErr = err
		return seal.SignerKey{Public: pub}, err
	}
	// Open checks suite, structure, signer, recipient, signature and
	// expiry (at the creation time: not at issue here) in that order, and
	// only then needs a key ring: with none it stops at the unwrap, so
	// ErrUnknownKey means everything before it held.
	_, err = seal.Open(s, self, nil, keyOf, seal.Policy{TrustDomain: td}, s.CreatedAt)
	switch {
	case errors.Is(err, seal.ErrUnknownKey):
		return s, nil
	case err == nil:
		return nil, fmt.Errorf("%w: opened without a key", audit.ErrAttestation)
	case lookupErr != nil && !errors.Is(lookupErr, audit.ErrAttestation):
		return nil, fmt.Errorf("key of %s: %w", s.Origin, lookupErr)
	}
	return nil, fmt.Errorf("%w: %v", audit.ErrAttestation, err)
}

// signedHeader is what s's origin signed, as the audit reads it.
func signedHeader(s *seal.Sealed) (audit.SignedHeader, error) {
	h := audit.SignedHeader{Origin: s.Origin, ID: s.ID, Signer: s.Signer, Precedence: bulletin.Precedence(s.Precedence),
		CreatedAt: s.CreatedAt.UTC(), Recipients: append([]string(nil), s.Recipients...)}
	if !s.ExpiresAt.IsZero() {
		h.ExpiresAt = s.ExpiresAt.UTC()
	}
	if err := h.Validate(); err != nil {
		return audit.SignedHeader{}, err
	}
	return h, nil
}

// signedForward reads the forward of bulletin h that s is: the forwarding
// state sealed the bulletin anew, as origin of s, for one recipient.
func signedForward(h audit.SignedHeader, s *seal.Sealed) (audit.SignedForward, error) {
	switch {
	case s.ID != h.ID:
		return audit.SignedForward{}, fmt.Errorf("%w: forward of bulletin %s, not %s", audit.ErrAttestation, s.ID, h.ID)
	case len(s.Recipients) != 1:
		return audit.SignedForward{}, fmt.Errorf("%w: a forward to %d states", audit.ErrAttestation, len(s.Recipients))
	case bulletin.Precedence(s.Precedence) != h.Precedence || !s.CreatedAt.Equal(h.CreatedAt):
		return audit.SignedForward{}, fmt.Errorf("%w: the forward does not carry the origin's precedence and time", audit.ErrAttestation)
	}
	return audit.SignedForward{Origin: h.Origin, ID: h.ID, Forwarder: s.Origin, Signer: s.Signer,
		Recipient: s.Recipients[0], At: s.CreatedAt.UTC()}, nil
}

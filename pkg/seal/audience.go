package seal

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
)

// AudienceSize is the number of entries in every [Version5] header's
// audience commitment: real entries padded with random ones, so that a
// copy's size and contents do not tell its recipient how many states the
// bulletin went to (at most [MaxRecipients]).
const AudienceSize = MaxRecipients

// SaltSize is the size of an audience entry's salt ([WrappedKey.Salt]).
const SaltSize = 32

// audienceEntry returns the commitment of one recipient in a version 5
// header:
//
//	SHA-256("iant/audience-entry/v1\x00" ‖ [32] salt ‖ str recipient ‖ str kem-key-id ‖ [32] SHA-256(enc))
//
// Without the salt no one can test a guess of the recipient and its key
// (even knowing the wrapped key's hash), so an entry says nothing to a
// holder of another entry's opening; with it, the entry binds the
// recipient to its wrapped key, which the signature thus covers.
func audienceEntry(k *WrappedKey) [32]byte {
	b := append([]byte(domainAudience), k.Salt[:]...)
	b = appendString(b, k.Recipient)
	b = appendString(b, k.KEMKeyID)
	eh := k.encHash()
	return sha256.Sum256(append(b, eh[:]...))
}

// makeAudience draws a salt for each key and returns the audience
// commitment of keys: their entries and random padding, sorted.
func makeAudience(keys []WrappedKey) [][32]byte {
	out := make([][32]byte, 0, AudienceSize)
	for i := range keys {
		rand.Read(keys[i].Salt[:])
		out = append(out, audienceEntry(&keys[i]))
	}
	for len(out) < AudienceSize {
		var pad [32]byte
		rand.Read(pad[:])
		out = append(out, pad)
	}
	slices.SortFunc(out, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// checkAudience validates h's audience field: exactly [AudienceSize]
// entries in strictly ascending order in version 5, none before.
func checkAudience(h *Header) error {
	if h.Version != Version5 {
		if len(h.Audience) != 0 {
			return fmt.Errorf("%w: audience commitment in a version %d header", ErrMalformed, h.Version)
		}
		return nil
	}
	if len(h.Audience) != AudienceSize {
		return fmt.Errorf("%w: audience of %d entries, want %d", ErrMalformed, len(h.Audience), AudienceSize)
	}
	for i := 1; i < len(h.Audience); i++ {
		if bytes.Compare(h.Audience[i-1][:], h.Audience[i][:]) >= 0 {
			return fmt.Errorf("%w: audience entries not in ascending order", ErrMalformed)
		}
	}
	return nil
}

// checkSalts refuses a salt in a key of a version before 5, where
// nothing carries it.
func checkSalts(v int, keys []WrappedKey) error {
	if v == Version5 {
		return nil
	}
	for i := range keys {
		if keys[i].Salt != ([32]byte{}) {
			return fmt.Errorf("%w: salt in wrapped key %d of a version %d message", ErrMalformed, i, v)
		}
	}
	return nil
}

// Addresses reports whether the version 5 header h commits to k, an
// opening of its audience (recipient, KEM key ID, salt and the wrapped
// key or its hash): whether h was addressed to k.Recipient. For earlier
// versions it reports whether k.Recipient is one of h.Recipients.
func (h *Header) Addresses(k WrappedKey) bool {
	if h.Version != Version5 {
		return indexOf(h.Recipients, k.Recipient) >= 0
	}
	e := audienceEntry(&k)
	_, found := slices.BinarySearchFunc(h.Audience, e, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return found
}

// checkOpenings refuses a version 5 message whose wrapped keys (the
// audience openings it carries) are not all committed to by its header:
// [ErrAudience]. Earlier versions pass.
func checkOpenings(h *Header, keys []WrappedKey) error {
	if h.Version != Version5 {
		return nil
	}
	for _, k := range keys {
		if !h.Addresses(k) {
			return fmt.Errorf("%w: no entry for %q", ErrAudience, k.Recipient)
		}
	}
	return nil
}

// appendAudience appends the entries of a checked version 5 audience.
func appendAudience(b []byte, audience [][32]byte) []byte {
	for _, e := range audience {
		b = append(b, e[:]...)
	}
	return b
}

// readAudience decodes what appendAudience wrote; checkAudience checks
// the order.
func readAudience(d *decoder) [][32]byte {
	out := make([][32]byte, 0, AudienceSize)
	for i := 0; i < AudienceSize && d.err == nil; i++ {
		var e [32]byte
		copy(e[:], d.take(32, "audience entry"))
		out = append(out, e)
	}
	return out
}

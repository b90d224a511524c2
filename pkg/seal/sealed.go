package seal

import (
	"crypto/sha256"
	"fmt"
	"slices"
)

// sealedMagic starts every sealed bulletin.
const sealedMagic = "IANTSEAL"

// WrappedKey is the content key wrapped with HPKE for one recipient.
type WrappedKey struct {
	// Recipient is the recipient state, equal to the Header.Recipients
	// entry at the same index.
	Recipient string
	// KEMKeyID is the [KeyID] of the recipient's KEM key used.
	KEMKeyID string
	// Enc is HPKE's encapsulated key followed by the sealed content key
	// (1168 bytes with [SuiteV1]). In a [Version2] or [Version3] copy made
	// for another recipient ([Sealed.For]) it is empty, and EncHash stands
	// for it.
	Enc []byte
	// EncHash is SHA-256 of the absent Enc when Enc is empty (versions 2
	// to 4 only); it is ignored when Enc is set.
	EncHash [32]byte
	// Salt is the salt of the recipient's audience entry ([Version5]
	// only, zero before): with Recipient, KEMKeyID and the hash of Enc it
	// opens one entry of [Header.Audience]. [Seal] draws it.
	Salt [SaltSize]byte
}

// encHash returns SHA-256 of the wrapped key, or EncHash if it is absent.
func (k *WrappedKey) encHash() [32]byte {
	if len(k.Enc) == 0 {
		return k.EncHash
	}
	return sha256.Sum256(k.Enc)
}

// Sealed is a signed, end-to-end encrypted bulletin: a clear header, the
// body encrypted once, the content key wrapped per recipient, and the
// origin node's signature over header and wrapped keys.
type Sealed struct {
	Header
	// Ciphertext is the body under the content key (AEAD, tag included).
	Ciphertext []byte
	// Keys holds one wrapped key per recipient, in Header.Recipients order.
	Keys []WrappedKey
	// Signature is the origin node's signature (see the package doc).
	Signature []byte
}

// check validates s's structure: header fields, limits, one wrapped key
// per recipient in order, a signature present.
func (s *Sealed) check() error {
	if err := s.Header.check(); err != nil {
		return err
	}
	switch {
	case len(s.Ciphertext) == 0 || len(s.Ciphertext) > MaxCiphertext:
		return fmt.Errorf("%w: ciphertext of %d bytes, want 1 to %d", ErrMalformed, len(s.Ciphertext), MaxCiphertext)
	case len(s.Keys) != len(s.Recipients):
		return fmt.Errorf("%w: %d wrapped keys for %d recipients", ErrMalformed, len(s.Keys), len(s.Recipients))
	case len(s.Signature) == 0 || len(s.Signature) > maxSig:
		return fmt.Errorf("%w: signature of %d bytes", ErrMalformed, len(s.Signature))
	}
	if err := checkSalts(s.Version, s.Keys); err != nil {
		return err
	}
	for i, k := range s.Keys {
		if s.Version == Version5 && len(k.Enc) == 0 {
			return fmt.Errorf("%w: wrapped key %d of a version 5 message is a hash", ErrMalformed, i)
		}
		if k.Recipient != s.Recipients[i] {
			return fmt.Errorf("%w: wrapped key %d is for %q, recipient %d is %q", ErrMalformed, i, k.Recipient, i, s.Recipients[i])
		}
		if err := checkString("kem key id", k.KEMKeyID, maxKeyID); err != nil {
			return err
		}
		if (len(k.Enc) == 0 && s.Version == Version1) || len(k.Enc) > maxEnc {
			return fmt.Errorf("%w: wrapped key %d of %d bytes", ErrMalformed, i, len(k.Enc))
		}
	}
	return nil
}

// appendKeys appends the canonical wrapped-key list of version v:
//
//	version 1:    u8 n, n × (str recipient, str kem-key-id, blob16 enc)
//	versions 2-4: u8 n, n × (str recipient, str kem-key-id,
//	                      u8 1 ‖ blob16 enc  or  u8 0 ‖ [32] SHA-256(enc))
//	version 5:    u8 n, n × (str recipient, str kem-key-id, [32] salt, blob16 enc)
func appendKeys(b []byte, v int, keys []WrappedKey) []byte {
	b = append(b, byte(len(keys)))
	for _, k := range keys {
		b = appendString(b, k.Recipient)
		b = appendString(b, k.KEMKeyID)
		switch {
		case v == Version5:
			b = append(b, k.Salt[:]...)
			b = appendBlob16(b, k.Enc)
		case v == Version1:
			b = appendBlob16(b, k.Enc)
		case len(k.Enc) > 0:
			b = append(b, 1)
			b = appendBlob16(b, k.Enc)
		default:
			b = append(b, 0)
			b = append(b, k.EncHash[:]...)
		}
	}
	return b
}

// readKey decodes one wrapped key written by appendKeys for version v.
func readKey(d *decoder, v uint8) WrappedKey {
	k := WrappedKey{Recipient: d.str("wrapped key recipient", maxState), KEMKeyID: d.str("kem key id", maxKeyID)}
	if v == Version5 {
		copy(k.Salt[:], d.take(SaltSize, "audience salt"))
		k.Enc = d.blob("wrapped key", 2, maxEnc)
		return k
	}
	if v == Version1 {
		k.Enc = d.blob("wrapped key", 2, maxEnc)
		return k
	}
	switch form := d.u8("wrapped key form"); form {
	case 1:
		if k.Enc = d.blob("wrapped key", 2, maxEnc); d.err == nil && len(k.Enc) == 0 {
			d.fail("empty wrapped key")
		}
	case 0:
		copy(k.EncHash[:], d.take(32, "wrapped key hash"))
	default:
		d.fail("wrapped key form %d", form)
	}
	return k
}

// For returns recipient's copy of s: the same sealed bulletin with every
// other recipient's wrapped key replaced by its hash, which the signature
// covers as well, so the copy verifies and opens at recipient alone and
// is about 1.2 KB smaller per other recipient. A [Version5] copy carries
// recipient's wrapped key and audience opening only, and names no other
// recipient. Only versions 2 to 5 have such copies ([ErrVersion]);
// recipient must be one of them, with its wrapped key present
// ([ErrNotRecipient]). The copy shares no mutable slices with s.
func (s *Sealed) For(recipient string) (*Sealed, error) {
	if !hashesKeys(s.Version) {
		return nil, fmt.Errorf("seal: copy for %s: %w: version %d copies carry every wrapped key", recipient, ErrVersion, s.Version)
	}
	i := indexOf(s.Recipients, recipient)
	if i < 0 || i >= len(s.Keys) || len(s.Keys[i].Enc) == 0 {
		return nil, fmt.Errorf("seal: copy for %s: %w", recipient, ErrNotRecipient)
	}
	return s.copyFor(i, s.keyHashes()), nil
}

// Copies returns the copy of s for each of its recipients, in the order
// of s.Recipients, as [Sealed.For] would, hashing each wrapped key once.
func (s *Sealed) Copies() ([]*Sealed, error) {
	if !hashesKeys(s.Version) {
		return nil, fmt.Errorf("seal: copies: %w: version %d copies carry every wrapped key", ErrVersion, s.Version)
	}
	if len(s.Keys) != len(s.Recipients) {
		return nil, fmt.Errorf("seal: copies: %w: %d keys for %d recipients", ErrMalformed, len(s.Keys), len(s.Recipients))
	}
	hashes := s.keyHashes()
	out := make([]*Sealed, len(s.Recipients))
	for i, r := range s.Recipients {
		if len(s.Keys[i].Enc) == 0 {
			return nil, fmt.Errorf("seal: copy for %s: %w", r, ErrNotRecipient)
		}
		out[i] = s.copyFor(i, hashes)
	}
	return out, nil
}

// keyHashes returns the hash of each wrapped key of s.
func (s *Sealed) keyHashes() [][32]byte {
	hs := make([][32]byte, len(s.Keys))
	for j := range s.Keys {
		hs[j] = s.Keys[j].encHash()
	}
	return hs
}

// copyFor is the copy of s for the recipient of key i: that key, and the
// others' hashes (hashes[j] of key j). With i = -1 every key is a hash,
// as in a [Forwarded] bulletin. In version 5 it is key i alone.
func (s *Sealed) copyFor(i int, hashes [][32]byte) *Sealed {
	c := *s
	c.Audience = slices.Clone(s.Audience)
	if s.Version == Version5 {
		k := s.Keys[i]
		k.Enc = slices.Clone(k.Enc)
		c.Recipients, c.Keys = []string{k.Recipient}, []WrappedKey{k}
		c.Ciphertext, c.Signature = slices.Clone(s.Ciphertext), slices.Clone(s.Signature)
		return &c
	}
	c.Recipients = slices.Clone(s.Recipients)
	c.Keys = make([]WrappedKey, len(s.Keys))
	for j, k := range s.Keys {
		if j == i {
			c.Keys[j] = WrappedKey{Recipient: k.Recipient, KEMKeyID: k.KEMKeyID, Enc: slices.Clone(k.Enc)}
			continue
		}
		c.Keys[j] = WrappedKey{Recipient: k.Recipient, KEMKeyID: k.KEMKeyID, EncHash: hashes[j]}
	}
	c.Ciphertext = slices.Clone(s.Ciphertext)
	c.Signature = slices.Clone(s.Signature)
	return &c
}

// Marshal encodes s in the canonical binary format (see the package doc).
// It returns an error wrapping [ErrMalformed] or [ErrVersion] if s breaks
// the format's rules, which [Unmarshal] would refuse.
func (s *Sealed) Marshal() ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("seal: marshal: %w", err)
	}
	n := len(sealedMagic) + 512 + len(s.Ciphertext) + len(s.Keys)*1280 + len(s.Signature)
	b := append(make([]byte, 0, n), sealedMagic...)
	b = appendHeader(b, &s.Header, true)
	b = appendBlob32(b, s.Ciphertext)
	b = appendKeys(b, s.Version, s.Keys)
	b = appendBlob16(b, s.Signature)
	return b, nil
}

// Unmarshal decodes a sealed bulletin written by [Sealed.Marshal]. It
// accepts only canonical input: Marshal of the result equals b. It
// checks structure only; [Open] authenticates. It returns an error
// wrapping [ErrMalformed] (bad magic, lengths over the limits, trailing
// bytes, duplicate recipients, keys not matching recipients) or
// [ErrVersion]. The result does not alias b.
func Unmarshal(b []byte) (*Sealed, error) {
	s, err := unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("seal: unmarshal: %w", err)
	}
	return s, nil
}

func unmarshal(b []byte) (*Sealed, error) {
	d := decoder{b: b}
	if string(d.take(len(sealedMagic), "magic")) != sealedMagic {
		return nil, fmt.Errorf("%w: not a sealed bulletin", ErrMalformed)
	}
	v := d.u8("version")
	if d.err == nil && !knownVersion(int(v)) {
		return nil, fmt.Errorf("%w: sealed format version %d", ErrVersion, v)
	}
	s := &Sealed{Header: readHeader(&d, v)}
	s.Ciphertext = d.blob("ciphertext", 4, MaxCiphertext)
	n := int(d.u8("wrapped key count"))
	if n > MaxRecipients {
		d.fail("%d wrapped keys, want at most %d", n, MaxRecipients)
	}
	for i := 0; i < n && d.err == nil; i++ {
		s.Keys = append(s.Keys, readKey(&d, v))
		if v == Version5 {
			s.Recipients = append(s.Recipients, s.Keys[i].Recipient)
		}
	}
	s.Signature = d.blob("signature", 2, maxSig)
	d.done()
	if d.err != nil {
		return nil, d.err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

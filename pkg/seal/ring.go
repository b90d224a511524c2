package seal

import (
	"crypto/hpke"
	"fmt"
)

// KeyRing finds a node's KEM private keys by key ID. A node keeps rotated
// keys in its ring so bulletins sealed before a rotation still open.
type KeyRing interface {
	// KEMPrivate returns the private key with ID keyID, if held.
	KEMPrivate(keyID string) (hpke.PrivateKey, bool)
}

// Ring is a [KeyRing] over several generations of a node's keys, e.g.
// Ring{current, previous.KEMKey()}, where current is a *[NodeKeys] and
// the retired generations are *[KEMKey]s.
type Ring []KeyRing

// KEMPrivate returns the private key with ID keyID from the first member
// of r holding it. Nil members hold nothing.
func (r Ring) KEMPrivate(keyID string) (hpke.PrivateKey, bool) {
	for _, k := range r {
		if k == nil {
			continue
		}
		if sk, ok := k.KEMPrivate(keyID); ok {
			return sk, true
		}
	}
	return nil, false
}

// KEMKey is a node's KEM private key alone: a generation the node retired
// ([NodeKeys.RotateKEM]) but keeps, so that bulletins sealed to it still
// open, without keeping the signing key it was once paired with. It is
// immutable, safe for concurrent use, and a [KeyRing] holding itself.
type KEMKey struct {
	kem hpke.PrivateKey
	id  string
}

// KEMKey returns k's KEM private key alone, to keep after rotating it.
func (k *NodeKeys) KEMKey() *KEMKey { return &KEMKey{kem: k.kem, id: k.kemID} }

// ID returns the [KeyID] of k's public key.
func (k *KEMKey) ID() string { return k.id }

// KEMPrivate returns k's private key if keyID is its ID.
func (k *KEMKey) KEMPrivate(keyID string) (hpke.PrivateKey, bool) {
	if k == nil || keyID != k.id {
		return nil, false
	}
	return k.kem, true
}

var (
	_ KeyRing = (*NodeKeys)(nil)
	_ KeyRing = (*KEMKey)(nil)
	_ KeyRing = Ring(nil)
)

// kemMagic starts the private format of a [KEMKey].
const kemMagic = "IANTKEMK"

// MarshalPrivate encodes k for storage at the node, which must keep the
// bytes secret (file mode 0600). Format, version 1:
//
//	"IANTKEMK" u8(1) str("MLKEM768-X25519") blob16(KEM seed)
func (k *KEMKey) MarshalPrivate() ([]byte, error) {
	seed, err := k.kem.Bytes()
	if err != nil {
		return nil, fmt.Errorf("seal: marshal KEM key: %w", err)
	}
	b := append([]byte(kemMagic), 1)
	b = appendString(b, nodeKEM)
	return appendBlob16(b, seed), nil
}

// ParseKEMPrivate decodes a key written by [KEMKey.MarshalPrivate]. It
// returns an error wrapping [ErrMalformed], [ErrVersion] or [ErrKey].
func ParseKEMPrivate(b []byte) (*KEMKey, error) {
	d := decoder{b: b}
	if string(d.take(len(kemMagic), "magic")) != kemMagic {
		return nil, fmt.Errorf("seal: parse KEM key: %w: not an IANT KEM key", ErrMalformed)
	}
	if v := d.u8("version"); d.err == nil && v != 1 {
		return nil, fmt.Errorf("seal: parse KEM key: %w: KEM key version %d", ErrVersion, v)
	}
	alg := d.str("KEM", maxAlgName)
	seed := d.blob("KEM key", 2, maxPublic)
	d.done()
	switch {
	case d.err != nil:
		return nil, fmt.Errorf("seal: parse KEM key: %w", d.err)
	case alg != nodeKEM:
		return nil, fmt.Errorf("seal: parse KEM key: %w: unsupported KEM %q", ErrKey, alg)
	}
	kem, err := kems[nodeKEM].NewPrivateKey(seed)
	if err != nil {
		return nil, fmt.Errorf("seal: parse KEM key: %w: %v", ErrKey, err)
	}
	return &KEMKey{kem: kem, id: KeyID(nodeKEM, kem.PublicKey().Bytes())}, nil
}

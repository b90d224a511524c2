package seal

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/oas-cicte/iant/pkg/region"
)

// Key algorithms of [NodeKeys]. They match [SuiteV1].
const (
	nodeKEM  = "MLKEM768-X25519"
	nodeSign = "Ed25519"
)

// NodeKeys are a member state node's long-lived private keys: an HPKE
// MLKEM768-X25519 key that unwraps content keys and an Ed25519 key that
// signs sealed bulletins. They are deliberately not the SVID's key: SVIDs
// rotate hourly, and archived bulletins must stay readable and verifiable.
//
// NodeKeys are immutable and safe for concurrent use. A *NodeKeys is a
// [KeyRing] holding its own KEM key.
type NodeKeys struct {
	state  string
	kem    hpke.PrivateKey
	kemPub []byte
	kemID  string
	sign   ed25519.PrivateKey
	signID string
}

// PublicKeys are the public halves of a node's [NodeKeys], as published in
// its [DirectoryEntry] and passed to [Seal] for each recipient.
type PublicKeys struct {
	State      string // member state code, e.g. "MX"
	KEMKeyID   string // [KeyID] of KEMPublic
	KEMPublic  []byte // HPKE MLKEM768-X25519 public key, 1216 bytes
	SignKeyID  string // [KeyID] of SignPublic
	SignPublic []byte // Ed25519 public key, 32 bytes
}

// KeyID returns the ID of a public key of algorithm alg ("MLKEM768-X25519",
// "Ed25519"): the first 16 bytes of SHA-256("iant/key-id/v1\x00" ‖ alg ‖
// "\x00" ‖ pub), in lower-case hex.
func KeyID(alg string, pub []byte) string {
	h := sha256.New()
	h.Write([]byte(domainKeyID))
	h.Write([]byte(alg))
	h.Write([]byte{0})
	h.Write(pub)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// GenerateNodeKeys creates fresh keys for the node of member state state.
// It takes no random source: since Go 1.26 crypto/hpke and crypto/ed25519
// always use the system's; tests wanting determinism use
// testing/cryptotest.SetGlobalRandom. It returns an error wrapping
// [ErrMalformed] if state is not a member state.
func GenerateNodeKeys(state string) (*NodeKeys, error) {
	if !region.IsMember(state) {
		return nil, fmt.Errorf("%w: %q is not a member state", ErrMalformed, state)
	}
	kem, err := kems[nodeKEM].GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("seal: generate KEM key: %w", err)
	}
	_, sign, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("seal: generate signing key: %w", err)
	}
	return newNodeKeys(state, kem, sign), nil
}

func newNodeKeys(state string, kem hpke.PrivateKey, sign ed25519.PrivateKey) *NodeKeys {
	kemPub := kem.PublicKey().Bytes()
	return &NodeKeys{
		state:  state,
		kem:    kem,
		kemPub: kemPub,
		kemID:  KeyID(nodeKEM, kemPub),
		sign:   sign,
		signID: KeyID(nodeSign, sign.Public().(ed25519.PublicKey)),
	}
}

// State returns the member state whose node holds k.
func (k *NodeKeys) State() string { return k.state }

// Public returns the public keys of k, with fresh slices.
func (k *NodeKeys) Public() PublicKeys {
	return PublicKeys{
		State:      k.state,
		KEMKeyID:   k.kemID,
		KEMPublic:  append([]byte(nil), k.kemPub...),
		SignKeyID:  k.signID,
		SignPublic: append([]byte(nil), k.sign.Public().(ed25519.PublicKey)...),
	}
}

// KEMPrivate returns k's KEM private key if keyID is its ID.
func (k *NodeKeys) KEMPrivate(keyID string) (hpke.PrivateKey, bool) {
	if k == nil || keyID != k.kemID {
		return nil, false
	}
	return k.kem, true
}

// KeyRing finds a node's KEM private keys by key ID. A node keeps rotated
// keys in its ring so bulletins sealed before a rotation still open.
type KeyRing interface {
	// KEMPrivate returns the private key with ID keyID, if held.
	KEMPrivate(keyID string) (hpke.PrivateKey, bool)
}

// Ring is a [KeyRing] over several generations of a node's keys, e.g.
// Ring{current, previous}.
type Ring []*NodeKeys

// KEMPrivate returns the private key with ID keyID from the first
// NodeKeys in r holding it.
func (r Ring) KEMPrivate(keyID string) (hpke.PrivateKey, bool) {
	for _, k := range r {
		if sk, ok := k.KEMPrivate(keyID); ok {
			return sk, true
		}
	}
	return nil, false
}

var (
	_ KeyRing = (*NodeKeys)(nil)
	_ KeyRing = Ring(nil)
)

// privateMagic starts the private key format.
const privateMagic = "IANTNKEY"

// MarshalPrivate encodes k for storage at the node, which must keep the
// bytes secret (file mode 0600). Format, version 1:
//
//	"IANTNKEY" u8(1) str(state) str("MLKEM768-X25519") blob16(KEM seed)
//	str("Ed25519") blob16(Ed25519 seed)
//
// where str and blob16 are a big-endian u16 length and the bytes.
func (k *NodeKeys) MarshalPrivate() ([]byte, error) {
	kemSeed, err := k.kem.Bytes()
	if err != nil {
		return nil, fmt.Errorf("seal: marshal KEM key: %w", err)
	}
	b := append([]byte(privateMagic), 1)
	b = appendString(b, k.state)
	b = appendString(b, nodeKEM)
	b = appendBlob16(b, kemSeed)
	b = appendString(b, nodeSign)
	b = appendBlob16(b, k.sign.Seed())
	return b, nil
}

// ParsePrivate decodes keys written by [NodeKeys.MarshalPrivate]. It
// returns an error wrapping [ErrMalformed], [ErrVersion] or [ErrKey].
func ParsePrivate(b []byte) (*NodeKeys, error) {
	d := decoder{b: b}
	if string(d.take(len(privateMagic), "magic")) != privateMagic {
		return nil, fmt.Errorf("%w: not IANT node keys", ErrMalformed)
	}
	if v := d.u8("version"); d.err == nil && v != 1 {
		return nil, fmt.Errorf("%w: node keys version %d", ErrVersion, v)
	}
	state := d.str("state", maxState)
	kemAlg := d.str("KEM", maxAlgName)
	kemSeed := d.blob("KEM key", 2, maxPublic)
	signAlg := d.str("signature algorithm", maxAlgName)
	signSeed := d.blob("signing key", 2, maxPublic)
	d.done()
	switch {
	case d.err != nil:
		return nil, d.err
	case !region.IsMember(state):
		return nil, fmt.Errorf("%w: %q is not a member state", ErrMalformed, state)
	case kemAlg != nodeKEM || signAlg != nodeSign:
		return nil, fmt.Errorf("%w: unsupported key algorithms %q, %q", ErrKey, kemAlg, signAlg)
	case len(signSeed) != ed25519.SeedSize:
		return nil, fmt.Errorf("%w: Ed25519 seed of %d bytes", ErrKey, len(signSeed))
	}
	kem, err := kems[nodeKEM].NewPrivateKey(kemSeed)
	if err != nil {
		return nil, fmt.Errorf("%w: KEM key: %v", ErrKey, err)
	}
	return newNodeKeys(state, kem, ed25519.NewKeyFromSeed(signSeed)), nil
}

// RotateKEM returns new keys for the same node with a fresh KEM key and the
// same signing key. Nodes rotate the KEM key (what confidentiality rests
// on) on a schedule and keep the old one in their [Ring] while bulletins
// sealed to it may still be in flight; the origin signing key stays, so
// signatures made before the rotation still verify against the directory.
func (k *NodeKeys) RotateKEM() (*NodeKeys, error) {
	kem, err := kems[nodeKEM].GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("seal: generate KEM key: %w", err)
	}
	return newNodeKeys(k.state, kem, k.sign), nil
}

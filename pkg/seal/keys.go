package seal

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/oas-cicte/iant/pkg/region"
)

// Key algorithms of [NodeKeys]. They match [SuiteV1].
const (
	nodeKEM  = "MLKEM768-X25519"
	nodeSign = "Ed25519"
)

// MaxRetiredSignKeys bounds the retired signing keys a [NodeKeys] keeps
// and a [DirectoryEntry] publishes. A rotation beyond it drops the oldest,
// whose signatures then stop verifying: rotate signing keys seldom (a
// compromise aside), so that the list spans every bulletin still in use.
const MaxRetiredSignKeys = 8

// NodeKeys are a member state node's long-lived private keys: an HPKE
// MLKEM768-X25519 key that unwraps content keys and an Ed25519 key that
// signs sealed bulletins, plus the public halves of the signing keys it
// retired ([NodeKeys.RotateSign]), which its directory entry keeps
// publishing. They are deliberately not the SVID's key: SVIDs rotate
// hourly, and archived bulletins must stay readable and verifiable.
//
// NodeKeys are immutable and safe for concurrent use. A *NodeKeys is a
// [KeyRing] holding its own KEM key.
type NodeKeys struct {
	state   string
	kem     hpke.PrivateKey
	kemPub  []byte
	kemID   string
	sign    ed25519.PrivateKey
	signID  string
	retired []RetiredSignKey // newest first, at most MaxRetiredSignKeys
	// compromised are IDs of compromised signing keys retired no longer
	// lists, newest first, at most MaxCompromisedSignKeys (compromised.go).
	compromised []string
}

// RetiredSignKey is a signing key its node replaced. The node's directory
// entry keeps publishing it, so that what it signed before RetiredAt
// still verifies and nothing it signs for a later time does.
type RetiredSignKey struct {
	// KeyID is the [KeyID] of Public.
	KeyID string
	// Public is the Ed25519 public key, 32 bytes.
	Public []byte
	// RetiredAt is when the key stopped signing.
	RetiredAt time.Time
	// Compromised says the node's operators retired the key because its
	// private half may be held by others ([NodeKeys.RotateSignCompromised]):
	// receivers then refuse whatever it signed, whenever it is dated
	// ([ErrKeyCompromised]), but for what they already hold.
	Compromised bool
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
	return newNodeKeys(state, kem, sign, nil), nil
}

func newNodeKeys(state string, kem hpke.PrivateKey, sign ed25519.PrivateKey, retired []RetiredSignKey) *NodeKeys {
	return newNodeKeysWith(state, kem, sign, retired, nil)
}

func newNodeKeysWith(state string, kem hpke.PrivateKey, sign ed25519.PrivateKey, retired []RetiredSignKey, compromised []string) *NodeKeys {
	kemPub := kem.PublicKey().Bytes()
	return &NodeKeys{
		state:       state,
		kem:         kem,
		kemPub:      kemPub,
		kemID:       KeyID(nodeKEM, kemPub),
		sign:        sign,
		signID:      KeyID(nodeSign, sign.Public().(ed25519.PublicKey)),
		retired:     cloneRetired(retired),
		compromised: slices.Clone(compromised),
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

// RetiredSignKeys returns the signing keys k's node retired, newest
// first, with fresh slices.
func (k *NodeKeys) RetiredSignKeys() []RetiredSignKey { return cloneRetired(k.retired) }

func cloneRetired(rs []RetiredSignKey) []RetiredSignKey {
	if len(rs) == 0 {
		return nil
	}
	out := make([]RetiredSignKey, len(rs))
	for i, r := range rs {
		out[i] = RetiredSignKey{KeyID: r.KeyID, Public: slices.Clone(r.Public), RetiredAt: r.RetiredAt, Compromised: r.Compromised}
	}
	return out
}

// KEMPrivate returns k's KEM private key if keyID is its ID.
func (k *NodeKeys) KEMPrivate(keyID string) (hpke.PrivateKey, bool) {
	if k == nil || keyID != k.kemID {
		return nil, false
	}
	return k.kem, true
}

// RotateKEM returns new keys for the same node with a fresh KEM key and the
// same signing keys. Nodes rotate the KEM key (what confidentiality rests
// on) on a schedule and keep the old one ([NodeKeys.KEMKey]) in their
// [Ring] while bulletins sealed to it may still be opened; the signing
// key stays, so signatures made before the rotation still verify.
func (k *NodeKeys) RotateKEM() (*NodeKeys, error) {
	kem, err := kems[nodeKEM].GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("seal: generate KEM key: %w", err)
	}
	return newNodeKeysWith(k.state, kem, k.sign, k.retired, k.compromised), nil
}

// RotateSign returns new keys for the same node with a fresh signing key
// and the same KEM key. The current signing key joins the retired ones,
// newest first, retired at now; beyond [MaxRetiredSignKeys] the oldest is
// dropped (a compromised one stays named, [NodeKeys.CompromisedSignKeys]).
// Publish the result's [NodeKeys.Entry] before signing with it:
// receivers then verify old bulletins with the retired key and refuse
// anything it signs for a time at or after now ([ErrKeyRetired]).
//
// It returns an error wrapping [ErrMalformed] if now is zero, not
// representable, or not after the last retirement, or if a compromised
// key dropped would make more than [MaxCompromisedSignKeys].
func (k *NodeKeys) RotateSign(now time.Time) (*NodeKeys, error) {
	return k.rotateSign(now, false)
}

// RotateSignCompromised is [NodeKeys.RotateSign] for a signing key whose
// private half may have been taken (the node was broken into): the
// retired key is marked compromised, and the entry publishing it
// (version 3) has receivers refuse any copy it signed, dated before its
// retirement or not, that they do not already hold ([ErrKeyCompromised]).
// Use it when the node is recovered, before it signs again.
func (k *NodeKeys) RotateSignCompromised(now time.Time) (*NodeKeys, error) {
	return k.rotateSign(now, true)
}

func (k *NodeKeys) rotateSign(now time.Time, compromised bool) (*NodeKeys, error) {
	now = now.Round(0).UTC()
	switch {
	case now.IsZero() || checkTime("retirement time", now) != nil:
		return nil, fmt.Errorf("seal: rotate signing key: %w: retirement time out of range", ErrMalformed)
	case len(k.retired) > 0 && !now.After(k.retired[0].RetiredAt):
		return nil, fmt.Errorf("seal: rotate signing key: %w: retirement time not after the last one", ErrMalformed)
	}
	_, sign, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("seal: generate signing key: %w", err)
	}
	old := RetiredSignKey{KeyID: k.signID, Public: slices.Clone(k.sign.Public().(ed25519.PublicKey)), RetiredAt: now,
		Compromised: compromised}
	retired, named, err := dropRetired(append([]RetiredSignKey{old}, k.retired...), k.compromised)
	if err != nil {
		return nil, fmt.Errorf("seal: rotate signing key: %w", err)
	}
	return newNodeKeysWith(k.state, k.kem, sign, retired, named), nil
}

// MarkSignCompromised returns new keys for the same node in which the
// retired signing key keyID is marked compromised, for a break-in found
// after a normal rotation: the next entry (version 3, published with a
// higher sequence) has receivers refuse whatever that key signed that
// they do not already hold ([ErrKeyCompromised]), even dated before its
// retirement. A key already marked stays marked (k is returned as is).
// It returns an error wrapping [ErrKey] if keyID is not one of k's
// retired signing keys (the current one included: retire it with
// [NodeKeys.RotateSignCompromised]; one dropped from the list: name it
// with [NodeKeys.MarkDroppedSignCompromised]).
func (k *NodeKeys) MarkSignCompromised(keyID string) (*NodeKeys, error) {
	i := slices.IndexFunc(k.retired, func(r RetiredSignKey) bool { return r.KeyID == keyID })
	switch {
	case i < 0:
		return nil, fmt.Errorf("seal: mark signing key compromised: %w: %q is not a retired signing key", ErrKey, keyID)
	case k.retired[i].Compromised:
		return k, nil
	}
	retired := cloneRetired(k.retired)
	retired[i].Compromised = true
	return newNodeKeysWith(k.state, k.kem, k.sign, retired, k.compromised), nil
}

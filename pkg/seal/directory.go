package seal

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/oas-cicte/iant/pkg/region"
)

// MaxEntryLifetime bounds NotAfter-NotBefore of a [DirectoryEntry]. An
// entry outlives the hourly SVID that signed it (its chain is verified at
// NotBefore), so a leaked SVID key must not mint entries valid for ever.
const MaxEntryLifetime = 400 * 24 * time.Hour

// DirectoryEntry publishes a node's public keys. The node signs it with
// its SVID ([SignEntry]) and puts it in the directory on the backbone;
// other nodes accept it only through [VerifyEntry]. Version 1 entries carry
// MLKEM768-X25519 and Ed25519 keys; version 2 entries also carry the
// node's retired signing keys, so that a signing-key rotation is announced
// in the directory and what the old keys signed before it still verifies;
// version 3 entries also say which retired keys are compromised
// ([RetiredSignKey.Compromised]); version 4 entries also name compromised
// keys the retired list no longer holds ([DirectoryEntry.CompromisedSign]).
type DirectoryEntry struct {
	// Version is the entry format version, [Version1] to [Version4];
	// version 3 flags each retired key (compromised or not), version 4
	// also carries CompromisedSign.
	Version int
	// NodeID is the SPIFFE ID of the node; it must sign the entry.
	NodeID string
	// State is the node's member state; NodeID must be its node.
	State string
	// KEMKeyID and KEMPublic are the node's HPKE key.
	KEMKeyID  string
	KEMPublic []byte
	// SignKeyID and SignPublic are the node's Ed25519 signing key.
	SignKeyID  string
	SignPublic []byte
	// RetiredSign are the node's retired signing keys, newest first, at
	// most [MaxRetiredSignKeys] (none in version 1; none compromised in
	// version 2).
	RetiredSign []RetiredSignKey
	// CompromisedSign are the IDs of the node's signing keys retired as
	// compromised (or marked so later) that RetiredSign no longer lists,
	// newest first, at most [MaxCompromisedSignKeys] (version 4 only):
	// they verify nothing, however long ago they were retired.
	CompromisedSign []string
	// NotBefore and NotAfter bound the entry's validity; both required.
	// NotBefore must fall within the signing SVID's validity.
	NotBefore, NotAfter time.Time
	// Sequence orders entries of one node: the directory keeps the highest.
	Sequence uint64
}

// Entry returns a directory entry publishing k's public keys for node
// nodeID, valid from notBefore to notAfter: version 2 with k's retired
// signing keys if it has any, version 3 if one of them is compromised,
// version 4 if it names compromised keys no longer retired
// ([NodeKeys.CompromisedSignKeys]), else version 1 (nodes that do not know a version read the lower ones).
func (k *NodeKeys) Entry(nodeID string, notBefore, notAfter time.Time, seq uint64) DirectoryEntry {
	p := k.Public()
	e := DirectoryEntry{
		Version: Version1, NodeID: nodeID, State: p.State,
		KEMKeyID: p.KEMKeyID, KEMPublic: p.KEMPublic,
		SignKeyID: p.SignKeyID, SignPublic: p.SignPublic,
		NotBefore: notBefore.Round(0).UTC(), NotAfter: notAfter.Round(0).UTC(),
		Sequence: seq,
	}
	if len(k.retired) > 0 {
		e.Version, e.RetiredSign = Version2, k.RetiredSignKeys()
		if anyCompromised(e.RetiredSign) {
			e.Version = Version3
		}
	}
	if len(k.compromised) > 0 {
		e.Version, e.CompromisedSign = Version4, slices.Clone(k.compromised)
	}
	return e
}

// SignKey returns the signing key with ID keyID that e publishes: the
// current one, or a retired one with its retirement time; for a key
// named in CompromisedSign, a SignerKey without public key, compromised
// (it verifies nothing). It is what a node's [SignerLookup] answers from
// a verified entry.
func (e DirectoryEntry) SignKey(keyID string) (SignerKey, bool) {
	if keyID == e.SignKeyID {
		return SignerKey{Public: slices.Clone(e.SignPublic)}, true
	}
	for _, r := range e.RetiredSign {
		if r.KeyID == keyID {
			return SignerKey{Public: slices.Clone(r.Public), RetiredAt: r.RetiredAt, Compromised: r.Compromised}, true
		}
	}
	if slices.Contains(e.CompromisedSign, keyID) {
		return SignerKey{Compromised: true}, true
	}
	return SignerKey{}, false
}

// PublicKeys returns the keys e publishes, ready for [Seal].
func (e DirectoryEntry) PublicKeys() PublicKeys {
	return PublicKeys{
		State: e.State, KEMKeyID: e.KEMKeyID, KEMPublic: slices.Clone(e.KEMPublic),
		SignKeyID: e.SignKeyID, SignPublic: slices.Clone(e.SignPublic),
	}
}

// check validates e's format: fields, lengths, times.
func (e *DirectoryEntry) check() error {
	switch {
	case e.Version < Version1 || e.Version > Version4:
		return fmt.Errorf("%w: directory entry version %d", ErrVersion, e.Version)
	case e.Version < Version4 && len(e.CompromisedSign) > 0:
		return fmt.Errorf("%w: compromised signing keys in a version %d entry", ErrMalformed, e.Version)
	case e.Version == Version1 && len(e.RetiredSign) > 0:
		return fmt.Errorf("%w: retired signing keys in a version 1 entry", ErrMalformed)
	case e.Version == Version2 && anyCompromised(e.RetiredSign):
		return fmt.Errorf("%w: a compromised signing key in a version 2 entry", ErrMalformed)
	}
	for _, f := range []struct {
		field, s string
		max      int
	}{
		{"node id", e.NodeID, maxSPIFFEID},
		{"state", e.State, maxState},
		{"kem key id", e.KEMKeyID, maxKeyID},
		{"sign key id", e.SignKeyID, maxKeyID},
	} {
		if err := checkString(f.field, f.s, f.max); err != nil {
			return err
		}
	}
	switch {
	case len(e.KEMPublic) == 0 || len(e.KEMPublic) > maxPublic:
		return fmt.Errorf("%w: KEM public key of %d bytes", ErrMalformed, len(e.KEMPublic))
	case len(e.SignPublic) == 0 || len(e.SignPublic) > maxPublic:
		return fmt.Errorf("%w: signing public key of %d bytes", ErrMalformed, len(e.SignPublic))
	case len(e.RetiredSign) > MaxRetiredSignKeys:
		return fmt.Errorf("%w: %d retired signing keys, at most %d", ErrMalformed, len(e.RetiredSign), MaxRetiredSignKeys)
	case len(e.CompromisedSign) > MaxCompromisedSignKeys:
		return fmt.Errorf("%w: %d compromised signing keys, at most %d", ErrMalformed, len(e.CompromisedSign), MaxCompromisedSignKeys)
	case e.NotBefore.IsZero() || e.NotAfter.IsZero() || !e.NotAfter.After(e.NotBefore):
		return fmt.Errorf("%w: validity must have NotBefore before NotAfter", ErrMalformed)
	case e.NotAfter.Sub(e.NotBefore) > MaxEntryLifetime:
		return fmt.Errorf("%w: validity longer than %s", ErrMalformed, MaxEntryLifetime)
	}
	if err := checkTime("not before", e.NotBefore); err != nil {
		return err
	}
	if err := checkTime("not after", e.NotAfter); err != nil {
		return err
	}
	return checkCompromised(e.CompromisedSign, e.SignKeyID, e.RetiredSign)
}

// checkKeys validates e's keys: a member state, keys that parse, IDs that
// match them.
func (e *DirectoryEntry) checkKeys() error {
	switch {
	case !region.IsMember(e.State):
		return fmt.Errorf("%w: %q is not a member state", ErrMalformed, e.State)
	case len(e.SignPublic) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: Ed25519 key of %d bytes", ErrKey, len(e.SignPublic))
	case KeyID(nodeSign, e.SignPublic) != e.SignKeyID:
		return fmt.Errorf("%w: sign key ID does not match its key", ErrKey)
	case KeyID(nodeKEM, e.KEMPublic) != e.KEMKeyID:
		return fmt.Errorf("%w: KEM key ID does not match its key", ErrKey)
	}
	if _, err := kems[nodeKEM].NewPublicKey(e.KEMPublic); err != nil {
		return fmt.Errorf("%w: KEM key: %v", ErrKey, err)
	}
	return checkRetired(e.RetiredSign, e.SignKeyID)
}

// appendEntry appends the canonical encoding of a checked entry:
//
//	u8 version, str node-id, str state, str kem-key-id, blob16 kem-public,
//	str sign-key-id, blob16 sign-public, i64 not-before, i64 not-after,
//	u64 sequence
//	version 2: u8 n (0..8), n × (str key-id, blob16 public, i64 retired-at)
//	version 3: u8 n (0..8), n × (str key-id, blob16 public, i64 retired-at,
//	           u8 flags: bit 0 compromised, the others zero)
//	version 4: as version 3, then u8 m (0..128), m × str compromised-key-id
func appendEntry(b []byte, e *DirectoryEntry) []byte {
	b = append(b, byte(e.Version))
	b = appendString(b, e.NodeID)
	b = appendString(b, e.State)
	b = appendString(b, e.KEMKeyID)
	b = appendBlob16(b, e.KEMPublic)
	b = appendString(b, e.SignKeyID)
	b = appendBlob16(b, e.SignPublic)
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(e.NotBefore)))
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(e.NotAfter)))
	b = binary.BigEndian.AppendUint64(b, e.Sequence)
	if e.Version >= Version2 {
		b = appendRetired(b, e.RetiredSign, true, e.Version >= Version3)
	}
	if e.Version >= Version4 {
		b = appendCompromised(b, e.CompromisedSign)
	}
	return b
}

// parseEntry decodes and checks canonical entry bytes.
func parseEntry(b []byte) (DirectoryEntry, error) {
	d := decoder{b: b}
	v := d.u8("entry version")
	if d.err == nil && (v < Version1 || v > Version4) {
		return DirectoryEntry{}, fmt.Errorf("%w: directory entry version %d", ErrVersion, v)
	}
	e := DirectoryEntry{Version: int(v)}
	e.NodeID = d.str("node id", maxSPIFFEID)
	e.State = d.str("state", maxState)
	e.KEMKeyID = d.str("kem key id", maxKeyID)
	e.KEMPublic = d.blob("kem public key", 2, maxPublic)
	e.SignKeyID = d.str("sign key id", maxKeyID)
	e.SignPublic = d.blob("sign public key", 2, maxPublic)
	e.NotBefore = wireTime(int64(d.u64("not before")))
	e.NotAfter = wireTime(int64(d.u64("not after")))
	e.Sequence = d.u64("sequence")
	if v >= Version2 {
		e.RetiredSign = readRetired(&d, true, v >= Version3)
	}
	if v >= Version4 {
		e.CompromisedSign = readCompromised(&d)
	}
	d.done()
	if d.err != nil {
		return DirectoryEntry{}, d.err
	}
	if err := e.check(); err != nil {
		return DirectoryEntry{}, err
	}
	return e, nil
}

// anyCompromised reports whether one of rs is compromised.
func anyCompromised(rs []RetiredSignKey) bool {
	return slices.ContainsFunc(rs, func(r RetiredSignKey) bool { return r.Compromised })
}

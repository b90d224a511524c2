package seal

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/oas-cicte/iant/pkg/region"
)

// privateMagic starts the private format of [NodeKeys].
const privateMagic = "IANTNKEY"

// MarshalPrivate encodes k for storage at the node, which must keep the
// bytes secret (file mode 0600). Format, version 2:
//
//	"IANTNKEY" u8(2) str(state) str("MLKEM768-X25519") blob16(KEM seed)
//	str("Ed25519") blob16(Ed25519 seed)
//	u8 n (0..8), n × (blob16 Ed25519 public, i64 retired-at)
//
// or, when a retired key is compromised, version 3, whose retired keys
// each end with u8 flags (bit 0 compromised, the others zero); or, when
// k names compromised keys no longer retired ([NodeKeys.CompromisedSignKeys]),
// version 4: version 3 followed by u8 m (0..128), m × str key-id;
// where str and blob16 are a big-endian u16 length and the bytes, and the
// n retired signing keys ([NodeKeys.RetiredSignKeys]) are newest first
// (retirement times strictly decreasing, Unix ns). Version 1 is the same
// without the retired keys; [ParsePrivate] reads all four.
func (k *NodeKeys) MarshalPrivate() ([]byte, error) {
	kemSeed, err := k.kem.Bytes()
	if err != nil {
		return nil, fmt.Errorf("seal: marshal KEM key: %w", err)
	}
	v := byte(2)
	switch {
	case len(k.compromised) > 0:
		v = 4
	case anyCompromised(k.retired):
		v = 3
	}
	b := append([]byte(privateMagic), v)
	b = appendString(b, k.state)
	b = appendString(b, nodeKEM)
	b = appendBlob16(b, kemSeed)
	b = appendString(b, nodeSign)
	b = appendBlob16(b, k.sign.Seed())
	b = appendRetired(b, k.retired, false, v >= 3)
	if v >= 4 {
		b = appendCompromised(b, k.compromised)
	}
	return b, nil
}

// ParsePrivate decodes keys written by [NodeKeys.MarshalPrivate], in
// version 1 to 4. It returns an error wrapping [ErrMalformed],
// [ErrVersion] or [ErrKey].
func ParsePrivate(b []byte) (*NodeKeys, error) {
	k, err := parsePrivate(b)
	if err != nil {
		return nil, fmt.Errorf("seal: parse node keys: %w", err)
	}
	return k, nil
}

func parsePrivate(b []byte) (*NodeKeys, error) {
	d := decoder{b: b}
	if string(d.take(len(privateMagic), "magic")) != privateMagic {
		return nil, fmt.Errorf("%w: not IANT node keys", ErrMalformed)
	}
	v := d.u8("version")
	if d.err == nil && (v < 1 || v > 4) {
		return nil, fmt.Errorf("%w: node keys version %d", ErrVersion, v)
	}
	state := d.str("state", maxState)
	kemAlg := d.str("KEM", maxAlgName)
	kemSeed := d.blob("KEM key", 2, maxPublic)
	signAlg := d.str("signature algorithm", maxAlgName)
	signSeed := d.blob("signing key", 2, maxPublic)
	var retired []RetiredSignKey
	var compromised []string
	if v >= 2 {
		retired = readRetired(&d, false, v >= 3)
	}
	if v >= 4 {
		compromised = readCompromised(&d)
	}
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
	k := newNodeKeysWith(state, kem, ed25519.NewKeyFromSeed(signSeed), retired, compromised)
	if err := checkRetired(k.retired, k.signID); err != nil {
		return nil, err
	}
	if err := checkCompromised(k.compromised, k.signID, k.retired); err != nil {
		return nil, err
	}
	return k, nil
}

// readRetired decodes a list of retired signing keys: u8 n, then n ×
// (str key-id if withID, blob16 public, i64 retired-at, u8 flags if
// withFlags). Without IDs, the IDs are computed from the keys.
func readRetired(d *decoder, withID, withFlags bool) []RetiredSignKey {
	n := int(d.u8("retired key count"))
	if n > MaxRetiredSignKeys {
		d.fail("%d retired signing keys, want at most %d", n, MaxRetiredSignKeys)
	}
	var out []RetiredSignKey
	for i := 0; i < n && d.err == nil; i++ {
		var r RetiredSignKey
		if withID {
			r.KeyID = d.str("retired key id", maxKeyID)
		}
		r.Public = d.blob("retired public key", 2, maxPublic)
		r.RetiredAt = wireTime(int64(d.u64("retirement time")))
		if withFlags {
			f := d.u8("retired key flags")
			if f&^flagCompromised != 0 {
				d.fail("retired key flags %#x: unknown bits", f)
			}
			r.Compromised = f&flagCompromised != 0
		}
		if !withID {
			r.KeyID = KeyID(nodeSign, r.Public)
		}
		out = append(out, r)
	}
	return out
}

// appendRetired appends the list readRetired decodes.
func appendRetired(b []byte, rs []RetiredSignKey, withID, withFlags bool) []byte {
	b = append(b, byte(len(rs)))
	for _, r := range rs {
		if withID {
			b = appendString(b, r.KeyID)
		}
		b = appendBlob16(b, r.Public)
		b = binary.BigEndian.AppendUint64(b, uint64(unixNano(r.RetiredAt)))
		if withFlags {
			var f byte
			if r.Compromised {
				f |= flagCompromised
			}
			b = append(b, f)
		}
	}
	return b
}

// flagCompromised is the bit of a retired key's flags saying it is
// compromised.
const flagCompromised = 1

// checkRetired validates retired signing keys: at most
// MaxRetiredSignKeys, Ed25519 keys matching their IDs, none the current
// key (currentID) nor repeated, retirement times set and strictly
// decreasing.
func checkRetired(rs []RetiredSignKey, currentID string) error {
	if len(rs) > MaxRetiredSignKeys {
		return fmt.Errorf("%w: %d retired signing keys, at most %d", ErrMalformed, len(rs), MaxRetiredSignKeys)
	}
	seen := []string{currentID}
	for i, r := range rs {
		switch {
		case len(r.Public) != ed25519.PublicKeySize:
			return fmt.Errorf("%w: retired signing key %d of %d bytes", ErrKey, i, len(r.Public))
		case KeyID(nodeSign, r.Public) != r.KeyID:
			return fmt.Errorf("%w: retired signing key %d does not match its ID", ErrKey, i)
		case slices.Contains(seen, r.KeyID):
			return fmt.Errorf("%w: retired signing key %d repeats a key", ErrMalformed, i)
		case r.RetiredAt.IsZero() || checkTime("retirement time", r.RetiredAt) != nil:
			return fmt.Errorf("%w: retired signing key %d has no valid retirement time", ErrMalformed, i)
		case i > 0 && !r.RetiredAt.Before(rs[i-1].RetiredAt):
			return fmt.Errorf("%w: retired signing keys not newest first", ErrMalformed)
		}
		seen = append(seen, r.KeyID)
	}
	return nil
}

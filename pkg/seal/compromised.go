package seal

import (
	"fmt"
	"slices"
)

// MaxCompromisedSignKeys bounds the compromised signing keys a
// [NodeKeys] and its [DirectoryEntry] (version 4) name beyond its
// retired ones ([NodeKeys.CompromisedSignKeys]): keys retired as
// compromised that later rotations dropped from the retired list, and
// keys marked compromised after they were dropped. 128 IDs take about
// 4.4 KB of an entry. A node that would need more refuses the change
// ([ErrMalformed]): its operators then reinstall it under a new identity.
const MaxCompromisedSignKeys = 128

// signKeyIDLen is the length of an Ed25519 key's [KeyID]: 16 bytes in hex.
const signKeyIDLen = 32

// CompromisedSignKeys returns the IDs of the signing keys k's node
// declared compromised that its retired list no longer holds, newest
// first. Its directory entry (version 4) keeps naming them, so that every
// node refuses what they signed however many rotations ago they were
// retired ([ErrKeyCompromised]).
func (k *NodeKeys) CompromisedSignKeys() []string { return slices.Clone(k.compromised) }

// MarkDroppedSignCompromised returns new keys for the same node naming
// keyID as a compromised signing key, for a key retired so long ago
// that k no longer lists it ([NodeKeys.RetiredSignKeys] holds the last
// [MaxRetiredSignKeys]); the caller (the node's key store) vouches that
// keyID was one of the node's signing keys. A key already named is
// returned as is. It returns an error wrapping [ErrKey] if keyID is not
// a signing key ID, is the current key or a retired one (mark it with
// [NodeKeys.MarkSignCompromised]), or [ErrMalformed] if k already names
// [MaxCompromisedSignKeys].
func (k *NodeKeys) MarkDroppedSignCompromised(keyID string) (*NodeKeys, error) {
	switch {
	case !isSignKeyID(keyID):
		return nil, fmt.Errorf("seal: mark signing key compromised: %w: %q is not a signing key ID", ErrKey, keyID)
	case keyID == k.signID:
		return nil, fmt.Errorf("seal: mark signing key compromised: %w: %s is the current signing key", ErrKey, keyID)
	case slices.ContainsFunc(k.retired, func(r RetiredSignKey) bool { return r.KeyID == keyID }):
		return nil, fmt.Errorf("seal: mark signing key compromised: %w: %s is a retired key: mark it as one", ErrKey, keyID)
	case slices.Contains(k.compromised, keyID):
		return k, nil
	}
	ids, err := addCompromised(k.compromised, keyID)
	if err != nil {
		return nil, fmt.Errorf("seal: mark signing key compromised: %w", err)
	}
	return newNodeKeysWith(k.state, k.kem, k.sign, k.retired, ids), nil
}

// addCompromised returns ids with id first, or an error wrapping
// ErrMalformed if that makes more than MaxCompromisedSignKeys.
func addCompromised(ids []string, id string) ([]string, error) {
	if len(ids) >= MaxCompromisedSignKeys {
		return nil, fmt.Errorf("%w: more than %d compromised signing keys", ErrMalformed, MaxCompromisedSignKeys)
	}
	return append([]string{id}, ids...), nil
}

// dropRetired keeps the newest MaxRetiredSignKeys of retired and moves
// the IDs of the compromised ones it drops to the front of compromised,
// so that no flag is lost with its key.
func dropRetired(retired []RetiredSignKey, compromised []string) ([]RetiredSignKey, []string, error) {
	if len(retired) <= MaxRetiredSignKeys {
		return retired, compromised, nil
	}
	out := slices.Clone(compromised)
	for _, r := range retired[MaxRetiredSignKeys:] {
		if !r.Compromised || slices.Contains(out, r.KeyID) {
			continue
		}
		var err error
		if out, err = addCompromised(out, r.KeyID); err != nil {
			return nil, nil, err
		}
	}
	return retired[:MaxRetiredSignKeys], out, nil
}

// isSignKeyID reports whether id has the form of a signing key's
// [KeyID]: 32 lower-case hex digits.
func isSignKeyID(id string) bool {
	if len(id) != signKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkCompromised validates the compromised key IDs of keys whose
// current signing key is currentID and retired ones rs: at most
// MaxCompromisedSignKeys, each a signing key ID, none repeated, none the
// current key nor a retired one (which carries its own flag).
func checkCompromised(ids []string, currentID string, rs []RetiredSignKey) error {
	if len(ids) > MaxCompromisedSignKeys {
		return fmt.Errorf("%w: %d compromised signing keys, at most %d", ErrMalformed, len(ids), MaxCompromisedSignKeys)
	}
	for i, id := range ids {
		switch {
		case !isSignKeyID(id):
			return fmt.Errorf("%w: compromised signing key %d: not a key ID", ErrMalformed, i)
		case id == currentID || slices.ContainsFunc(rs, func(r RetiredSignKey) bool { return r.KeyID == id }):
			return fmt.Errorf("%w: compromised signing key %d is listed as current or retired", ErrMalformed, i)
		case slices.Contains(ids[:i], id):
			return fmt.Errorf("%w: compromised signing key %d repeats a key", ErrMalformed, i)
		}
	}
	return nil
}

// readCompromised decodes a list of compromised key IDs: u8 n (0..128),
// n × str key-id.
func readCompromised(d *decoder) []string {
	n := int(d.u8("compromised key count"))
	if n > MaxCompromisedSignKeys {
		d.fail("%d compromised signing keys, want at most %d", n, MaxCompromisedSignKeys)
	}
	var out []string
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.str("compromised key id", maxKeyID))
	}
	return out
}

// appendCompromised appends the list readCompromised decodes.
func appendCompromised(b []byte, ids []string) []byte {
	b = append(b, byte(len(ids)))
	for _, id := range ids {
		b = appendString(b, id)
	}
	return b
}

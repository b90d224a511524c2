package keystore

import (
	"fmt"
	"slices"

	"github.com/oas-cicte/iant/pkg/seal"
)

// MarkCompromised marks the retired signing key keyID as compromised
// ([seal.NodeKeys.MarkSignCompromised]), for a break-in discovered after
// the key was retired normally: the current keys' next directory entry
// (version 3) says so, and receivers then refuse whatever it signed that
// they do not already hold, whenever it is dated. Its retirement time is
// unchanged. A key so old that the current keys no longer list it (more
// than seal.MaxRetiredSignKeys rotations ago) can be marked as long as
// this store dropped it itself: the entry (version 4) then names it
// ([seal.NodeKeys.MarkDroppedSignCompromised]). The change is on disk
// when MarkCompromised returns; publish the new entry next (a running
// node: statenode's MarkSignKeyCompromised; a stopped one publishes it
// when it starts).
//
// It returns an error wrapping [ErrCurrentSignKey] if keyID is the
// current signing key (rotate it with [SignRotation.Compromised]),
// [ErrUnknownSignKey] if this store never retired a signing key with
// that ID (keys dropped by node versions before key files of format 2
// are not known), [ErrAlreadyCompromised] if it is already marked
// (nothing changes), an error wrapping seal.ErrMalformed if the entry
// would name more than seal.MaxCompromisedSignKeys keys, or the write
// error (the store then keeps its previous keys).
func (s *Store) MarkCompromised(keyID string) error {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.c.current
	if keyID == cur.Public().SignKeyID {
		return fmt.Errorf("%w: %s", ErrCurrentSignKey, keyID)
	}
	if slices.Contains(cur.CompromisedSignKeys(), keyID) {
		return fmt.Errorf("%w: %s", ErrAlreadyCompromised, keyID)
	}
	var next *seal.NodeKeys
	var err error
	i := slices.IndexFunc(cur.RetiredSignKeys(), func(r seal.RetiredSignKey) bool { return r.KeyID == keyID })
	switch {
	case i >= 0 && cur.RetiredSignKeys()[i].Compromised:
		return fmt.Errorf("%w: %s", ErrAlreadyCompromised, keyID)
	case i >= 0:
		next, err = cur.MarkSignCompromised(keyID)
	case s.dropped(keyID):
		next, err = cur.MarkDroppedSignCompromised(keyID)
	default:
		return fmt.Errorf("%w: %q", ErrUnknownSignKey, keyID)
	}
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	c := *s.c
	c.current = next
	return s.save(&c)
}

// dropped reports whether keyID is a signing key this store dropped from
// its retired list. The caller holds mu.
func (s *Store) dropped(keyID string) bool {
	return slices.ContainsFunc(s.c.dropped, func(d droppedSign) bool { return seal.KeyID("Ed25519", d.public) == keyID })
}

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
// unchanged. The change is on disk when MarkCompromised returns; publish
// the new entry next (a running node: statenode's
// MarkSignKeyCompromised; a stopped one publishes it when it starts).
//
// It returns an error wrapping [ErrCurrentSignKey] if keyID is the
// current signing key (rotate it with [SignRotation.Compromised]),
// [ErrUnknownSignKey] if no retired signing key has that ID, and
// [ErrAlreadyCompromised] if it is already marked (nothing changes), or
// the write error (the store then keeps its previous keys).
func (s *Store) MarkCompromised(keyID string) error {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.c.current
	if keyID == cur.Public().SignKeyID {
		return fmt.Errorf("%w: %s", ErrCurrentSignKey, keyID)
	}
	i := slices.IndexFunc(cur.RetiredSignKeys(), func(r seal.RetiredSignKey) bool { return r.KeyID == keyID })
	switch {
	case i < 0:
		return fmt.Errorf("%w: %q", ErrUnknownSignKey, keyID)
	case cur.RetiredSignKeys()[i].Compromised:
		return fmt.Errorf("%w: %s", ErrAlreadyCompromised, keyID)
	}
	next, err := cur.MarkSignCompromised(keyID)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	c := *s.c
	c.current = next
	return s.save(&c)
}

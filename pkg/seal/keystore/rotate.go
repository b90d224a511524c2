package keystore

import (
	"fmt"
	"slices"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
)

// RotateKEM makes a fresh KEM key current; the previous one is retired
// at now and kept (see [Store.Prune]). The change is on disk when
// RotateKEM returns; publish the new directory entry next. It returns an
// error wrapping [ErrClock] if now is before the current generation was
// created or before the last retirement, or the write error (the store
// then keeps its previous keys).
func (s *Store) RotateKEM(now time.Time) error {
	now = now.Round(0).UTC()
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkClock(now); err != nil {
		return err
	}
	if len(s.c.retired) >= maxGenerations {
		return fmt.Errorf("keystore: rotate KEM key: %d retired generations, at most %d; prune first", len(s.c.retired), maxGenerations)
	}
	next, err := s.c.current.RotateKEM()
	if err != nil {
		return fmt.Errorf("keystore: rotate KEM key: %w", err)
	}
	c := *s.c
	c.current, c.created = next, now
	c.retired = append([]retiredKEM{{key: s.c.current.KEMKey(), created: s.c.created, retired: now}}, s.c.retired...)
	return s.save(&c)
}

// RotateSign makes a fresh signing key current; the previous one is
// retired at now and kept public in the current keys, so the next
// directory entry announces it (see [seal.NodeKeys.RotateSign]). The
// change is on disk when RotateSign returns. It returns an error
// wrapping seal.ErrMalformed if now is not after the last signing-key
// retirement, or the write error.
func (s *Store) RotateSign(now time.Time) error {
	return s.RotateSignWith(now, SignRotation{})
}

// SignRotation says how a signing key is retired.
type SignRotation struct {
	// Compromised marks the retired key as compromised
	// ([seal.NodeKeys.RotateSignCompromised]): receivers then refuse
	// whatever it signed that they do not already hold.
	Compromised bool
}

// rotate returns k with a fresh signing key, as r says.
func (r SignRotation) rotate(k *seal.NodeKeys, now time.Time) (*seal.NodeKeys, error) {
	if r.Compromised {
		return k.RotateSignCompromised(now)
	}
	return k.RotateSign(now)
}

// RotateSignWith is [Store.RotateSign] with the retirement r: e.g. of a
// compromised key, rotated offline on a node being recovered (its next
// start publishes the entry before it signs).
func (s *Store) RotateSignWith(now time.Time, r SignRotation) error {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := r.rotate(s.c.current, now)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	c := *s.c
	c.current, c.dropped = next, withDropped(s.c.dropped, s.c.current, next)
	return s.save(&c)
}

// RotateSignAnnounced is [Store.RotateSign] for a signing key that must be
// announced before it signs anything: it makes the next keys, passes them
// to announce (which publishes their directory entry, listing the current
// signing key as retired at now), and only if announce returns nil makes
// them current and writes them. If announce fails, nothing changes and
// its error is returned: the current key goes on signing, and no
// directory entry says it was retired. If the write fails after the
// announcement, the store keeps its previous keys and the error says so:
// the caller should announce the current keys again (with a higher
// sequence), since the directory now lists the current signing key as
// retired. Readers of the store are not held up by announce; other
// changes wait for it, so announce must not change the store.
func (s *Store) RotateSignAnnounced(now time.Time, announce func(next *seal.NodeKeys) error) error {
	return s.RotateSignAnnouncedWith(now, SignRotation{}, announce)
}

// RotateSignAnnouncedWith is [Store.RotateSignAnnounced] with the
// retirement r.
func (s *Store) RotateSignAnnouncedWith(now time.Time, r SignRotation, announce func(next *seal.NodeKeys) error) error {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	cur := s.Current()
	next, err := r.rotate(cur, now)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	if err := announce(next); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *s.c
	c.current, c.dropped = next, withDropped(s.c.dropped, cur, next)
	if err := s.save(&c); err != nil {
		return fmt.Errorf("keystore: the new signing key was announced but not kept: %w", err)
	}
	return nil
}

// Prune drops the KEM keys retired longer ago than the retention at now
// (a key retired exactly Retention ago stays) and returns how many it
// dropped. With zero retention it drops none. The change is on disk when
// Prune returns.
func (s *Store) Prune(now time.Time) (int, error) {
	if s.retention == 0 {
		return 0, nil
	}
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := slices.DeleteFunc(slices.Clone(s.c.retired), func(g retiredKEM) bool {
		return now.Sub(g.retired) > s.retention
	})
	dropped := len(s.c.retired) - len(keep)
	if dropped == 0 {
		return 0, nil
	}
	c := *s.c
	c.retired = keep
	if err := s.save(&c); err != nil {
		return 0, err
	}
	return dropped, nil
}

// checkClock refuses a rotation at now before the current generation was
// created or before the last retirement.
func (s *Store) checkClock(now time.Time) error {
	last := s.c.created
	if len(s.c.retired) > 0 && s.c.retired[0].retired.After(last) {
		last = s.c.retired[0].retired
	}
	if now.IsZero() || now.Before(last) {
		return fmt.Errorf("%w: rotation at %s, last at %s", ErrClock, now.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))
	}
	return nil
}

// withDropped returns dropped with, in front, the retired signing keys of
// cur that next no longer lists (a rotation beyond
// seal.MaxRetiredSignKeys), newest first, at most maxDropped.
func withDropped(dropped []droppedSign, cur, next *seal.NodeKeys) []droppedSign {
	kept := next.RetiredSignKeys()
	var out []droppedSign
	for _, r := range cur.RetiredSignKeys() {
		if !slices.ContainsFunc(kept, func(k seal.RetiredSignKey) bool { return k.KeyID == r.KeyID }) {
			out = append(out, droppedSign{public: r.Public, retiredAt: r.RetiredAt})
		}
	}
	if len(out) == 0 {
		return dropped
	}
	out = append(out, dropped...)
	return out[:min(len(out), maxDropped)]
}

package keystore

import (
	"fmt"
	"slices"
	"time"
)

// RotateKEM makes a fresh KEM key current; the previous one is retired
// at now and kept (see [Store.Prune]). The change is on disk when
// RotateKEM returns; publish the new directory entry next. It returns an
// error wrapping [ErrClock] if now is before the current generation was
// created or before the last retirement, or the write error (the store
// then keeps its previous keys).
func (s *Store) RotateKEM(now time.Time) error {
	now = now.Round(0).UTC()
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
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := s.c.current.RotateSign(now)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	c := *s.c
	c.current = next
	return s.save(&c)
}

// Prune drops the KEM keys retired longer ago than the retention at now
// (a key retired exactly Retention ago stays) and returns how many it
// dropped. With zero retention it drops none. The change is on disk when
// Prune returns.
func (s *Store) Prune(now time.Time) (int, error) {
	if s.retention == 0 {
		return 0, nil
	}
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

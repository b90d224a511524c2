package keystore

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
)

// Options are the optional settings of [Open].
type Options struct {
	// Retention is how long a retired KEM key is kept after its
	// retirement (see the package doc for what it must cover). Zero keeps
	// retired keys for ever; negative is invalid.
	Retention time.Duration
	// Now is the clock Open uses to date the first generation of a new
	// file and the migration of an old one. Nil means time.Now.
	Now func() time.Time
	// Logger receives Info records when Open creates or migrates a file.
	// Nil means none.
	Logger *slog.Logger
}

// Generation describes one KEM key generation of a [Store].
type Generation struct {
	// KEMKeyID is the [seal.KeyID] of the generation's KEM key.
	KEMKeyID string
	// Created is when the generation became current; zero if unknown (a
	// file migrated from an earlier node version).
	Created time.Time
	// Retired is when a newer generation replaced it; zero for the
	// current one.
	Retired time.Time
}

// Store is a node's key file, loaded. See the package doc.
type Store struct {
	path      string
	retention time.Duration

	// changeMu serializes changes, including an announcement in
	// [Store.RotateSignAnnounced], during which mu is not held.
	changeMu sync.Mutex
	// mu guards c and is held for writing while a change is written.
	mu sync.RWMutex
	c  *contents
}

// Open loads the key file at path, which must hold the keys of member
// state state, or creates it with fresh keys if it does not exist
// (creating its directory, mode 0700). A file in the format of earlier
// node versions is migrated and rewritten.
//
// Errors name the file and wrap [ErrCorrupt], [ErrWrongState],
// [ErrPermissions] or [ErrInvalidOption], or the I/O error.
func Open(path, state string, opts Options) (*Store, error) {
	if opts.Retention < 0 {
		return nil, fmt.Errorf("%w: Retention is negative (%s)", ErrInvalidOption, opts.Retention)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{path: path, retention: opts.Retention}
	c, note, err := load(path, state, now().UTC())
	if err != nil {
		return nil, fmt.Errorf("keystore: key file %s: %w", path, err)
	}
	s.c = c
	if note != "" {
		if err := s.save(c); err != nil {
			return nil, err
		}
		if opts.Logger != nil {
			opts.Logger.Info(note, "path", path, "state", state)
		}
	}
	return s, nil
}

// load reads the key file or makes new contents; note is non-empty if
// the contents must be written.
func load(path, state string, now time.Time) (c *contents, note string, err error) {
	b, err := readFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		k, err := seal.GenerateNodeKeys(state)
		if err != nil {
			return nil, "", err
		}
		return &contents{state: state, current: k, created: now}, "key file created", nil
	case err != nil:
		return nil, "", err
	case isLegacy(b):
		note = "key file migrated from the earlier format"
		c, err = decodeLegacy(b, now)
	default:
		c, err = decode(b)
	}
	if err != nil {
		return nil, "", err
	}
	if c.state != state {
		return nil, "", fmt.Errorf("%w: it holds the keys of %s, not %s", ErrWrongState, c.state, state)
	}
	return c, note, nil
}

// save writes c and makes it the store's contents. The caller holds mu
// for writing, or owns s alone.
func (s *Store) save(c *contents) error {
	b, err := c.encode()
	if err != nil {
		return fmt.Errorf("keystore: key file %s: %w", s.path, err)
	}
	if err := writeFile(s.path, b); err != nil {
		return fmt.Errorf("keystore: write key file %s: %w", s.path, err)
	}
	s.c = c
	return nil
}

// Path returns the key file's path.
func (s *Store) Path() string { return s.path }

// Current returns the current keys: they seal, sign and are published.
func (s *Store) Current() *seal.NodeKeys {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.c.current
}

// Ring returns the current keys and every retained KEM generation,
// newest first, for [seal.Open] and [seal.OpenForwarded].
func (s *Store) Ring() seal.Ring {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := make(seal.Ring, 0, 1+len(s.c.retired))
	r = append(r, s.c.current)
	for _, g := range s.c.retired {
		r = append(r, g.key)
	}
	return r
}

// Generations describes the KEM generations held, newest (current) first.
func (s *Store) Generations() []Generation {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []Generation{{KEMKeyID: s.c.current.Public().KEMKeyID, Created: s.c.created}}
	for _, g := range s.c.retired {
		out = append(out, Generation{KEMKeyID: g.key.ID(), Created: g.created, Retired: g.retired})
	}
	return out
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/sqlitedb"
)

// SignKey is a signing key of a member state's node that this node
// verified in one of that state's directory entries, kept so that it
// still verifies what it signed once the state's entry no longer lists it
// (seal.MaxRetiredSignKeys rotations later). A kept key only ever becomes
// more restricted: see [Store.KeepSignKeys].
type SignKey struct {
	// State is the member state whose node's key it is.
	State string
	// KeyID is the key's ID (seal.KeyID).
	KeyID string
	// Public is the Ed25519 public key.
	Public []byte
	// RetiredAt is when the node retired the key; zero while current.
	RetiredAt time.Time
	// Compromised says the node retired it as compromised.
	Compromised bool
	// Sequence is the sequence of the entry that listed it.
	Sequence uint64
}

// KeepSignKeys records keys, all listed by one verified directory entry
// (with its sequence). A key not kept yet is added. A kept key changes
// only towards more restriction: it becomes compromised if an entry says
// so (and never stops being so); its retirement time is set, or moves
// earlier, only by an entry with a higher sequence than the one that
// last listed it; it never moves later nor is cleared. The public key
// kept is never replaced. Errors: an incomplete key, [ErrClosed].
func (s *Store) KeepSignKeys(ctx context.Context, keys []SignKey) error {
	if err := checkSignKeys(keys); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		err := keepSignKeys(ctx, tx, keys)
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("store: keep signing keys: %w", err)
	}
	return nil
}

// checkSignKeys refuses an incomplete key.
func checkSignKeys(keys []SignKey) error {
	for _, k := range keys {
		if k.State == "" || k.KeyID == "" || len(k.Public) == 0 {
			return fmt.Errorf("store: keep signing keys: incomplete key %q of %q", k.KeyID, k.State)
		}
	}
	return nil
}

// keepSignKeys records keys in tx.
func keepSignKeys(ctx context.Context, tx *sql.Tx, keys []SignKey) error {
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, keepSignKeySQL, k.State, k.KeyID, k.Public, unixOrZero(k.RetiredAt),
			boolInt(k.Compromised), int64(k.Sequence)); err != nil {
			return err
		}
	}
	return nil
}

// signKeysSchema is migration 8 of node.db, and the one migration of
// a [SignKeys] database.
const signKeysSchema = `
CREATE TABLE sign_keys (
	state       TEXT    NOT NULL,
	key_id      TEXT    NOT NULL,
	public      BLOB    NOT NULL,
	retired_at  INTEGER NOT NULL, -- Unix nanoseconds; 0 while current
	compromised INTEGER NOT NULL CHECK (compromised IN (0, 1)),
	sequence    INTEGER NOT NULL, -- the latest entry that listed it (uint64 as int64 bits)
	PRIMARY KEY (state, key_id)
) STRICT, WITHOUT ROWID;
`

const keepSignKeySQL = `INSERT INTO sign_keys (state, key_id, public, retired_at, compromised, sequence)
	VALUES (?, ?, ?, ?, ?, ?)
	ON CONFLICT (state, key_id) DO UPDATE SET
		compromised = max(compromised, excluded.compromised),
		retired_at = CASE
			WHEN excluded.sequence > sequence AND excluded.retired_at != 0
				AND (retired_at = 0 OR excluded.retired_at < retired_at) THEN excluded.retired_at
			ELSE retired_at END,
		sequence = max(sequence, excluded.sequence)`

// CompromiseSignKeys marks compromised the kept signing keys of state
// whose IDs are keyIDs, as a verified directory entry of state names
// them (seal.DirectoryEntry.CompromisedSign): keys this node kept from
// older entries then verify nothing. IDs not kept are ignored (the entry
// names them, so a lookup refuses them anyway). [ErrClosed] after Close.
func (s *Store) CompromiseSignKeys(ctx context.Context, state string, keyIDs []string) error {
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		err := compromiseSignKeys(ctx, tx, state, keyIDs)
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("store: compromise signing keys of %s: %w", state, err)
	}
	return nil
}

// compromiseSignKeys marks keyIDs of state compromised in tx.
func compromiseSignKeys(ctx context.Context, tx *sql.Tx, state string, keyIDs []string) error {
	for _, id := range keyIDs {
		if _, err := tx.ExecContext(ctx, `UPDATE sign_keys SET compromised = 1 WHERE state = ? AND key_id = ?`, state, id); err != nil {
			return err
		}
	}
	return nil
}

// KeptSignKey returns the signing key keyID of state's node as kept, with
// found false if this node never verified it. [ErrClosed] after Close.
func (s *Store) KeptSignKey(ctx context.Context, state, keyID string) (k SignKey, found bool, err error) {
	leave, err := s.enter()
	if err != nil {
		return SignKey{}, false, fmt.Errorf("store: signing key %s of %s: %w", keyID, state, err)
	}
	defer leave()
	return keptSignKey(ctx, s.db, state, keyID)
}

// keptSignKey reads the kept key keyID of state from db.
func keptSignKey(ctx context.Context, db *sql.DB, state, keyID string) (k SignKey, found bool, err error) {
	var retired, compromised, seq int64
	err = db.QueryRowContext(ctx, `SELECT public, retired_at, compromised, sequence FROM sign_keys
		WHERE state = ? AND key_id = ?`, state, keyID).Scan(&k.Public, &retired, &compromised, &seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return SignKey{}, false, nil
	case err != nil:
		return SignKey{}, false, fmt.Errorf("store: signing key %s of %s: %w", keyID, state, err)
	}
	k.State, k.KeyID, k.Compromised, k.Sequence = state, keyID, compromised == 1, uint64(seq)
	if retired != 0 {
		k.RetiredAt = time.Unix(0, retired).UTC()
	}
	return k, true, nil
}

// unixOrZero is t in Unix nanoseconds, 0 for the zero time.
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// boolInt is 1 for true, 0 for false.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// SignKeys is a database of kept signing keys alone, for a node that
// keeps no bulletins (the secretariat's): the sign_keys table of node.db,
// with the same rules ([Store.KeepSignKeys]). It is safe for concurrent
// use.
type SignKeys struct {
	db *sql.DB
}

// OpenSignKeys opens (creating it) the kept-keys database at path.
func OpenSignKeys(ctx context.Context, path string) (*SignKeys, error) {
	db, err := sqlitedb.Open(ctx, path, []string{signKeysSchema}, nil)
	if err != nil {
		return nil, fmt.Errorf("store: open signing keys %s: %w", path, err)
	}
	return &SignKeys{db: db}, nil
}

// Keep is [Store.KeepSignKeys].
func (s *SignKeys) Keep(ctx context.Context, keys []SignKey) error {
	if err := checkSignKeys(keys); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: keep signing keys: %w", err)
	}
	if err := keepSignKeys(ctx, tx, keys); err != nil {
		return errors.Join(fmt.Errorf("store: keep signing keys: %w", err), tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: keep signing keys: %w", err)
	}
	return nil
}

// Compromise is [Store.CompromiseSignKeys].
func (s *SignKeys) Compromise(ctx context.Context, state string, keyIDs []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: compromise signing keys of %s: %w", state, err)
	}
	if err := compromiseSignKeys(ctx, tx, state, keyIDs); err != nil {
		return errors.Join(fmt.Errorf("store: compromise signing keys of %s: %w", state, err), tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: compromise signing keys of %s: %w", state, err)
	}
	return nil
}

// Kept is [Store.KeptSignKey].
func (s *SignKeys) Kept(ctx context.Context, state, keyID string) (SignKey, bool, error) {
	return keptSignKey(ctx, s.db, state, keyID)
}

// Close closes the database.
func (s *SignKeys) Close() error { return s.db.Close() }

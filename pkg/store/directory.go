package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DirectoryMark is the newest directory entry of a member state's node
// that this node accepted. The state node refuses an entry with a lower
// sequence, or the same sequence and other content: a replay of an older
// genuine entry, e.g. one whose key was rotated away since. Kept in the
// database, the mark outlives a restart.
type DirectoryMark struct {
	// State is the member state whose entry it is.
	State string
	// Sequence is the entry's sequence.
	Sequence uint64
	// Digest is the SHA-256 of the entry's content, whatever its
	// signature: an entry signed again compares equal.
	Digest [sha256.Size]byte
	// NotAfter is when the entry stops being valid.
	NotAfter time.Time
	// Entry is the signed entry as published, so that it can be used
	// again (verified again) after a restart.
	Entry []byte
	// AcceptedAt is when the node accepted it.
	AcceptedAt time.Time
}

// DirectoryMark returns the mark of state's directory entry, with found
// false if the node never accepted one. [ErrClosed] after Close.
func (s *Store) DirectoryMark(ctx context.Context, state string) (m DirectoryMark, found bool, err error) {
	leave, err := s.enter()
	if err != nil {
		return DirectoryMark{}, false, fmt.Errorf("store: directory mark of %s: %w", state, err)
	}
	defer leave()
	var seq, notAfter, accepted int64
	var digest []byte
	err = s.db.QueryRowContext(ctx, `SELECT sequence, digest, not_after, entry, accepted_at FROM directory_marks
		WHERE state = ?`, state).Scan(&seq, &digest, &notAfter, &m.Entry, &accepted)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return DirectoryMark{}, false, nil
	case err != nil:
		return DirectoryMark{}, false, fmt.Errorf("store: directory mark of %s: %w", state, err)
	case len(digest) != sha256.Size:
		return DirectoryMark{}, false, fmt.Errorf("store: directory mark of %s: digest of %d bytes", state, len(digest))
	}
	m.State, m.Sequence, m.NotAfter, m.AcceptedAt = state, uint64(seq), time.Unix(0, notAfter).UTC(), time.Unix(0, accepted).UTC()
	copy(m.Digest[:], digest)
	return m, true, nil
}

// SetDirectoryMark records m as the mark of m.State, replacing the one
// before. The caller decides whether m may replace it (package statenode
// never lowers a mark while the entry it names is valid). Errors: kind
// Invalid for an incomplete mark, [ErrClosed].
func (s *Store) SetDirectoryMark(ctx context.Context, m DirectoryMark) error {
	if m.State == "" || len(m.Entry) == 0 || m.NotAfter.IsZero() {
		return fmt.Errorf("store: set directory mark: incomplete mark of %q", m.State)
	}
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO directory_marks (state, sequence, digest, not_after, entry, accepted_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (state) DO UPDATE SET sequence = excluded.sequence, digest = excluded.digest,
				not_after = excluded.not_after, entry = excluded.entry, accepted_at = excluded.accepted_at`,
			m.State, int64(m.Sequence), m.Digest[:], m.NotAfter.UnixNano(), m.Entry, m.AcceptedAt.UnixNano())
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("store: set directory mark of %s: %w", m.State, err)
	}
	return nil
}

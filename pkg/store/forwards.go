package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// QueueForward commits the forward of bulletin (c.BulletinOrigin,
// c.BulletinID) to c.Recipient: its copy in the outbox, the receipts rs
// that report it (the forwarder's "forwarded") and the forward in the
// node's record of forwards ([Store.Forwards]), so that the origin's
// revocation can be relayed along it; and, when grant is not "", marks
// that consent grant used, all in one transaction, all or nothing. A
// grant used already gives [ErrGrantUsed] and nothing is stored. When
// the copy was queued before, no receipt is added (those whose id was
// queued before are skipped anyway, as [Store.QueueReceipts] does). It
// returns the number of copies added (0 or 1). maxPending as in
// [Store.QueueCopies]. Errors: kind Invalid for an incomplete copy,
// [ErrOutboxFull], [ErrClosed].
func (s *Store) QueueForward(ctx context.Context, c Copy, grant string, rs []Receipt, at time.Time, maxPending int) (int, error) {
	if err := checkCopies([]Copy{c}); err != nil {
		return 0, fmt.Errorf("store: queue forward: %w", err)
	}
	added := 0
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		if err := checkRoom(ctx, tx, maxPending); err != nil {
			return false, err
		}
		if grant != "" {
			if err := useGrant(ctx, tx, grant, at); err != nil {
				return false, err
			}
		}
		var err error
		if added, err = insertCopies(ctx, tx, []Copy{c}, at); err != nil {
			return false, err
		}
		if added > 0 {
			if _, err := insertReceipts(ctx, tx, rs, at); err != nil {
				return false, err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO forwards (origin, id, target, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (origin, id, target) DO NOTHING`, c.bulletinOrigin(), c.BulletinID, c.Recipient, at.UnixNano())
		return err == nil, err
	})
	if err != nil {
		return 0, fmt.Errorf("store: queue forward of %s to %s: %w", c.BulletinID, c.Recipient, err)
	}
	return added, nil
}

// Forwards returns the states this node forwarded bulletin id of origin
// to, sorted. [ErrClosed] after Close.
func (s *Store) Forwards(ctx context.Context, origin, id string) ([]string, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: forwards of %s/%s: %w", origin, id, err)
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, `SELECT target FROM forwards WHERE origin = ? AND id = ? ORDER BY target`, origin, id)
	if err != nil {
		return nil, fmt.Errorf("store: forwards of %s/%s: %w", origin, id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("store: forwards of %s/%s: %w", origin, id, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

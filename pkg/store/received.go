package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// PutReceived is [Store.PutWithReceipts] for a bulletin received from
// another state, kept with how it arrived (d): the sealed copy, which the
// node needs to forward it, and the state whose forward brought it. When
// the bulletin is already stored with identical content, its record keeps
// its first delivery; only a copy it lacked (stored before copies were
// kept) is filled in.
func (s *Store) PutReceived(ctx context.Context, b bulletin.Bulletin, at time.Time, d Delivery, receipts []Receipt) (rec Record, inserted bool, err error) {
	rec, inserted, err = s.put(ctx, b, Received, at, d, receipts)
	if err != nil {
		return Record{}, false, fmt.Errorf("store: put received bulletin %s from %s: %w", b.ID, b.Origin, err)
	}
	return rec, inserted, nil
}

// fillCopy sets the copy of the record at cursor, and the key that signed
// it, if it has none, or if d's copy of the same message was signed by
// another key than the one kept (its origin signed it again, after
// declaring a key compromised: the row then rests on the newer
// signature, and is not withdrawn for the older key); it reports whether
// it did.
func fillCopy(ctx context.Context, tx *sql.Tx, cursor uint64, d Delivery) (bool, error) {
	if len(d.Copy) == 0 {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE bulletins SET copy = ?, sign_key = ?
		WHERE cursor = ? AND (copy IS NULL OR (? != '' AND sign_key IS NOT ?))`,
		d.Copy, nullString(d.SignKey), int64(cursor), d.SignKey, d.SignKey)
	if err != nil {
		return false, fmt.Errorf("keep copy: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ReceivedCopy returns the sealed copy of bulletin id from origin as this
// node received it ([Delivery.Copy]); nil when none is kept (a sent
// bulletin, or one stored before copies were kept). No such bulletin:
// [ErrNotFound]; after Close, [ErrClosed].
func (s *Store) ReceivedCopy(ctx context.Context, origin, id string) ([]byte, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: copy of bulletin %s: %w", id, err)
	}
	defer leave()
	var data []byte
	err = s.db.QueryRowContext(ctx, `SELECT copy FROM bulletins WHERE origin = ? AND id = ?`, origin, id).Scan(&data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("store: copy of bulletin %s: %w", id, notFound(id))
	case err != nil:
		return nil, fmt.Errorf("store: copy of bulletin %s: %w", id, err)
	}
	return data, nil
}

// bulletinOrigin is c.BulletinOrigin, or Origin when it is empty.
func (c *Copy) bulletinOrigin() string {
	if c.BulletinOrigin == "" {
		return c.Origin
	}
	return c.BulletinOrigin
}

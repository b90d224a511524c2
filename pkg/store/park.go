package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ParkedCopy is a copy from the node's inbox that could not be decided
// when it arrived (an unknown sealed format, a signer whose state's
// directory entry is missing): the node keeps it here, acknowledges it
// on the backbone so that the copies behind it flow, and tries it again
// until it is stored or rejected.
type ParkedCopy struct {
	// Seq is the park order, set by [Store.Park].
	Seq uint64
	// Subject is the copy's inbox subject.
	Subject string
	// Origin is the state that published the copy (the subject's origin:
	// the bulletin's origin, or the forwarder of a forward). Its bound
	// counts the copy.
	Origin string
	// BulletinID is the bulletin id the subject names.
	BulletinID string
	// Hash is the SHA-256 of Data, set by [Store.Park].
	Hash [sha256.Size]byte
	// Data is the copy as received.
	Data []byte
	// StreamSeq is the copy's sequence in the inbox stream.
	StreamSeq uint64
	// Published is when the backbone stored the copy; zero if unknown.
	Published time.Time
	// FirstSeen is when it was parked.
	FirstSeen time.Time
	// Attempts counts the times it was tried, parking included.
	Attempts int
	// Reason says why it waits; WaitingFor names the state whose
	// directory entry it waits for, "" when it waits for none.
	Reason, WaitingFor string
	// NextTry is when it is due to be tried again.
	NextTry time.Time
}

// ParkLimits bound what one publishing state may have parked at this
// node; zero fields bound nothing.
type ParkLimits struct {
	MaxCopies int
	MaxBytes  int64
}

// ParkRetry reschedules parked copy Seq after an attempt that did not
// decide it.
type ParkRetry struct {
	Seq                uint64
	Attempts           int
	Reason, WaitingFor string
	NextTry            time.Time
}

// ParkedCount is what one publishing state has parked.
type ParkedCount struct {
	Origin string
	Copies int
	Bytes  int64
	// Oldest is when its oldest parked copy was parked.
	Oldest time.Time
	// Reasons counts the copies per reason they wait for.
	Reasons map[string]int
}

// Park keeps p (its Seq and Hash are set here) unless the same copy —
// the same origin, bulletin id and bytes — is parked already, and
// reports whether it added it: parking again after a crash before the
// backbone heard of the first is harmless. A copy that would take its
// origin beyond lim is refused with [ErrParkFull] (another origin's
// bound is never touched). [ErrClosed] after Close.
func (s *Store) Park(ctx context.Context, p ParkedCopy, lim ParkLimits) (added bool, err error) {
	if p.Origin == "" || p.BulletinID == "" || len(p.Data) == 0 {
		return false, fmt.Errorf("store: park copy %q from %q: incomplete", p.BulletinID, p.Origin)
	}
	p.Hash = sha256.Sum256(p.Data)
	err = s.write(ctx, func(tx *sql.Tx) (bool, error) {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM parked_copies WHERE origin = ? AND bulletin_id = ? AND copy_hash = ?`,
			p.Origin, p.BulletinID, p.Hash[:]).Scan(&one)
		switch {
		case err == nil:
			return false, nil
		case !errors.Is(err, sql.ErrNoRows):
			return false, err
		}
		if err := checkParkRoom(ctx, tx, p.Origin, int64(len(p.Data)), lim); err != nil {
			return false, err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO parked_copies (subject, origin, bulletin_id, copy_hash, data, stream_seq,
			published_at, first_seen, attempts, reason, waiting_for, next_try) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.Subject, p.Origin, p.BulletinID, p.Hash[:], p.Data, int64(p.StreamSeq), nanos(p.Published),
			nanos(p.FirstSeen), max(p.Attempts, 1), p.Reason, p.WaitingFor, nanos(p.NextTry))
		added = err == nil
		return added, err
	})
	if err != nil {
		return false, fmt.Errorf("store: park copy %s from %s: %w", p.BulletinID, p.Origin, err)
	}
	return added, nil
}

// checkParkRoom refuses a copy of size bytes that would take origin's
// parked copies beyond lim.
func checkParkRoom(ctx context.Context, tx *sql.Tx, origin string, size int64, lim ParkLimits) error {
	var n int
	var bytes int64
	err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(length(data)), 0) FROM parked_copies WHERE origin = ?`,
		origin).Scan(&n, &bytes)
	switch {
	case err != nil:
		return err
	case lim.MaxCopies > 0 && n+1 > lim.MaxCopies:
		return parkFull(origin, fmt.Sprintf("%d copies parked, the bound is %d", n, lim.MaxCopies))
	case lim.MaxBytes > 0 && bytes+size > lim.MaxBytes:
		return parkFull(origin, fmt.Sprintf("%d bytes parked and %d more, the bound is %d", bytes, size, lim.MaxBytes))
	}
	return nil
}

// DueParked returns up to limit parked copies due at now (NextTry not
// after it), in park order. [ErrClosed] after Close.
func (s *Store) DueParked(ctx context.Context, now time.Time, limit int) ([]ParkedCopy, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: parked copies: %w", err)
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, `SELECT seq, subject, origin, bulletin_id, copy_hash, data, stream_seq, published_at,
		first_seen, attempts, reason, waiting_for, next_try FROM parked_copies WHERE next_try <= ? ORDER BY seq LIMIT ?`,
		now.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: parked copies: %w", err)
	}
	defer rows.Close()
	var out []ParkedCopy
	for rows.Next() {
		var p ParkedCopy
		var seq, streamSeq, published, first, next int64
		var hash []byte
		if err := rows.Scan(&seq, &p.Subject, &p.Origin, &p.BulletinID, &hash, &p.Data, &streamSeq, &published,
			&first, &p.Attempts, &p.Reason, &p.WaitingFor, &next); err != nil {
			return nil, fmt.Errorf("store: parked copies: %w", err)
		}
		p.Seq, p.StreamSeq, p.NextTry = uint64(seq), uint64(streamSeq), fromNanos(next)
		p.Published, p.FirstSeen = fromOptNanos(published), fromNanos(first)
		copy(p.Hash[:], hash)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: parked copies: %w", err)
	}
	return out, nil
}

// NextParkedTry returns when the next parked copy is due, and false when
// none is parked. [ErrClosed] after Close.
func (s *Store) NextParkedTry(ctx context.Context) (time.Time, bool, error) {
	leave, err := s.enter()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next parked copy: %w", err)
	}
	defer leave()
	var next sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT min(next_try) FROM parked_copies`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("store: next parked copy: %w", err)
	}
	return fromNanos(next.Int64), next.Valid, nil
}

// RetryParked records attempts that left parked copies undecided, in one
// transaction. [ErrClosed] after Close.
func (s *Store) RetryParked(ctx context.Context, rs []ParkRetry) error {
	if len(rs) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		for _, r := range rs {
			if _, err := tx.ExecContext(ctx, `UPDATE parked_copies SET attempts = ?, reason = ?, waiting_for = ?, next_try = ?
				WHERE seq = ?`, r.Attempts, r.Reason, r.WaitingFor, r.NextTry.UnixNano(), int64(r.Seq)); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	return wrapErr("store: reschedule parked copies", err)
}

// Unpark removes decided parked copies (stored or rejected). Removing
// one that is gone already is not an error. [ErrClosed] after Close.
func (s *Store) Unpark(ctx context.Context, seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		for _, seq := range seqs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM parked_copies WHERE seq = ?`, int64(seq)); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	return wrapErr("store: unpark copies", err)
}

// HurryParked makes the parked copies waiting for state's directory
// entry due at now (every parked copy when state is "") and returns how
// many it touched. [ErrClosed] after Close.
func (s *Store) HurryParked(ctx context.Context, state string, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, `UPDATE parked_copies SET next_try = ?1 WHERE next_try > ?1 AND (?2 = '' OR waiting_for = ?2)`,
			now.UnixNano(), state)
		if err != nil {
			return false, err
		}
		n, err = res.RowsAffected()
		return n > 0, err
	})
	return int(n), wrapErr("store: hurry parked copies", err)
}

// ParkedByOrigin counts the parked copies of each publishing state,
// sorted by state. [ErrClosed] after Close.
func (s *Store) ParkedByOrigin(ctx context.Context) ([]ParkedCount, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: count parked copies: %w", err)
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, `SELECT origin, reason, count(*), sum(length(data)), min(first_seen) FROM parked_copies
		GROUP BY origin, reason ORDER BY origin, reason`)
	if err != nil {
		return nil, fmt.Errorf("store: count parked copies: %w", err)
	}
	defer rows.Close()
	var out []ParkedCount
	for rows.Next() {
		var origin, reason string
		var n int
		var bytes, oldest int64
		if err := rows.Scan(&origin, &reason, &n, &bytes, &oldest); err != nil {
			return nil, fmt.Errorf("store: count parked copies: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Origin != origin {
			out = append(out, ParkedCount{Origin: origin, Oldest: fromNanos(oldest), Reasons: map[string]int{}})
		}
		c := &out[len(out)-1]
		c.Copies, c.Bytes, c.Reasons[reason] = c.Copies+n, c.Bytes+bytes, n
		if t := fromNanos(oldest); t.Before(c.Oldest) {
			c.Oldest = t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count parked copies: %w", err)
	}
	return out, nil
}

// ParkedWaitingFor returns the states whose directory entries parked
// copies wait for, sorted. [ErrClosed] after Close.
func (s *Store) ParkedWaitingFor(ctx context.Context) ([]string, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: parked copies waiting: %w", err)
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT waiting_for FROM parked_copies WHERE waiting_for <> '' ORDER BY waiting_for`)
	if err != nil {
		return nil, fmt.Errorf("store: parked copies waiting: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			return nil, fmt.Errorf("store: parked copies waiting: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// nanos is t in Unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromOptNanos reads nanos' form.
func fromOptNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

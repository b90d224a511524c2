package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// PostKey is an author's idempotency key for a post: a retry with the same
// key returns the bulletin the first attempt committed.
type PostKey struct {
	// Author is the SPIFFE ID of the focal point who posts.
	Author string
	// Key is the client's idempotency key; the caller validates it.
	Key string
	// DraftHash identifies the draft: the same key with another draft is
	// refused.
	DraftHash [sha256.Size]byte
}

// Post is everything one post commits at once: the sent bulletin, one
// sealed copy per recipient, the receipts that report it, and the
// author's idempotency key.
type Post struct {
	// Bulletin is the bulletin as sent; the caller validated it.
	Bulletin bulletin.Bulletin
	// At is when it was posted.
	At time.Time
	// Copies are the sealed copies, in the order they are to be published.
	Copies []Copy
	// Receipts are the audit events reporting the post.
	Receipts []Receipt
	// Key, when not nil, makes the post idempotent under the author's key.
	Key *PostKey
	// MaxPending, when positive, refuses the post while that many copies
	// or more wait in the outbox.
	MaxPending int
}

// CommitPost stores a post in one transaction: the bulletin as [Sent], its
// copies in the outbox, its receipts (those whose event id is new) and its
// idempotency key. Either all of it is stored or nothing.
//
// If p.Key names a post committed before with the same DraftHash, nothing
// is stored and CommitPost returns that post's record with existing true;
// with another DraftHash it returns [ErrKeyReused] (kind Invalid, field
// idempotency_key). While p.MaxPending copies or more are pending it
// returns [ErrOutboxFull] (kind Unavailable). Other errors: kind Invalid
// for bad input, [ErrConflict] if the bulletin id is taken, [ErrClosed].
func (s *Store) CommitPost(ctx context.Context, p Post) (rec Record, existing bool, err error) {
	rec, existing, err = s.commitPost(ctx, p)
	if err != nil {
		return Record{}, false, fmt.Errorf("store: commit post of bulletin %s: %w", p.Bulletin.ID, err)
	}
	return rec, existing, nil
}

func (s *Store) commitPost(ctx context.Context, p Post) (Record, bool, error) {
	if err := checkPut(&p.Bulletin, Sent, p.At); err != nil {
		return Record{}, false, err
	}
	if err := checkCopies(p.Copies); err != nil {
		return Record{}, false, err
	}
	doc, sum, err := encode(p.Bulletin)
	if err != nil {
		return Record{}, false, err
	}
	var rec Record
	existing := false
	err = s.write(ctx, func(tx *sql.Tx) (bool, error) {
		if p.Key != nil {
			id, kerr := keyedPost(ctx, tx, *p.Key)
			if kerr != nil {
				return false, kerr
			}
			if id != "" {
				var gerr error
				rec, _, gerr = getRecord(ctx, tx, p.Bulletin.Origin, id)
				existing = gerr == nil
				return false, gerr
			}
		}
		if rerr := checkRoom(ctx, tx, p.MaxPending); rerr != nil {
			return false, rerr
		}
		switch _, _, gerr := getRecord(ctx, tx, p.Bulletin.Origin, p.Bulletin.ID); {
		case gerr == nil:
			return false, conflict(p.Bulletin.ID)
		case !errors.Is(gerr, ErrNotFound):
			return false, gerr
		}
		var ierr error
		if rec, ierr = insert(ctx, tx, &p.Bulletin, Sent, p.At, doc, sum, Delivery{}); ierr != nil {
			return false, ierr
		}
		return true, commitPostRows(ctx, tx, p)
	})
	return rec, existing, err
}

// commitPostRows writes a post's copies, receipts and key in tx.
func commitPostRows(ctx context.Context, tx *sql.Tx, p Post) error {
	if _, err := insertCopies(ctx, tx, p.Copies, p.At); err != nil {
		return err
	}
	if _, err := insertReceipts(ctx, tx, p.Receipts, p.At); err != nil {
		return err
	}
	if p.Key == nil {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO post_keys (author, idempotency_key, draft_hash, bulletin_id, created_at)
		VALUES (?, ?, ?, ?, ?)`, p.Key.Author, p.Key.Key, p.Key.DraftHash[:], p.Bulletin.ID, p.At.UnixNano())
	if err != nil {
		return fmt.Errorf("insert idempotency key: %w", err)
	}
	return nil
}

// keyedPost returns the id of the bulletin committed under k, "" if none;
// [ErrKeyReused] if k was used with another draft.
func keyedPost(ctx context.Context, q rowQuerier, k PostKey) (string, error) {
	var id string
	var hash []byte
	err := q.QueryRowContext(ctx, `SELECT bulletin_id, draft_hash FROM post_keys WHERE author = ? AND idempotency_key = ?`,
		k.Author, k.Key).Scan(&id, &hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read idempotency key: %w", err)
	case !bytes.Equal(hash, k.DraftHash[:]):
		return "", keyReused(id)
	}
	return id, nil
}

// LookupPost returns the record of the post committed under k, with found
// true; found is false if k was never used. The same key with another
// draft gives [ErrKeyReused] (kind Invalid, field idempotency_key).
func (s *Store) LookupPost(ctx context.Context, k PostKey) (rec Record, found bool, err error) {
	leave, err := s.enter()
	if err != nil {
		return Record{}, false, fmt.Errorf("store: look up post: %w", err)
	}
	defer leave()
	id, err := keyedPost(ctx, s.db, k)
	if err != nil || id == "" {
		return Record{}, false, wrapErr("store: look up post", err)
	}
	rec, _, err = scanRecord(s.db.QueryRowContext(ctx, `SELECT `+recordCols+` FROM bulletins AS b WHERE b.id = ? AND b.direction = ?`, id, int64(Sent)))
	if err != nil {
		return Record{}, false, fmt.Errorf("store: look up post: %w", err)
	}
	return rec, true, nil
}

// wrapErr prefixes a non-nil err with what; nil stays nil.
func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// checkRoom refuses while max or more copies are pending (max > 0).
func checkRoom(ctx context.Context, q rowQuerier, max int) error {
	if max <= 0 {
		return nil
	}
	n, err := countPendingCopies(ctx, q)
	if err != nil {
		return err
	}
	if n >= max {
		return outboxFull(n, max)
	}
	return nil
}

// checkCopies validates copies before anything is written.
func checkCopies(cs []Copy) error {
	for i, c := range cs {
		switch {
		case c.Recipient == "":
			return problem.Invalid("copies.recipient", "copy %d has no recipient", i)
		case c.Origin == "":
			return problem.Invalid("copies.origin", "copy %d has no origin", i)
		case c.BulletinID == "":
			return problem.Invalid("copies.bulletin_id", "copy %d has no bulletin id", i)
		case len(c.Data) == 0:
			return problem.Invalid("copies.data", "copy %d for %s is empty", i, c.Recipient)
		}
	}
	return nil
}

// insertCopies adds copies to the outbox in order, skipping one already
// queued for the same recipient, origin and message (the bulletin's
// origin and id, the message's kind and revision); it returns how many
// it added.
func insertCopies(ctx context.Context, tx *sql.Tx, cs []Copy, at time.Time) (int, error) {
	added := 0
	for _, c := range cs {
		kind, revision := c.message()
		res, err := tx.ExecContext(ctx, `INSERT INTO outbox_copies (recipient, origin, bulletin_origin, bulletin_id, kind, revision, data, queued_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (recipient, origin, bulletin_origin, bulletin_id, kind, revision) DO NOTHING`,
			c.Recipient, c.Origin, c.bulletinOrigin(), c.BulletinID, kind, revision, c.Data, at.UnixNano())
		if err != nil {
			return 0, fmt.Errorf("queue copy for %s: %w", c.Recipient, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("queue copy for %s: %w", c.Recipient, err)
		}
		added += int(n)
	}
	return added, nil
}

// QueueCopies adds copies to the outbox in one transaction, in order,
// outside a post (a forward; copies taken over from an older outbox). A
// copy already queued for the same recipient, origin and message (the
// bulletin's origin and id, the message's kind and revision) is skipped; QueueCopies returns how many it added. maxPending works as in
// [Post.MaxPending] ([ErrOutboxFull]). Errors: kind Invalid for an
// incomplete copy, [ErrClosed]. [Store.QueueForward] queues receipts
// with them.
func (s *Store) QueueCopies(ctx context.Context, cs []Copy, at time.Time, maxPending int) (int, error) {
	return s.queueCopies(ctx, cs, nil, at, maxPending)
}

// PendingCopies returns up to limit copies not yet published, in commit
// order. [ErrClosed] after Close.
func (s *Store) PendingCopies(ctx context.Context, limit int) ([]Copy, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: pending copies: %w", err)
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, `SELECT seq, recipient, origin, bulletin_origin, bulletin_id, kind, revision, data FROM outbox_copies
		WHERE published_at IS NULL ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending copies: %w", err)
	}
	defer rows.Close()
	var out []Copy
	for rows.Next() {
		var c Copy
		var seq int64
		if err := rows.Scan(&seq, &c.Recipient, &c.Origin, &c.BulletinOrigin, &c.BulletinID, &c.Kind, &c.Revision, &c.Data); err != nil {
			return nil, fmt.Errorf("store: pending copies: %w", err)
		}
		c.Seq = uint64(seq)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending copies: %w", err)
	}
	return out, nil
}

// MarkCopiesPublished records that the copies seqs were acknowledged by
// the backbone at time at, dropping their bytes, in one transaction,
// not synced to disk: a crash may forget it, and the copies are then
// published again (the backbone and the recipients drop duplicates).
// [ErrClosed] after Close.
func (s *Store) MarkCopiesPublished(ctx context.Context, seqs []uint64, at time.Time) error {
	if len(seqs) == 0 {
		return nil
	}
	err := s.writeUnsynced(ctx, func(tx *sql.Tx) (bool, error) {
		for _, seq := range seqs {
			if _, err := tx.ExecContext(ctx, `UPDATE outbox_copies SET data = NULL, published_at = ?
				WHERE seq = ? AND published_at IS NULL`, at.UnixNano(), int64(seq)); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("store: mark %d copies published: %w", len(seqs), err)
	}
	return nil
}

// PendingRecipients returns, in commit order, the recipients whose copy of
// bulletin id from origin (this node's own, or one it forwards) waits in
// the outbox. [ErrClosed] after Close.
func (s *Store) PendingRecipients(ctx context.Context, origin, id string) ([]string, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: pending recipients of %s: %w", id, err)
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, `SELECT recipient FROM outbox_copies
		WHERE bulletin_origin = ? AND bulletin_id = ? AND published_at IS NULL ORDER BY seq`, origin, id)
	if err != nil {
		return nil, fmt.Errorf("store: pending recipients of %s: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("store: pending recipients of %s: %w", id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending recipients of %s: %w", id, err)
	}
	return out, nil
}

// CountPendingCopies returns how many copies wait to be published.
// [ErrClosed] after Close.
func (s *Store) CountPendingCopies(ctx context.Context) (int, error) {
	leave, err := s.enter()
	if err != nil {
		return 0, fmt.Errorf("store: count pending copies: %w", err)
	}
	defer leave()
	n, err := countPendingCopies(ctx, s.db)
	if err != nil {
		return 0, fmt.Errorf("store: count pending copies: %w", err)
	}
	return n, nil
}

func countPendingCopies(ctx context.Context, q rowQuerier) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM outbox_copies WHERE published_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending copies: %w", err)
	}
	return n, nil
}

// write runs f in a write transaction, serialized with the store's other
// writes, and commits if f returns true and no error; otherwise it rolls
// back. [ErrClosed] after Close.
func (s *Store) write(ctx context.Context, f func(tx *sql.Tx) (commit bool, err error)) error {
	leave, err := s.enter()
	if err != nil {
		return err
	}
	defer leave()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return diskFullOr(fmt.Errorf("begin: %w", err))
	}
	defer rollback(tx)
	commit, err := f(tx)
	if err != nil || !commit {
		return diskFullOr(err)
	}
	if err := tx.Commit(); err != nil {
		return diskFullOr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

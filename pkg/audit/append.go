package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"

	"github.com/oas-cicte/iant/pkg/problem"
)

// Append adds one of the log's own events — a refusal or an escalation,
// what the secretariat's node says itself — and returns its leaf index.
// It validates e (a *problem.Error wrapping [ErrInvalidEvent] names the
// bad field), signs it with the log's entry signer (the leaf is a signed
// receipt, [LeafReceipt]) and writes the leaf, the tree nodes it completes
// and the report indexes, in one transaction that has reached the disk
// when Append returns. What member states report goes through
// [Log.Submit].
//
// Append is idempotent by event key — kind, origin, bulletin, state and
// actor — so an event appended twice is logged once: when an event with
// the same key is already logged, Append returns that entry's index and
// changes nothing, whatever the other fields of e say (the first report
// wins). After Close it returns [ErrClosed].
func (l *Log) Append(ctx context.Context, e Event) (uint64, error) {
	idx, err := l.AppendAll(ctx, []Event{e})
	if err != nil {
		return 0, fmt.Errorf("audit: append %s event for bulletin %s: %w", e.Kind, e.BulletinID, err)
	}
	return idx[0], nil
}

// AppendAll appends the log's own events in order, in one transaction,
// and returns their indexes: Append for each event, all or nothing. If
// any event is invalid, nothing is appended and the *problem.Error names
// the field, its message the event's position. Duplicates, of logged
// events or within events, get the index of the first.
func (l *Log) AppendAll(ctx context.Context, events []Event) ([]uint64, error) {
	out, err := l.appendAll(ctx, events)
	if err != nil {
		return nil, fmt.Errorf("audit: append %d events: %w", len(events), err)
	}
	return out, nil
}

func (l *Log) appendAll(ctx context.Context, events []Event) ([]uint64, error) {
	for i := range events {
		if err := validateOwn(&events[i]); err != nil {
			var p *problem.Error
			if errors.As(err, &p) {
				p.Msg = fmt.Sprintf("event %d: %s", i, p.Msg)
			}
			return nil, err
		}
	}
	leave, err := l.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	w, err := l.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer rollback(w.tx)
	out := make([]uint64, len(events))
	for i := range events {
		if out[i], _, err = w.addOwn(ctx, l, &events[i]); err != nil {
			return nil, err
		}
	}
	return out, l.commit(w)
}

// validateOwn checks an event the log may say itself.
func validateOwn(e *Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if e.Kind != EventRefused && e.Kind != EventEscalated {
		return invalid("kind", "the log itself reports only refused and escalated events, not %s", e.Kind)
	}
	return nil
}

// addOwn signs and appends the log's own valid event e, and indexes it.
func (w *write) addOwn(ctx context.Context, l *Log, e *Event) (uint64, bool, error) {
	if idx, ok, err := w.logged(ctx, e); err != nil || ok {
		return idx, false, err
	}
	data, err := l.signOwn(e)
	if err != nil {
		return 0, false, err
	}
	idx, err := w.add(ctx, e, data)
	if err != nil {
		return 0, false, err
	}
	return idx, true, index(ctx, w.q, e)
}

// write is one write transaction and the tree as it will be once the
// transaction commits. The committed range l.rng stays untouched until
// then, so a failed transaction leaves the in-memory tree as it was.
type write struct {
	tx  *sql.Tx
	q   cachedQuerier // runs statements inside tx
	rng *compact.Range
}

// beginWrite starts a write transaction. Callers hold writeMu.
func (l *Log) beginWrite(ctx context.Context) (*write, error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	q := cachedQuerier{c: l.stmts, tx: tx}
	size, err := storedSize(ctx, q)
	if err != nil {
		rollback(tx)
		return nil, err
	}
	if size != l.rng.End() {
		rollback(tx)
		return nil, fmt.Errorf("%w: database has %d entries, this log %d", ErrOtherWriter, size, l.rng.End())
	}
	hashes := make([][]byte, 0, len(l.rng.Hashes()))
	for _, h := range l.rng.Hashes() {
		hashes = append(hashes, append([]byte(nil), h...))
	}
	rng, err := rangeFactory.NewRange(0, l.rng.End(), hashes)
	if err != nil {
		rollback(tx)
		return nil, err
	}
	return &write{tx: tx, q: q, rng: rng}, nil
}

// commit commits w and installs its tree. Callers hold writeMu.
func (l *Log) commit(w *write) error {
	if err := w.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return l.install(w.rng)
}

// existing returns the index of the logged event of key, if any.
func (w *write) existing(ctx context.Context, key string) (uint64, bool, error) {
	var idx int64
	err := w.q.QueryRowContext(ctx, `SELECT idx FROM event_keys WHERE event_key = ?`, key).Scan(&idx)
	switch {
	case err == nil:
		return uint64(idx), true, nil
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	}
	return 0, false, fmt.Errorf("look up event key: %w", err)
}

// logged returns the index of the logged event e, if any: under its key,
// or, for a refusal, under the key refusals had before they named their
// rule (Event.key) if the entry there is this very refusal.
func (w *write) logged(ctx context.Context, e *Event) (uint64, bool, error) {
	idx, ok, err := w.existing(ctx, e.key())
	if err != nil || ok || e.Kind != EventRefused {
		return idx, ok, err
	}
	if idx, ok, err = w.existing(ctx, e.baseKey()); err != nil || !ok {
		return 0, false, err
	}
	var raw []byte
	if err := w.q.QueryRowContext(ctx, `SELECT data FROM leaves WHERE idx = ?`, int64(idx)).Scan(&raw); err != nil {
		return 0, false, fmt.Errorf("read leaf %d: %w", idx, err)
	}
	l, err := parseLeaf(raw)
	if err != nil {
		return 0, false, fmt.Errorf("read leaf %d: %w", idx, err)
	}
	if l.Event.key() != e.key() {
		return 0, false, nil
	}
	return idx, true, nil
}

// add appends the leaf data of event e, whose key is not logged yet, with
// its key, and returns its index. Callers index it.
func (w *write) add(ctx context.Context, e *Event, data []byte) (uint64, error) {
	idx := w.rng.End()
	if _, err := w.q.ExecContext(ctx, `INSERT INTO leaves (idx, data) VALUES (?, ?)`, int64(idx), data); err != nil {
		return 0, fmt.Errorf("insert leaf: %w", err)
	}
	if _, err := w.q.ExecContext(ctx, `INSERT INTO event_keys (event_key, idx) VALUES (?, ?)`, e.key(), int64(idx)); err != nil {
		return 0, fmt.Errorf("insert event key: %w", err)
	}
	if err := w.appendLeaf(ctx, data); err != nil {
		return 0, err
	}
	return idx, nil
}

// appendLeaf extends the tree by the leaf data and stores every node the
// leaf completes: its own hash and each perfect subtree it closes.
func (w *write) appendLeaf(ctx context.Context, data []byte) error {
	var visitErr error
	visit := func(id compact.NodeID, hash []byte) {
		if visitErr != nil {
			return
		}
		_, visitErr = w.q.ExecContext(ctx, `INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)`,
			int64(id.Level), int64(id.Index), hash)
	}
	if err := w.rng.Append(hasher.HashLeaf(data), visit); err != nil {
		return fmt.Errorf("extend tree: %w", err)
	}
	if visitErr != nil {
		return fmt.Errorf("insert tree node: %w", visitErr)
	}
	return nil
}

package store

import (
	"context"
	"fmt"
)

// List returns up to f's limit of the records that pass f, in cursor order
// (ascending unless f.Descending). Fewer records than the limit means there
// are no more. A bad filter gives a *problem.Error of kind Invalid naming
// the field; an AfterCursor beyond the newest cursor this store ever
// issued gives one wrapping [ErrCursorAhead] (the cursor is from another
// node, or from before the store was rebuilt); after Close, [ErrClosed].
func (s *Store) List(ctx context.Context, f Filter) ([]Record, error) {
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	q := f.clause("b")
	recs, err := s.query(ctx, `SELECT `+recordCols+` FROM bulletins AS b`+q.tail("b", f), q.args)
	if err == nil && len(recs) == 0 && f.AfterCursor > 0 {
		err = s.checkCursor(ctx, f.AfterCursor)
	}
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	return recs, nil
}

// checkCursor refuses a cursor beyond the newest one issued. A record
// returned by a list proves its cursor was issued, so List asks only when
// it found nothing.
func (s *Store) checkCursor(ctx context.Context, c uint64) error {
	leave, err := s.enter()
	if err != nil {
		return err
	}
	defer leave()
	var newest int64
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'bulletins'), 0)`).Scan(&newest)
	if err != nil {
		return fmt.Errorf("newest cursor: %w", err)
	}
	if c > uint64(max(newest, 0)) {
		return cursorAhead(c, uint64(newest))
	}
	return nil
}

// query runs a SELECT of recordCols and reads every row.
func (s *Store) query(ctx context.Context, stmt string, args []any) ([]Record, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	var recs []Record
	for rows.Next() {
		rec, _, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return recs, nil
}

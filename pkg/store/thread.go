package store

import (
	"context"
	"fmt"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// MaxThread bounds the replies [Store.Thread] returns.
const MaxThread = 500

// History returns the earlier revisions of bulletin id from origin this
// node holds, oldest first; none for a first version, or once it was
// revoked (a revocation removes them). [ErrClosed] after Close.
func (s *Store) History(ctx context.Context, origin, id string) ([]bulletin.Bulletin, error) {
	leave, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("store: history of %s/%s: %w", origin, id, err)
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, `SELECT doc FROM revisions WHERE origin = ? AND id = ? ORDER BY revision`, origin, id)
	if err != nil {
		return nil, fmt.Errorf("store: history of %s/%s: %w", origin, id, err)
	}
	defer rows.Close()
	var out []bulletin.Bulletin
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("store: history of %s/%s: %w", origin, id, err)
		}
		b, err := decode(doc)
		if err != nil {
			return nil, fmt.Errorf("store: history of %s/%s: %w", origin, id, err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: history of %s/%s: %w", origin, id, err)
	}
	return out, nil
}

// Thread returns the replies this node holds to bulletin id from origin,
// and the replies to those, in cursor order, at most [MaxThread]. Revoked
// replies are left out. [ErrClosed] after Close.
func (s *Store) Thread(ctx context.Context, origin, id string) ([]Record, error) {
	recs, err := s.query(ctx, `WITH RECURSIVE thread (origin, id, depth) AS (
			SELECT ?, ?, 0
			UNION
			SELECT b.origin, b.id, t.depth + 1 FROM bulletins AS b JOIN thread AS t
				ON b.reply_to_origin = t.origin AND b.reply_to_id = t.id WHERE t.depth < 16
		)
		SELECT `+recordCols+` FROM bulletins AS b JOIN thread AS t ON b.origin = t.origin AND b.id = t.id
		WHERE t.depth > 0 AND b.revoked_at IS NULL AND b.withdrawn_at IS NULL ORDER BY b.cursor LIMIT ?`, []any{origin, id, MaxThread})
	if err != nil {
		return nil, fmt.Errorf("store: thread of %s/%s: %w", origin, id, err)
	}
	return recs, nil
}

package audit

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache keeps one prepared statement per query text. The driver does
// not cache statements, and parsing SQL costs more than running these
// small queries; database/sql prepares each statement once per pooled
// connection and reuses it.
type stmtCache struct {
	db *sql.DB

	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// get returns the prepared statement of query, preparing it on first use.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[query]; ok {
		return s, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m[query] = s
	return s, nil
}

// close closes every statement.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, s := range c.m {
		errs = append(errs, s.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// cachedQuerier runs queries through the cache, on the pool or inside a
// transaction. It satisfies querier.
type cachedQuerier struct {
	c  *stmtCache
	tx *sql.Tx // nil: the pool
}

func (q cachedQuerier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s, err := q.c.get(ctx, query)
	if err != nil || q.tx == nil {
		return s, err
	}
	return q.tx.StmtContext(ctx, s), nil
}

// QueryRowContext runs a cached statement that returns at most one row.
func (q cachedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := q.stmt(ctx, query)
	if err != nil {
		// A *sql.Row cannot be built with an error; fall back to an
		// unprepared query, which reports the same error.
		if q.tx != nil {
			return q.tx.QueryRowContext(ctx, query, args...)
		}
		return q.c.db.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// QueryContext runs a cached statement that returns rows.
func (q cachedQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// ExecContext runs a cached statement that returns no rows.
func (q cachedQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestUnsyncedWritesLeaveThePoolSynced: after marks written without a
// sync, every connection of the pool is back at synchronous FULL (2), so
// the writes that must be synced still are.
func TestUnsyncedWritesLeaveThePoolSynced(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 20 {
		if err := s.MarkReceiptsSent(ctx, []string{"r"}, at); err != nil {
			t.Fatalf("mark %d: %v", i, err)
		}
		if err := s.MarkCopiesPublished(ctx, []uint64{1}, at); err != nil {
			t.Fatalf("mark %d: %v", i, err)
		}
	}
	conns := make([]*sql.Conn, s.db.Stats().MaxOpenConnections)
	for i := range conns {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
		var level int
		if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil {
			t.Fatal(err)
		}
		if level != 2 {
			t.Errorf("connection %d: synchronous %d, want 2 (FULL)", i, level)
		}
	}
}

package sqlitedb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/sqlitedb"
)

func TestOpenMigratesOnceAndRefusesNewerSchemas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.db")
	v1 := []string{`CREATE TABLE t (a INTEGER) STRICT`}
	db, err := sqlitedb.Open(t.Context(), path, v1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	v2 := append(v1, `ALTER TABLE t ADD COLUMN b INTEGER`)
	calls := 0
	db, err = sqlitedb.Open(t.Context(), path, v2, func(context.Context, *sql.Tx) error { calls++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t WHERE b IS NULL`).Scan(&n); err != nil || n != 1 {
		t.Errorf("after migration to v2: %d rows, %v; want the old row kept", n, err)
	}
	db.Close()
	if calls != 1 {
		t.Errorf("after ran %d times, want 1", calls)
	}
	if _, err := sqlitedb.Open(t.Context(), path, v1, nil); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("opening a v2 database with v1 = %v, want a newer-schema error", err)
	}
	if _, err := sqlitedb.Open(t.Context(), "a?b", v1, nil); err == nil {
		t.Error("a path with '?' was accepted")
	}
}

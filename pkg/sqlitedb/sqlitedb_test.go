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

// TestPageSize: a new database has 1 KiB pages in WAL mode; one created
// before (with SQLite's default 4 KiB pages) keeps its pages and data.
func TestPageSize(t *testing.T) {
	schema := []string{`CREATE TABLE t (a INTEGER) STRICT`}
	old := filepath.Join(t.TempDir(), "old.db")
	plain, err := sql.Open("sqlite", old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Exec(`PRAGMA journal_mode = WAL; CREATE TABLE x (a INTEGER)`); err != nil {
		t.Fatal(err)
	}
	plain.Close()
	tests := []struct {
		name string
		path string
		want int
	}{
		{"new", filepath.Join(t.TempDir(), "new.db"), 1024},
		{"existing", old, 4096},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqlitedb.Open(t.Context(), tt.path, schema, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var size int
			var mode string
			if err := db.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if size != tt.want || mode != "wal" {
				t.Errorf("page size %d, journal mode %q; want %d, wal", size, mode, tt.want)
			}
		})
	}
}

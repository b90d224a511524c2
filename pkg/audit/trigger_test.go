package audit_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/oas-cicte/iant/pkg/audit"
)

// TestStorageOnlyGrows opens the log's database file directly, as a
// careless operator would, and checks that the triggers refuse every
// statement that would change or remove evidence.
func TestStorageOnlyGrows(t *testing.T) {
	ctx := context.Background()
	lg, path, _ := openLog(t)
	raws := fill(t, lg, 6)
	trusted := checkpointAt(t, lg, 6)

	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	refused := []string{
		`UPDATE leaves SET data = X'00' WHERE idx = 2`,
		`DELETE FROM leaves WHERE idx = 5`,
		`DELETE FROM leaves`,
		`INSERT INTO leaves (idx, data) VALUES (9, X'00')`, // a gap
		`INSERT OR REPLACE INTO leaves (idx, data) VALUES (2, X'00')`,
		`INSERT OR REPLACE INTO leaves (idx, data) SELECT MAX(idx), X'00' FROM leaves`,
		`UPDATE nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 0`,
		`INSERT OR REPLACE INTO nodes (level, idx, hash) VALUES (0, 0, zeroblob(32))`,
		`REPLACE INTO nodes (level, idx, hash) VALUES (1, 0, zeroblob(32))`,
		`DELETE FROM nodes`,
		`UPDATE event_keys SET idx = 0`,
		`DELETE FROM event_keys`,
		`INSERT OR REPLACE INTO event_keys (event_key, idx) SELECT event_key, 0 FROM event_keys LIMIT 1`,
		`UPDATE log_meta SET origin = 'other.test/log'`,
		`DELETE FROM log_meta`,
		`INSERT OR REPLACE INTO log_meta (id, origin) VALUES (1, 'other.test/log')`,
	}
	for _, stmt := range refused {
		_, err := db.ExecContext(ctx, stmt)
		if err == nil {
			t.Errorf("%s: succeeded, want it refused", stmt)
			continue
		}
		if !strings.Contains(err.Error(), "audit log") {
			t.Errorf("%s: %v, want the trigger's refusal", stmt, err)
		}
	}
	got, err := lg.Entries(ctx, 0, lg.Size())
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.VerifyLog(ctx, got, trusted); err != nil || len(got) != len(raws) {
		t.Errorf("after the refused statements: VerifyLog = %v with %d entries, want nil with %d", err, len(got), len(raws))
	}
	// Appending still works, through the Log and at the next index.
	if i, err := lg.Append(ctx, nthEvent(100)); err != nil || i != 6 {
		t.Errorf("Append after refused statements = %d, %v, want 6, nil", i, err)
	}
}

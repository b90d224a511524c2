package audit

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/sqlitedb"
)

type fixedSVID struct{ s *x509svid.SVID }

func (f fixedSVID) GetX509SVID() (*x509svid.SVID, error) { return f.s, nil }

// TestMigrateSchemaOneLog writes a database as schema version 1 left it —
// the golden entries of leaf format 1, their tree, their report rows —
// and opens it: the tree and every old entry are intact, the old report
// answers keyed by origin, and new entries (format 2) extend the log.
func TestMigrateSchemaOneLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.db")
	const origin = "iant.test/audit"
	lines := writeSchemaOne(t, path, origin)

	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{1}, 32)), origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	ca := identitytest.NewCA(t, "iant.test")
	sec := ca.SVID(t, identity.Principal{Role: identity.RoleSecretariatNode, Name: "sec"})
	lg, err := OpenLog(ctx, path, origin, Signers{Checkpoint: signer, Entries: fixedSVID{sec}})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	v, _ := note.NewVerifier(vkey)
	golden, err := os.ReadFile("testdata/v1/checkpoint.txt")
	if err != nil {
		t.Fatal(err)
	}
	cp, err := VerifyCheckpoint(golden, origin, v)
	if err != nil {
		t.Fatal(err)
	}
	if lg.Size() != cp.Size || !bytes.Equal(lg.Root(), cp.Root) {
		t.Fatalf("migrated log: size %d root %x, want the golden checkpoint's %d %x", lg.Size(), lg.Root(), cp.Size, cp.Root)
	}
	r, err := lg.Report(ctx, "MX", "01JNQ8Y4Z5W6X7V8T9S0R1Q2P3")
	if err != nil || r.Precedence != bulletin.Flash || len(r.Recipients) != 2 || r.Recipients[0].AckedBy == "" {
		t.Errorf("Report of a bulletin logged in format 1 = %+v, %v; want FLASH, BR acknowledged and CA escalated", r, err)
	}
	if _, err := lg.Append(ctx, Event{Kind: EventRefused, BulletinID: "01JNEW", Origin: "MX", State: "BR",
		Actor: "spiffe://iant.test/state/BR/node/n1", Rule: "receipt.test", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	all, err := lg.Entries(ctx, 0, lg.Size())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(all[len(all)-1][:9], []byte(`{"chain":`)) || len(all) != len(lines)+1 {
		t.Errorf("the entry appended after the migration is not a signed receipt: %.40s", all[len(all)-1])
	}
	if err := VerifyLog(ctx, all, Checkpoint{Origin: origin, Size: lg.Size(), Root: lg.Root()}, cp); err != nil {
		t.Errorf("VerifyLog(formats 1 and 2 mixed) = %v", err)
	}
}

// writeSchemaOne creates path at schema version 1 holding the golden
// entries of leaf format 1, and returns them.
func writeSchemaOne(t *testing.T, path, origin string) [][]byte {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitedb.Open(ctx, path, migrations[:1], func(ctx context.Context, tx *sql.Tx) error {
		return checkOrigin(ctx, tx, origin)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	data, err := os.ReadFile("testdata/v1/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	rng := rangeFactory.NewEmptyRange(0)
	for i, line := range lines {
		e, err := unmarshal(line)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, `INSERT INTO leaves (idx, data) VALUES (?, ?)`, i, line)
		mustExec(t, db, `INSERT INTO event_keys (event_key, idx) VALUES (?, ?)`,
			strings.Join([]string{string(e.Kind), e.BulletinID, e.State, e.Actor}, " "), i)
		if err := rng.Append(hasher.HashLeaf(line), func(id compact.NodeID, h []byte) {
			mustExec(t, db, `INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)`, int64(id.Level), int64(id.Index), h)
		}); err != nil {
			t.Fatal(err)
		}
	}
	at := func(d time.Duration) int64 { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(d).UnixNano() }
	mustExec(t, db, `INSERT INTO bulletins (bulletin_id, origin, precedence, posted_at, first_at) VALUES (?, 'MX', 1, ?, ?)`,
		"01JNQ8Y4Z5W6X7V8T9S0R1Q2P3", at(0), at(0))
	mustExec(t, db, `INSERT INTO recipients (bulletin_id, state, released_at, delivered_at, acked_at, acked_by) VALUES (?, 'BR', ?, ?, ?, ?)`,
		"01JNQ8Y4Z5W6X7V8T9S0R1Q2P3", at(10*time.Millisecond), at(1500*time.Millisecond), at(5*time.Minute),
		"spiffe://iant.test/state/BR/focal-point/maria")
	mustExec(t, db, `INSERT INTO recipients (bulletin_id, state, escalated_at) VALUES (?, 'CA', ?)`,
		"01JNQ8Y4Z5W6X7V8T9S0R1Q2P3", at(15*time.Minute))
	return lines
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

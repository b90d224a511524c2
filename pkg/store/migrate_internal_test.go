package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/sqlitedb"
)

// TestMigration4KeepsRowsAndCursors opens a database of schema 3 with a
// sent and a received bulletin (one deleted, so the sequence is ahead of
// the rows) and a pending copy, and moves it to schema 4: the rows keep
// their cursors and text index, new cursors continue after the old
// sequence, the copy keeps its place and is its own bulletin's.
func TestMigration4KeepsRowsAndCursors(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "node.db")
	db, err := sqlitedb.Open(ctx, path, migrations[:3], nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, stmt := range []string{
		`INSERT INTO bulletins (cursor, id, origin, origin_region, direction, precedence, category, marking, created_at, received_at, content_hash, doc)
			VALUES (1, '01JA', 'MX', 2, 1, 1, 1, 1, 1, 1, x'00', CAST('{"id":"01JA","origin":"MX","title":"alpha"}' AS BLOB))`,
		`INSERT INTO bulletins (cursor, id, origin, origin_region, direction, precedence, category, marking, created_at, received_at, content_hash, doc)
			VALUES (2, '01JB', 'US', 1, 2, 1, 1, 1, 1, 2, x'00', CAST('{"id":"01JB","origin":"US","title":"bravo"}' AS BLOB))`,
		`INSERT INTO bulletins_fts (rowid, title, body, indicators) VALUES (2, 'bravo', '', '')`,
		`INSERT INTO bulletins (cursor, id, origin, origin_region, direction, precedence, category, marking, created_at, received_at, content_hash, doc)
			VALUES (3, '01JC', 'US', 1, 2, 1, 1, 1, 1, 3, x'00', CAST('{}' AS BLOB))`,
		`DELETE FROM bulletins WHERE cursor = 3`,
		`INSERT INTO outbox_copies (seq, recipient, origin, bulletin_id, data, queued_at) VALUES (7, 'US', 'MX', '01JA', x'01', 1)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rec, err := s.Get(ctx, "US", "01JB"); err != nil || rec.Cursor != 2 || rec.Direction != Received {
		t.Errorf("Get(US, 01JB) = %+v, %v; want cursor 2, received", rec, err)
	}
	if recs, err := s.Search(ctx, "bravo", Filter{}); err != nil || len(recs) != 1 || recs[0].Cursor != 2 {
		t.Errorf("Search(bravo) = %v, %v; want cursor 2", recs, err)
	}
	b := bulletin.Bulletin{ID: "01JD", Origin: "BR", CreatedAt: time.Unix(5, 0)}
	rec, _, err := s.Put(ctx, b, Received, time.Unix(5, 0))
	if err != nil || rec.Cursor != 4 {
		t.Errorf("Put after migration: cursor %d, %v; want 4 (after the deleted 3)", rec.Cursor, err)
	}
	cs, err := s.PendingCopies(ctx, 10)
	if err != nil || len(cs) != 1 || cs[0].Seq != 7 || cs[0].BulletinOrigin != "MX" {
		t.Errorf("PendingCopies = %+v, %v; want seq 7 of MX's bulletin", cs, err)
	}
	n, err := s.QueueCopies(ctx, []Copy{{Recipient: "BR", Origin: "MX", BulletinID: "01JE", Data: []byte{2}}}, time.Unix(6, 0), 0)
	if err != nil || n != 1 {
		t.Fatal(n, err)
	}
	if cs, _ := s.PendingCopies(ctx, 10); len(cs) != 2 || cs[1].Seq <= 7 {
		t.Errorf("new copy seq %+v, want after 7", cs)
	}
}

// TestMigration7KeepsCopies moves a database of schema 5 with a pending
// copy to the lifecycle's schema: the copy keeps its place as its
// bulletin's first version, and a revision of the same bulletin to the
// same recipient is another copy.
func TestMigration7KeepsCopies(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "node.db")
	db, err := sqlitedb.Open(ctx, path, migrations[:5], nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO outbox_copies (seq, recipient, origin, bulletin_origin, bulletin_id, data, queued_at)
		VALUES (9, 'US', 'MX', 'MX', '01JA', x'01', 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := s.QueueCopies(ctx, []Copy{
		{Recipient: "US", Origin: "MX", BulletinID: "01JA", Data: []byte{1}},
		{Recipient: "US", Origin: "MX", BulletinID: "01JA", Kind: 2, Revision: 2, Data: []byte{2}},
	}, time.Unix(6, 0), 0)
	if err != nil || n != 1 {
		t.Fatalf("QueueCopies = %d, %v; want the revision queued, the first version held already", n, err)
	}
	cs, err := s.PendingCopies(ctx, 10)
	if err != nil || len(cs) != 2 || cs[0].Seq != 9 || cs[0].Kind != 1 || cs[0].Revision != 1 || cs[1].Revision != 2 || cs[1].Seq <= 9 {
		t.Errorf("PendingCopies = %+v, %v", cs, err)
	}
}

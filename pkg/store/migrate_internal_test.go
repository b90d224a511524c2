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

// TestMigration10TranslationsFailClosed moves a database of schema 9
// holding MX's bulletin with translations by BR and by MX itself to
// schema 10: BR's translation is recorded with its key not known, so BR
// declaring any key compromised withdraws it (fail closed); MX's own,
// part of its bulletin, is not recorded and stays.
func TestMigration10TranslationsFailClosed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "node.db")
	db, err := sqlitedb.Open(ctx, path, migrations[:9], nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(100, 0)
	b := bulletin.Bulletin{ID: "01JT", Origin: "MX", CreatedAt: at, Language: bulletin.Spanish, Title: "original",
		Translations: []bulletin.Translation{
			{Language: bulletin.English, Title: "by the origin", By: "MX"},
			{Language: bulletin.Portuguese, Title: "traduzido", Body: "pelo Brasil", By: "BR", At: at},
		}}
	doc, sum, err := encode(b)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := insert(ctx, tx, &b, Received, at, doc, sum, Delivery{SignKey: "MXK"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ws, err := s.WithdrawTranslationsSignedBy(ctx, "BR", []string{"some other key"}, at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Translation.Title != "traduzido" || ws[0].SignKey != "" {
		t.Errorf("WithdrawTranslationsSignedBy(BR) after the migration = %+v, want BR's translation, key not known", ws)
	}
	if ws, err := s.WithdrawTranslationsSignedBy(ctx, "MX", []string{"MXK"}, at.Add(time.Hour)); err != nil || len(ws) != 0 {
		t.Errorf("WithdrawTranslationsSignedBy(MX) = %+v, %v; want nothing (the origin's own translation is its bulletin's)", ws, err)
	}
	rec, err := s.Get(ctx, "MX", "01JT")
	if err != nil || len(rec.Bulletin.Translations) != 1 || rec.Bulletin.Translations[0].By != "MX" {
		t.Errorf("Get(MX, 01JT) = %+v, %v; want the origin's translation only", rec.Bulletin.Translations, err)
	}
}

package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/store"
)

// lifeID is the bulletin the lifecycle tests revise and revoke.
const lifeID = "01JLIFECYCLE00000000000000"

// version is revision rev of sample(lifeID), created rev minutes after t0.
func version(rev int, title string) bulletin.Bulletin {
	b := sample(lifeID)
	b.Revises, b.Supersedes = "", ""
	b.Title, b.Revision = title, rev
	if rev > 1 {
		b.FirstCreatedAt = b.CreatedAt
		b.CreatedAt = b.CreatedAt.Add(time.Duration(rev) * time.Minute)
	}
	return b
}

// revocation is the tombstone of sample(lifeID) revoking revision rev.
func revocation(rev int) bulletin.Bulletin {
	b := version(1, "")
	return b.Tombstone(bulletin.Revocation{Reason: "withdrawn", By: "spiffe://iant.test/state/MX/focal-point/ana",
		At: t0.Add(time.Hour)}, rev)
}

func apply(st *store.Store, b bulletin.Bulletin) (store.Applied, error) {
	return st.Apply(context.Background(), store.Change{Bulletin: b, Direction: store.Received, At: t0.Add(2 * time.Hour),
		Delivery: store.Delivery{Copy: []byte("sealed")}})
}

// TestApplyOrdersRevisions runs each row of the table in lifecycle.go: an
// older revision never replaces a newer one, and revoked content never
// comes back.
func TestApplyOrdersRevisions(t *testing.T) {
	tests := []struct {
		name    string
		held    []bulletin.Bulletin
		msg     bulletin.Bulletin
		changed bool
		want    error // nil, store.ErrStale or store.ErrConflict
		title   string
		revoked bool
	}{
		{"first store", nil, version(1, "one"), true, nil, "one", false},
		{"a newer revision", []bulletin.Bulletin{version(1, "one")}, version(2, "two"), true, nil, "two", false},
		{"the same revision again", []bulletin.Bulletin{version(2, "two")}, version(2, "two"), false, nil, "two", false},
		{"other content under one revision", []bulletin.Bulletin{version(2, "two")}, version(2, "forged"), false, store.ErrConflict, "two", false},
		{"an older revision after a newer", []bulletin.Bulletin{version(1, "one"), version(3, "three")}, version(2, "two"), false, store.ErrStale, "three", false},
		{"a revocation", []bulletin.Bulletin{version(2, "two")}, revocation(2), true, nil, "", true},
		{"a revocation of an older revision", []bulletin.Bulletin{version(3, "three")}, revocation(2), false, store.ErrStale, "three", false},
		{"a revocation of a newer revision", []bulletin.Bulletin{version(1, "one")}, revocation(2), true, nil, "", true},
		{"a revocation of what was never held", nil, revocation(2), true, nil, "", true},
		{"the revocation again", []bulletin.Bulletin{revocation(2)}, revocation(2), false, nil, "", true},
		{"content replayed after its revocation", []bulletin.Bulletin{version(2, "two"), revocation(2)}, version(2, "two"), false, store.ErrStale, "", true},
		{"an older revision after the revocation", []bulletin.Bulletin{version(2, "two"), revocation(2)}, version(1, "one"), false, store.ErrStale, "", true},
		{"a later revision releases it again", []bulletin.Bulletin{version(1, "one"), revocation(2)}, version(3, "three"), true, nil, "three", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := openStore(t)
			for _, h := range tt.held {
				if _, err := apply(st, h); err != nil {
					t.Fatalf("hold %s of revision %d: %v", h.Kind(), h.RevisionNumber(), err)
				}
			}
			a, err := apply(st, tt.msg)
			switch {
			case tt.want == nil && err != nil, tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Apply = %v, want %v", err, tt.want)
			case err == nil && a.Changed != tt.changed:
				t.Errorf("Apply changed = %v, want %v", a.Changed, tt.changed)
			}
			rec, err := st.Get(context.Background(), "MX", lifeID)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Bulletin.Title != tt.title || rec.Bulletin.Revoked != tt.revoked {
				t.Errorf("held %q revoked %v, want %q revoked %v", rec.Bulletin.Title, rec.Bulletin.Revoked, tt.title, tt.revoked)
			}
		})
	}
}

// TestRevisionsHistoryAndCursor: each change moves the bulletin to a new
// cursor; earlier revisions are kept for the history until a revocation
// removes them; the acknowledgement stays with a revision.
func TestRevisionsHistoryAndCursor(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	a1, _ := apply(st, version(1, "one"))
	if _, _, err := st.Acknowledge(ctx, "MX", lifeID, "spiffe://iant.test/state/US/focal-point/fp", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	a2, err := apply(st, version(2, "two"))
	if err != nil || a2.Record.Cursor <= a1.Record.Cursor || a2.Record.AckedBy == "" {
		t.Fatalf("revision 2 = %+v, %v; want a later cursor than %d, acknowledged", a2.Record, err, a1.Record.Cursor)
	}
	h, err := st.History(ctx, "MX", lifeID)
	if err != nil || len(h) != 1 || h[0].Title != "one" {
		t.Fatalf("History = %v, %v; want revision 1", h, err)
	}
	if recs, _ := st.Search(ctx, "two", store.Filter{}); len(recs) != 1 {
		t.Errorf("Search(two) found %d, want the latest revision", len(recs))
	}
	if recs, _ := st.Search(ctx, "one", store.Filter{}); len(recs) != 0 {
		t.Errorf("Search(one) found %d: an earlier revision's text is searched", len(recs))
	}
	a3, err := apply(st, revocation(2))
	if err != nil || a3.Record.Cursor <= a2.Record.Cursor || !a3.Removed {
		t.Fatalf("revocation = %+v, %v", a3, err)
	}
	if h, _ := st.History(ctx, "MX", lifeID); len(h) != 0 {
		t.Errorf("History after the revocation = %d revisions, want none", len(h))
	}
	if recs, _ := st.List(ctx, store.Filter{}); len(recs) != 0 {
		t.Errorf("List = %d records, want the tombstone left out", len(recs))
	}
	if recs, _ := st.List(ctx, store.Filter{IncludeRevoked: true}); len(recs) != 1 || !recs[0].Bulletin.Revoked {
		t.Errorf("List(IncludeRevoked) = %+v, want the tombstone", recs)
	}
}

// TestRevocationLeavesNoTrace: after a revocation no file of the store
// holds the bulletin's title, body or indicator, whatever the history.
func TestRevocationLeavesNoTrace(t *testing.T) {
	st, path := openStore(t)
	for i := range 20 { // other bulletins around it, in the pages and index
		b := sample(ulidN(i))
		b.Revises, b.Supersedes = "", ""
		if _, err := apply(st, b); err != nil {
			t.Fatal(err)
		}
	}
	marker := "QQMARKERZZ"
	v1 := version(1, "title "+marker+"A")
	v1.Body = "body " + marker + "B"
	v2 := version(2, "title "+marker+"C")
	v2.Indicators[0].Value = marker + "D"
	for _, b := range []bulletin.Bulletin{v1, v2} {
		if _, err := apply(st, b); err != nil {
			t.Fatal(err)
		}
	}
	if n := markerFiles(t, filepath.Dir(path), marker); n == 0 {
		t.Fatal("the marker is in no file before the revocation: the test proves nothing")
	}
	if _, err := apply(st, revocation(2)); err != nil {
		t.Fatal(err)
	}
	if st.ScrubPending() {
		t.Fatal("scrub still pending after the revocation")
	}
	if n := markerFiles(t, filepath.Dir(path), marker); n != 0 {
		t.Errorf("%d files still hold the marker after the revocation", n)
	}
	if recs, err := st.Search(context.Background(), marker+"C", store.Filter{}); err != nil || len(recs) != 0 {
		t.Errorf("Search(marker) = %d, %v", len(recs), err)
	}
}

// markerFiles counts the files under dir holding marker.
func markerFiles(t *testing.T, dir, marker string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(marker))) {
			t.Logf("%s holds the marker", filepath.Base(p))
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func ulidN(i int) string {
	const digits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	return "01JOTHER0000000000000000" + string(digits[i/32]) + string(digits[i%32])
}

// TestPurgeExpired removes expired bulletins and their history, not the
// live ones, and leaves no trace.
func TestPurgeExpired(t *testing.T) {
	ctx := context.Background()
	st, path := openStore(t)
	old := version(1, "title OLDMARKER")
	old.ExpiresAt = t0.Add(time.Hour)
	live := sample(ulidN(1))
	live.Revises, live.Supersedes = "", ""
	live.ExpiresAt = t0.Add(48 * time.Hour)
	for _, b := range []bulletin.Bulletin{old, live} {
		if _, err := apply(st, b); err != nil {
			t.Fatal(err)
		}
	}
	if recs, _ := st.List(ctx, store.Filter{ActiveAt: t0.Add(2 * time.Hour)}); len(recs) != 1 || recs[0].Bulletin.ID != live.ID {
		t.Errorf("List(ActiveAt) = %d records, want the live one", len(recs))
	}
	n, err := st.PurgeExpired(ctx, t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PurgeExpired = %d, %v; want 1", n, err)
	}
	if _, err := st.Get(ctx, "MX", lifeID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(purged) = %v", err)
	}
	if _, err := st.Get(ctx, "MX", live.ID); err != nil {
		t.Errorf("Get(live) = %v", err)
	}
	if markerFiles(t, filepath.Dir(path), "OLDMARKER") != 0 {
		t.Error("a file still holds the purged bulletin")
	}
}

// TestThreadAndReplyFilters: replies are threaded under what they answer,
// and an origin filter keeps the replies to that origin's bulletins.
func TestThreadAndReplyFilters(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	if _, err := apply(st, version(1, "root")); err != nil {
		t.Fatal(err)
	}
	reply := func(id, origin string, to bulletin.Ref) bulletin.Bulletin {
		b := sample(id)
		b.Revises, b.Supersedes, b.Origin, b.Conditions = "", "", origin, ""
		b.Reply = &bulletin.Reply{Kind: bulletin.ReplyRFI, InReplyTo: to, Audience: bulletin.AudienceOrigin}
		return b
	}
	r1 := reply(ulidN(1), "BR", bulletin.Ref{Origin: "MX", ID: lifeID})
	r2 := reply(ulidN(2), "MX", bulletin.Ref{Origin: "BR", ID: r1.ID})
	other := reply(ulidN(3), "CO", bulletin.Ref{Origin: "US", ID: ulidN(9)})
	for _, b := range []bulletin.Bulletin{r1, r2, other} {
		if _, err := apply(st, b); err != nil {
			t.Fatal(err)
		}
	}
	th, err := st.Thread(ctx, "MX", lifeID)
	if err != nil || len(th) != 2 || th[0].Bulletin.ID != r1.ID || th[1].Bulletin.ID != r2.ID {
		t.Fatalf("Thread = %v, %v; want the reply and the reply to it", th, err)
	}
	recs, err := st.List(ctx, store.Filter{Origins: []string{"MX"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range recs {
		got[r.Bulletin.ID] = true
		if !(store.Filter{Origins: []string{"MX"}}).Match(r) {
			t.Errorf("List returned %s, which does not Match", r.Bulletin.ID)
		}
	}
	if !got[lifeID] || !got[r1.ID] || !got[r2.ID] || got[other.ID] {
		t.Errorf("List(origins MX) = %v, want MX's bulletin, BR's reply to it and MX's reply", got)
	}
}

// TestConsentGrantServesOneForward: a grant lets one forward pass; the
// second is refused and queues nothing.
func TestConsentGrantServesOneForward(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	ref := bulletin.Ref{Origin: "MX", ID: lifeID}
	r := store.ConsentRequest{ID: ulidN(5), Bulletin: ref, Forwarder: "BR", Target: "CO", Reason: "joint operation",
		RequestedBy: "spiffe://iant.test/state/BR/focal-point/fp", RequestedAt: t0}
	if _, err := st.PutConsent(ctx, r, nil, nil, t0, 0); err != nil {
		t.Fatal(err)
	}
	if id, _ := st.Grant(ctx, ref, "BR", "CO", false); id != "" {
		t.Fatalf("Grant before the decision = %q", id)
	}
	r.Decision, r.DecidedBy, r.DecidedAt = bulletin.ConsentGranted, "spiffe://iant.test/state/MX/focal-point/fp", t0.Add(time.Minute)
	if changed, err := st.PutConsent(ctx, r, nil, nil, t0, 0); err != nil || !changed {
		t.Fatalf("PutConsent(granted) = %v, %v", changed, err)
	}
	refused := r
	refused.Decision = bulletin.ConsentRefused
	if _, err := st.PutConsent(ctx, refused, nil, nil, t0, 0); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutConsent(refused after granted) = %v, want %v", err, store.ErrConflict)
	}
	id, err := st.Grant(ctx, ref, "BR", "CO", false)
	if err != nil || id != r.ID {
		t.Fatalf("Grant = %q, %v", id, err)
	}
	c := store.Copy{Recipient: "CO", Origin: "BR", BulletinOrigin: "MX", BulletinID: lifeID, Data: []byte{1}}
	if _, err := st.QueueForward(ctx, c, id, nil, t0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.QueueForward(ctx, c, id, nil, t0, 0); !errors.Is(err, store.ErrGrantUsed) {
		t.Errorf("second forward under the grant = %v, want %v", err, store.ErrGrantUsed)
	}
	if cs, _ := st.PendingCopies(ctx, 10); len(cs) != 1 {
		t.Errorf("%d copies queued, want 1", len(cs))
	}
	if fw, _ := st.Forwards(ctx, "MX", lifeID); len(fw) != 1 || fw[0] != "CO" {
		t.Errorf("Forwards = %v, want [CO]", fw)
	}
}

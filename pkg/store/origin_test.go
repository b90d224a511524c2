package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/store"
)

// TestSameIDFromTwoOrigins: a bulletin of MX's id from US is another
// bulletin, not a replay of MX's: both are stored and listed, each is
// found by its origin, and an id alone is ambiguous, naming both.
func TestSameIDFromTwoOrigins(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	mx := sample("01JSAMEID")
	us := sample("01JSAMEID")
	us.Origin, us.Title = "US", "US's own bulletin"
	mxRec, inserted, err := st.PutReceived(ctx, mx, t0, store.Delivery{Copy: []byte("MX's copy")}, nil)
	if err != nil || !inserted {
		t.Fatalf("PutReceived(MX's) = %v, %v", inserted, err)
	}
	usRec, inserted, err := st.PutReceived(ctx, us, t0, store.Delivery{Copy: []byte("US's forward"), ForwardedBy: "CO"}, nil)
	if err != nil || !inserted {
		t.Fatalf("PutReceived(US's, same id) = %v, %v; want stored beside MX's", inserted, err)
	}
	if usRec.ForwardedBy != "CO" || mxRec.ForwardedBy != "" {
		t.Errorf("forwarded by: MX's %q, US's %q; want none and CO", mxRec.ForwardedBy, usRec.ForwardedBy)
	}
	for origin, title := range map[string]string{"MX": mx.Title, "US": us.Title} {
		got, err := st.Get(ctx, origin, "01JSAMEID")
		if err != nil || got.Bulletin.Title != title || got.Bulletin.Origin != origin {
			t.Errorf("Get(%s) = %q from %s, %v; want %q", origin, got.Bulletin.Title, got.Bulletin.Origin, err, title)
		}
	}
	_, err = st.Get(ctx, "", "01JSAMEID")
	var pe *problem.Error
	if !errors.Is(err, store.ErrAmbiguous) || !errors.As(err, &pe) || pe.Field != "origin" || !strings.Contains(pe.Msg, "MX, US") {
		t.Errorf("Get without origin = %v, want ErrAmbiguous naming origin and MX, US", err)
	}
	if _, err := st.Get(ctx, "BR", "01JSAMEID"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(BR) = %v, want ErrNotFound", err)
	}
	recs, err := st.List(ctx, store.Filter{})
	if err != nil || len(recs) != 2 {
		t.Fatalf("List = %d records, %v; want both", len(recs), err)
	}
	// Acknowledging one leaves the other.
	if _, first, err := st.Acknowledge(ctx, "US", "01JSAMEID", "spiffe://iant.test/state/PE/focal-point/f", t0); err != nil || !first {
		t.Fatalf("Acknowledge(US) = %v, %v", first, err)
	}
	if got, _ := st.Get(ctx, "MX", "01JSAMEID"); !got.AckedAt.IsZero() {
		t.Error("acknowledging US's bulletin acknowledged MX's")
	}
	// A replay of MX's with other content is still a conflict.
	mx2 := mx
	mx2.Title = "altered"
	if _, _, err := st.PutReceived(ctx, mx2, t0, store.Delivery{}, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutReceived(MX's altered) = %v, want ErrConflict", err)
	}
	for origin, want := range map[string]string{"MX": "MX's copy", "US": "US's forward"} {
		if c, err := st.ReceivedCopy(ctx, origin, "01JSAMEID"); err != nil || string(c) != want {
			t.Errorf("ReceivedCopy(%s) = %q, %v; want %q", origin, c, err, want)
		}
	}
}

// TestReceivedCopyFilledIn: a bulletin stored without its copy (before
// copies were kept) gets it when it is received again, and keeps its
// first delivery otherwise.
func TestReceivedCopyFilledIn(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	b := sample("01JFILL")
	if _, _, err := st.Put(ctx, b, store.Received, t0); err != nil {
		t.Fatal(err)
	}
	if c, err := st.ReceivedCopy(ctx, "MX", b.ID); err != nil || c != nil {
		t.Fatalf("ReceivedCopy before = %q, %v; want none", c, err)
	}
	if _, inserted, err := st.PutReceived(ctx, b, t0, store.Delivery{Copy: []byte("the copy")}, nil); err != nil || inserted {
		t.Fatalf("PutReceived(again) = %v, %v", inserted, err)
	}
	if _, _, err := st.PutReceived(ctx, b, t0, store.Delivery{Copy: []byte("another"), ForwardedBy: "CO"}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := st.ReceivedCopy(ctx, "MX", b.ID)
	if err != nil || string(got) != "the copy" {
		t.Errorf("ReceivedCopy = %q, %v; want the first copy kept", got, err)
	}
	if rec, _ := st.Get(ctx, "MX", b.ID); rec.ForwardedBy != "" {
		t.Errorf("ForwardedBy = %q, want the first delivery's (none)", rec.ForwardedBy)
	}
	if _, err := st.ReceivedCopy(ctx, "US", b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReceivedCopy(US) = %v, want ErrNotFound", err)
	}
}

// TestOutboxCopiesOfTwoOrigins: this node's own copy of an id and its
// forward of another origin's bulletin of that id to the same recipient
// are two copies; the same forward queued again is one.
func TestOutboxCopiesOfTwoOrigins(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	own := store.Copy{Recipient: "PE", Origin: "CO", BulletinID: "01JX", Data: []byte("CO's own")}
	fwd := store.Copy{Recipient: "PE", Origin: "CO", BulletinOrigin: "MX", BulletinID: "01JX", Data: []byte("MX's, forwarded")}
	n, err := st.QueueCopies(ctx, []store.Copy{own, fwd, fwd}, t0, 0)
	if err != nil || n != 2 {
		t.Fatalf("QueueCopies = %d, %v; want 2", n, err)
	}
	for origin, want := range map[string]int{"CO": 1, "MX": 1, "US": 0} {
		if p, err := st.PendingRecipients(ctx, origin, "01JX"); err != nil || len(p) != want {
			t.Errorf("PendingRecipients(%s) = %v, %v; want %d", origin, p, err, want)
		}
	}
	pending, err := st.PendingCopies(ctx, 10)
	if err != nil || len(pending) != 2 || pending[0].BulletinOrigin != "CO" || pending[1].BulletinOrigin != "MX" {
		t.Fatalf("PendingCopies = %+v, %v", pending, err)
	}
}

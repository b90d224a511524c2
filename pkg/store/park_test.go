package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/store"
)

// parked is a parked copy of bulletin id published by origin, due at
// t0.
func parked(origin, id, data string) store.ParkedCopy {
	return store.ParkedCopy{Subject: "iant.inbox.CO." + origin + "." + id, Origin: origin, BulletinID: id, Data: []byte(data),
		StreamSeq: 7, Published: t0.Add(-time.Second), FirstSeen: t0, Attempts: 1, Reason: "version", NextTry: t0}
}

// TestParkIdempotentAndBoundedPerOrigin: parking the same copy twice
// keeps one; another copy of the same id (other bytes) is another
// parked copy; an origin at its bound (copies, then bytes) is refused
// with ErrParkFull while another origin still parks.
func TestParkIdempotentAndBoundedPerOrigin(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	lim := store.ParkLimits{MaxCopies: 2, MaxBytes: 100}
	for i, tt := range []struct {
		p     store.ParkedCopy
		added bool
		full  bool
	}{
		{p: parked("GT", "A", "one"), added: true},
		{p: parked("GT", "A", "one")},                      // the same copy again: already parked
		{p: parked("GT", "A", "other bytes"), added: true}, // another copy of the same id
		{p: parked("GT", "B", "three"), full: true},        // GT holds 2 copies
		{p: parked("HN", "B", string(make([]byte, 101))), full: true},
		{p: parked("HN", "B", string(make([]byte, 100))), added: true},
		{p: parked("HN", "C", "x"), full: true}, // 100 bytes parked
	} {
		added, err := st.Park(ctx, tt.p, lim)
		if added != tt.added || errors.Is(err, store.ErrParkFull) != tt.full || (err != nil) != tt.full {
			t.Errorf("%d: Park(%s, %s) = %v, %v; want added %v, full %v", i, tt.p.Origin, tt.p.BulletinID, added, err, tt.added, tt.full)
		}
	}
	counts, err := st.ParkedByOrigin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ParkedCount{{Origin: "GT", Copies: 2, Bytes: 14, Oldest: t0, Reasons: map[string]int{"version": 2}},
		{Origin: "HN", Copies: 1, Bytes: 100, Oldest: t0, Reasons: map[string]int{"version": 1}}}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("ParkedByOrigin (-want +got):\n%s", diff)
	}
}

// TestParkedRetriesInParkOrder: due copies come in park order; a copy
// rescheduled later is not due; hurrying the copies waiting for a state
// makes them due; unparked copies are gone; all of it survives a
// reopen.
func TestParkedRetriesInParkOrder(t *testing.T) {
	st, path := openStore(t)
	ctx := context.Background()
	for _, p := range []store.ParkedCopy{parked("GT", "A", "a"), parked("HN", "B", "b"), parked("GT", "C", "c")} {
		if _, err := st.Park(ctx, p, store.ParkLimits{}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(ps []store.ParkedCopy) (out []string) {
		for _, p := range ps {
			out = append(out, p.BulletinID)
		}
		return out
	}
	due, err := st.DueParked(ctx, t0, 10)
	if err != nil || !cmp.Equal(ids(due), []string{"A", "B", "C"}) {
		t.Fatalf("DueParked = %v, %v; want A, B, C", ids(due), err)
	}
	if got := due[0]; got.Subject != "iant.inbox.CO.GT.A" || string(got.Data) != "a" || got.StreamSeq != 7 ||
		!got.Published.Equal(t0.Add(-time.Second)) || got.Reason != "version" || got.Attempts != 1 {
		t.Errorf("parked copy read back as %+v", got)
	}
	later := t0.Add(time.Minute)
	err = st.RetryParked(ctx, []store.ParkRetry{
		{Seq: due[0].Seq, Attempts: 2, Reason: "signer", WaitingFor: "GT", NextTry: later},
		{Seq: due[1].Seq, Attempts: 2, Reason: "signer", WaitingFor: "HN", NextTry: later},
	})
	if err != nil {
		t.Fatal(err)
	}
	if due, _ := st.DueParked(ctx, t0, 10); !cmp.Equal(ids(due), []string{"C"}) {
		t.Errorf("after rescheduling A and B: due %v, want C", ids(due))
	}
	if next, ok, err := st.NextParkedTry(ctx); err != nil || !ok || !next.Equal(t0) {
		t.Errorf("NextParkedTry = %v, %v, %v; want %v", next, ok, err, t0)
	}
	if err := st.Unpark(ctx, due[2].Seq, due[2].Seq); err != nil {
		t.Fatal(err)
	}
	if w, err := st.ParkedWaitingFor(ctx); err != nil || !cmp.Equal(w, []string{"GT", "HN"}) {
		t.Errorf("ParkedWaitingFor = %v, %v; want GT, HN", w, err)
	}
	if n, err := st.HurryParked(ctx, "HN", t0); err != nil || n != 1 {
		t.Errorf("HurryParked(HN) = %d, %v; want 1", n, err)
	}
	st.Close()
	st, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if due, _ := st.DueParked(ctx, t0, 10); !cmp.Equal(ids(due), []string{"B"}) || due[0].Attempts != 2 || due[0].WaitingFor != "HN" {
		t.Errorf("after reopening: due %+v, want B, tried twice, waiting for HN", due)
	}
	if next, ok, _ := st.NextParkedTry(ctx); !ok || !next.Equal(t0) {
		t.Errorf("NextParkedTry after reopening = %v, %v", next, ok)
	}
	if n, err := st.HurryParked(ctx, "", t0); err != nil || n != 1 {
		t.Errorf("HurryParked(all) = %d, %v; want 1 (A)", n, err)
	}
}

package audit_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// later returns the signed header of a later message of bulletin id of MX:
// a revision or a revocation of revision rev, to recipients.
func later(id string, kind bulletin.Kind, rev, subkind int, at time.Time, recipients ...string) *audit.SignedHeader {
	h := header(id, bulletin.Flash, at, recipients...)
	h.Kind, h.Revision, h.Subkind = kind, rev, subkind
	if kind == bulletin.KindRevocation {
		h.ExpiresAt = time.Time{}
	}
	return h
}

func revised(id string, rev int, at time.Time) audit.Event {
	return audit.Event{Kind: audit.EventRevised, BulletinID: id, Origin: "MX", Actor: person("MX", "focal-point", "ana"),
		Precedence: bulletin.Flash, Revision: rev, At: at}
}

func revocation(id string, rev int, at time.Time) audit.Event {
	return audit.Event{Kind: audit.EventRevocation, BulletinID: id, Origin: "MX", Actor: person("MX", "focal-point", "ana"),
		Revision: rev, At: at}
}

func revoked(id, state string, rev int, at time.Time) audit.Event {
	return audit.Event{Kind: audit.EventRevoked, BulletinID: id, Origin: "MX", State: state, Actor: node(state), Revision: rev, At: at}
}

// TestRevisionNarrowsAndWidens: revision 2 drops AR (whose copy is
// withdrawn by a narrowing revocation and who confirms it) and adds CA,
// which is delivered revision 2; the report says so, per state.
func TestRevisionNarrowsAndWidens(t *testing.T) {
	const id = "01JREVISE"
	f := newFixture(t)
	f.post(id, bulletin.Flash, t0, "AR", "BR")
	r2 := later(id, bulletin.KindRevision, 2, 0, t0.Add(time.Minute), "BR", "CA")
	f.accept(revised(id, 2, t0.Add(time.Minute)), r2)
	narrow := later(id, bulletin.KindRevocation, 2, 1, t0.Add(time.Minute), "AR")
	f.accept(revocation(id, 2, t0.Add(time.Minute)), narrow)
	d := delivered(id, "CA", t0.Add(2*time.Minute))
	d.Revision = 2
	f.accept(d, r2)
	f.accept(revoked(id, "AR", 2, t0.Add(3*time.Minute)), narrow)
	r, err := f.lg.Report(context.Background(), "MX", id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Revision != 2 || !r.RevokedAt.IsZero() {
		t.Errorf("report: revision %d, revoked at %v; want revision 2, not revoked (a narrowing)", r.Revision, r.RevokedAt)
	}
	states := map[string]audit.RecipientStatus{}
	for _, s := range r.Recipients {
		states[s.State] = s
	}
	if ca := states["CA"]; ca.Revision != 2 || ca.DeliveredAt.IsZero() {
		t.Errorf("CA = %+v, want revision 2 delivered", ca)
	}
	if ar := states["AR"]; !ar.RevocationAt.Equal(t0.Add(time.Minute)) || !ar.RevokedAt.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("AR = %+v, want its copy's revocation sent and confirmed", ar)
	}
	if br := states["BR"]; !br.RevocationAt.IsZero() {
		t.Errorf("BR = %+v, want no revocation", br)
	}
}

// TestRevocationConfirmedOrEscalated: a revocation asks every holder to
// confirm; the one that does not is overdue past the precedence deadline
// and escalated once; acknowledgements are no longer overdue.
func TestRevocationConfirmedOrEscalated(t *testing.T) {
	ctx := context.Background()
	const id = "01JREVOKE"
	f := newFixture(t)
	f.post(id, bulletin.Flash, t0, "AR", "BR")
	rv := later(id, bulletin.KindRevocation, 1, 0, t0.Add(time.Minute), "AR", "BR")
	f.accept(revocation(id, 0, t0.Add(time.Minute)), rv)
	f.accept(revoked(id, "BR", 0, t0.Add(2*time.Minute)), rv)
	now := t0.Add(time.Minute + audit.DefaultFlashDeadline + time.Second)
	items, err := f.lg.Overdue(ctx, now, audit.Deadlines{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].State != "AR" || !items[0].Revocation || !items[0].ClockAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Overdue = %+v, want AR's confirmation only", items)
	}
	for range 2 {
		esc, err := f.lg.Escalations(ctx, now, audit.Deadlines{})
		if err != nil {
			t.Fatal(err)
		}
		if len(esc) > 0 && (len(esc) != 1 || esc[0].Kind != audit.EventRevocationEscalated || esc[0].State != "AR") {
			t.Fatalf("Escalations = %+v", esc)
		}
	}
	r, _ := f.lg.Report(ctx, "MX", id)
	if !r.RevokedAt.Equal(t0.Add(time.Minute)) || r.RevokedBy != person("MX", "focal-point", "ana") {
		t.Errorf("report: revoked at %v by %q", r.RevokedAt, r.RevokedBy)
	}
	for _, s := range r.Recipients {
		switch s.State {
		case "AR":
			if s.RevocationEscalatedAt.IsZero() || !s.RevokedAt.IsZero() {
				t.Errorf("AR = %+v, want escalated, pending", s)
			}
		case "BR":
			if s.RevokedAt.IsZero() || !s.RevocationEscalatedAt.IsZero() {
				t.Errorf("BR = %+v, want confirmed", s)
			}
		}
	}
}

// TestRevokedReceiptsRefused: a state that never held the bulletin cannot
// confirm its revocation, nor can a confirmation come with the header of
// another message; one about a revocation the log has no header of waits.
func TestRevokedReceiptsRefused(t *testing.T) {
	const id = "01JFORGED"
	f := newFixture(t)
	h := f.post(id, bulletin.Flash, t0, "AR", "BR")
	rv := later(id, bulletin.KindRevocation, 1, 0, t0.Add(time.Minute), "AR", "BR")
	if o := f.submit(f.submission(revoked(id, "AR", 0, t0.Add(time.Minute)), nil, nil))[0]; !errors.Is(o.Err, audit.ErrNoHeader) {
		t.Errorf("revoked before the revocation's header = %v, want %v", o.Err, audit.ErrNoHeader)
	}
	f.accept(revocation(id, 0, t0.Add(time.Minute)), rv)
	tests := []struct {
		name string
		e    audit.Event
		h    *audit.SignedHeader
		rule string
	}{
		{"a state that never held it", revoked(id, "CA", 0, t0.Add(2*time.Minute)), nil, "receipt.not_recipient"},
		{"with the bulletin's header", revoked(id, "AR", 0, t0.Add(2*time.Minute)), h, "receipt.header"},
		{"a revised event without the header", revised(id, 2, t0.Add(2*time.Minute)), nil, "receipt.header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := f.submit(f.submission(tt.e, tt.h, nil))[0]
			var re *audit.ReceiptError
			if !errors.As(o.Err, &re) || re.Rule != tt.rule {
				t.Errorf("Submit = %v, want refused by %s", o.Err, tt.rule)
			}
		})
	}
}

// TestThreadInReport: a reply and a consent about a bulletin show in its
// report as what they are and when, never their content.
func TestThreadInReport(t *testing.T) {
	const id = "01JTHREAD"
	f := newFixture(t)
	f.post(id, bulletin.Flash, t0, "BR")
	reply := &audit.SignedHeader{Origin: "BR", ID: "01JREPLY", Signer: node("BR"), Precedence: bulletin.Flash,
		CreatedAt: t0.Add(14 * time.Minute), Recipients: []string{"MX"}, Kind: bulletin.KindReply,
		Subkind: int(bulletin.ReplyAnswer), Ref: bulletin.Ref{Origin: "MX", ID: id}}
	f.accept(audit.Event{Kind: audit.EventPosted, BulletinID: "01JREPLY", Origin: "BR", Actor: person("BR", "focal-point", "fp"),
		Precedence: bulletin.Flash, At: reply.CreatedAt}, reply)
	r, err := f.lg.Report(context.Background(), "MX", id)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Thread) != 1 {
		t.Fatalf("thread = %+v, want the reply", r.Thread)
	}
	it := r.Thread[0]
	if it.Origin != "BR" || it.Kind != bulletin.KindReply || it.Subkind != int(bulletin.ReplyAnswer) || it.Latency != 14*time.Minute {
		t.Errorf("thread item = %+v, want BR's answer after 14m", it)
	}
	rr, err := f.lg.Report(context.Background(), "BR", "01JREPLY")
	if err != nil || rr.Kind != bulletin.KindReply || rr.Ref != (bulletin.Ref{Origin: "MX", ID: id}) {
		t.Errorf("report of the reply = %+v, %v", rr, err)
	}
}

// TestAnalystAuthorsOnlySightingsAndNotes: the network policy lets an
// analyst reply with a sighting or a note, so BR's node reports its
// analyst as the author of such a reply and the log takes it (it refused
// every analyst's posted receipt, and the reply's released receipts then
// waited for a header that never came); an analyst named as the author
// of an answer, or of a bulletin, is refused (receipt.actor).
func TestAnalystAuthorsOnlySightingsAndNotes(t *testing.T) {
	const id = "01JANALYST"
	f := newFixture(t)
	f.post(id, bulletin.Flash, t0, "BR")
	reply := func(rid string, kind bulletin.ReplyKind) *audit.SignedHeader {
		return &audit.SignedHeader{Origin: "BR", ID: rid, Signer: node("BR"), Precedence: bulletin.Flash,
			CreatedAt: t0.Add(time.Minute), Recipients: []string{"MX"}, Kind: bulletin.KindReply,
			Subkind: int(kind), Ref: bulletin.Ref{Origin: "MX", ID: id}}
	}
	byAnalyst := func(rid string) audit.Event {
		return audit.Event{Kind: audit.EventPosted, BulletinID: rid, Origin: "BR", Actor: person("BR", "analyst", "an"),
			Precedence: bulletin.Flash, At: t0.Add(time.Minute)}
	}
	f.accept(byAnalyst("01JSIGHTING"), reply("01JSIGHTING", bulletin.ReplySighting))
	f.accept(byAnalyst("01JNOTE"), reply("01JNOTE", bulletin.ReplyNote))
	if r, err := f.lg.Report(context.Background(), "MX", id); err != nil || len(r.Thread) != 2 {
		t.Errorf("thread of MX's bulletin = %+v, %v; want the sighting and the note", r.Thread, err)
	}
	bulletinOfBR := &audit.SignedHeader{Origin: "BR", ID: "01JBULLETIN", Signer: node("BR"), Precedence: bulletin.Flash,
		CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour), Recipients: []string{"MX"}}
	for _, tt := range []struct {
		name string
		h    *audit.SignedHeader
	}{
		{"an answer", reply("01JANSWER", bulletin.ReplyAnswer)},
		{"a request for information", reply("01JRFI", bulletin.ReplyRFI)},
		{"a bulletin", bulletinOfBR},
	} {
		o := f.submit(f.submission(byAnalyst(tt.h.ID), tt.h, nil))[0]
		var re *audit.ReceiptError
		if !errors.As(o.Err, &re) || re.Rule != "receipt.actor" {
			t.Errorf("an analyst as the author of %s: %v, want refused by receipt.actor", tt.name, o.Err)
		}
	}
}

// lifecycleEvents are one event of each lifecycle kind: the lines of
// testdata/v2/lifecycle-events.jsonl. Their encoding is version 1 with
// the optional revision: every event without one encodes as before.
func lifecycleEvents() []audit.Event {
	const id = goldenID
	d := delivered(id, "CA", t0.Add(2*time.Minute))
	d.Revision = 2
	return []audit.Event{
		revised(id, 2, t0.Add(time.Minute)),
		d,
		revocation(id, 2, t0.Add(time.Hour)),
		revoked(id, "CA", 2, t0.Add(time.Hour+time.Second)),
		{Kind: audit.EventRevocationEscalated, BulletinID: id, Origin: "MX", State: "BR", Precedence: bulletin.Flash,
			Revision: 2, At: t0.Add(2 * time.Hour), Detail: "confirmation of the revocation was due 2026-03-01T13:15:00Z"},
	}
}

func TestGoldenLifecycleEvents(t *testing.T) {
	events := lifecycleEvents()
	const name = "lifecycle-events.jsonl"
	if *update {
		var b []byte
		for _, e := range events {
			line, err := audit.MarshalEvent(e)
			if err != nil {
				t.Fatal(err)
			}
			b = append(append(b, line...), '\n')
		}
		if err := os.WriteFile(filepath.Join(goldenV2, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lines := goldenLines(t, goldenV2, name)
	if len(lines) != len(events) {
		t.Fatalf("%s has %d lines, want %d", name, len(lines), len(events))
	}
	for i, line := range lines {
		e, err := audit.UnmarshalEvent(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if diff := cmp.Diff(events[i], e, cmp.Comparer(time.Time.Equal)); diff != "" {
			t.Errorf("line %d (-want +got):\n%s", i+1, diff)
		}
		if b, _ := audit.MarshalEvent(events[i]); !bytes.Equal(b, line) {
			t.Errorf("MarshalEvent(event %d) = %s, golden %s", i, b, line)
		}
	}
	// The revision joins the event's key: each revision is its own event.
	a, b := delivered(goldenID, "CA", t0), delivered(goldenID, "CA", t0)
	b.Revision = 2
	if audit.EventID(a) == audit.EventID(b) {
		t.Error("the delivery of revision 2 has the id of the first version's")
	}
}

// TestLifecycleEventsValidate: each lifecycle kind's rules.
func TestLifecycleEventsValidate(t *testing.T) {
	tests := []struct {
		name  string
		e     audit.Event
		field string
	}{
		{"revised without a revision", revised(goldenID, 0, t0), "revision"},
		{"revision 1 written as 1", func() audit.Event { e := revoked(goldenID, "BR", 1, t0); return e }(), "revision"},
		{"revised at a state", func() audit.Event { e := revised(goldenID, 2, t0); e.State = "BR"; return e }(), "state"},
		{"revoked without a state", revoked(goldenID, "", 2, t0), "state"},
		{"revised without a precedence", func() audit.Event { e := revised(goldenID, 2, t0); e.Precedence = 0; return e }(), "precedence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Validate()
			var p *problem.Error
			if !errors.As(err, &p) || p.Field != tt.field {
				t.Errorf("Validate = %v, want invalid field %s", err, tt.field)
			}
		})
	}
}

package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

// TestSubmitChecksWhatTheOriginSigned runs receipts that contradict the
// signed header of a bulletin MX released to BR and US: each is refused
// with its rule, the refusal is logged by the log itself naming the
// signer, and the report is what the origin and its recipients said.
func TestSubmitChecksWhatTheOriginSigned(t *testing.T) {
	const id = "01JSIGNED"
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	h := header(id, bulletin.Flash, t0, "BR", "US")
	other := *h
	other.Precedence = bulletin.Routine
	otherID := *h
	otherID.ID = "01JOTHER"
	with := func(e audit.Event, edit func(*audit.Event)) audit.Event { edit(&e); return e }
	// Another focal point of MX posts again (the genuine posting is logged:
	// a receipt of the same event key would only get its index).
	repost := func(p bulletin.Precedence, at time.Time) audit.Event {
		return with(posted(id, p, at), func(e *audit.Event) { e.Actor = person("MX", "focal-point", "bo") })
	}
	tests := []struct {
		name  string
		e     audit.Event
		h     *audit.SignedHeader
		fwd   *audit.SignedForward
		rule  string
		state string // the reporting state, named in the refusal
	}{
		{"posted without the header", repost(bulletin.Flash, t0), nil, nil, "receipt.header", "MX"},
		{"posted ROUTINE", repost(bulletin.Routine, t0), h, nil, "receipt.header", "MX"},
		{"posted in 1971", repost(bulletin.Flash, time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)), h, nil, "receipt.header", "MX"},
		{"posted with another bulletin's header", repost(bulletin.Flash, t0), &otherID, nil, "receipt.header", "MX"},
		{"a header contradicting the one held", delivered(id, "BR", at(time.Second)), &other, nil, "receipt.header", "BR"},
		{"released to a state not signed", released(id, "CA", t0), nil, nil, "receipt.not_recipient", "MX"},
		{"delivered at a state never released", delivered(id, "CA", at(time.Second)), nil, nil, "receipt.not_recipient", "CA"},
		{"read at a state never released", read(id, "CA", "eve", at(time.Minute)), nil, nil, "receipt.not_recipient", "CA"},
		{"acknowledged at a state never released", acked(id, "CA", "eve", at(time.Minute)), nil, nil, "receipt.not_recipient", "CA"},
		{"refused at a state never released", with(read(id, "CA", "eve", at(time.Minute)), func(e *audit.Event) {
			e.Kind, e.Rule = audit.EventRefused, "read.red-focal-points-only"
		}), nil, nil, "receipt.not_recipient", "CA"},
		{"delivered with another precedence", with(delivered(id, "BR", at(time.Second)), func(e *audit.Event) {
			e.Precedence = bulletin.Routine
		}), nil, nil, "receipt.header", "BR"},
		{"delivered in 1971", delivered(id, "BR", time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)), nil, nil, "receipt.time", "BR"},
		{"forwarded by a state never released", delivered(id, "CA", at(time.Second)), nil,
			&audit.SignedForward{Origin: "MX", ID: id, Forwarder: "JM", Signer: node("JM"), Recipient: "CA", At: at(time.Second)},
			"receipt.forward", "CA"},
		{"a forward to another state", delivered(id, "CA", at(time.Second)), nil,
			&audit.SignedForward{Origin: "MX", ID: id, Forwarder: "BR", Signer: node("BR"), Recipient: "AR", At: at(time.Second)},
			"receipt.forward", "CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.post(id, bulletin.Flash, t0, "BR", "US")
			before, err := f.lg.Report(context.Background(), "MX", id)
			if err != nil {
				t.Fatal(err)
			}
			size := f.lg.Size()
			o := f.submit(f.submission(tt.e, tt.h, tt.fwd))[0]
			var re *audit.ReceiptError
			if !errors.As(o.Err, &re) || re.Rule != tt.rule {
				t.Fatalf("Submit = %v, want refused by %s", o.Err, tt.rule)
			}
			if f.lg.Size() != size+1 || o.Index != size {
				t.Fatalf("Submit: log size %d → %d, index %d; want the refusal alone at %d", size, f.lg.Size(), o.Index, size)
			}
			refusal, _, err := f.lg.Entry(context.Background(), o.Index)
			if err != nil {
				t.Fatal(err)
			}
			want := audit.Event{Kind: audit.EventRefused, BulletinID: id, Origin: "MX", State: tt.state,
				Actor: node(tt.state), Rule: tt.rule, Detail: "refused " + string(tt.e.Kind) + " receipt", At: t0}
			if diff := cmp.Diff(want, refusal, cmp.Comparer(time.Time.Equal)); diff != "" {
				t.Errorf("the logged refusal (-want +got):\n%s", diff)
			}
			after, err := f.lg.Report(context.Background(), "MX", id)
			if diff := cmp.Diff(before, after); err != nil || diff != "" {
				t.Errorf("a refused receipt changed the report (%v) (-before +after):\n%s", err, diff)
			}
		})
	}
}

// TestSubmitAcceptsForwards has BR forward MX's bulletin to CA: CA's
// receipts carry BR's signed statement once, and count after that.
func TestSubmitAcceptsForwards(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const id = "01JFWD"
	f.post(id, bulletin.Immediate, t0, "BR")
	fwd := &audit.SignedForward{Origin: "MX", ID: id, Forwarder: "BR", Signer: node("BR"), Recipient: "CA", At: t0.Add(time.Minute)}
	if o := f.submit(f.submission(delivered(id, "CA", t0.Add(2*time.Minute)), nil, fwd))[0]; o.Err != nil {
		t.Fatalf("Submit(delivered with a forward) = %v", o.Err)
	}
	f.accept(read(id, "CA", "ines", t0.Add(3*time.Minute)), nil)
	r, err := f.lg.Report(ctx, "MX", id)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Recipients) != 2 || r.Recipients[1].State != "CA" || r.Recipients[1].ForwardedBy != "BR" ||
		r.Recipients[1].ReadBy != person("CA", "analyst", "ines") || r.Recipients[0].ForwardedBy != "" {
		t.Errorf("Report = %+v, want BR released, CA forwarded by BR and read", r.Recipients)
	}
}

// TestSubmitWithoutHeader checks what the log does before it holds a
// bulletin's signed header: it logs nothing and asks for the receipt
// again — except a copy its recipient refused, for which no header may
// ever come.
func TestSubmitWithoutHeader(t *testing.T) {
	f := newFixture(t)
	pending := f.submit(f.submission(delivered("01JNOHDR", "BR", t0), nil, nil), f.submission(acked("01JNOHDR", "BR", "eva", t0), nil, nil))
	for i, o := range pending {
		if !errors.Is(o.Err, audit.ErrNoHeader) {
			t.Errorf("Submit(%d, no header) = %v, want ErrNoHeader", i, o.Err)
		}
	}
	rejected := audit.Event{Kind: audit.EventRefused, BulletinID: "01JGARBAGE", Origin: "JM", State: "BR",
		Actor: "spiffe://iant.test/state/JM/node", Rule: "receive.open", Detail: "copy rejected", At: t0}
	f.accept(rejected, nil)
	// A post the origin's policy refused: never sealed, never a header.
	f.accept(audit.Event{Kind: audit.EventRefused, BulletinID: "01JNEVERPOSTED", Origin: "MX", State: "MX",
		Actor: person("MX", "focal-point", "ana"), Rule: "post-red-names-states", Detail: "post", At: t0}, nil)
	if f.lg.Size() != 2 {
		t.Errorf("log size %d, want only the two refusals logged", f.lg.Size())
	}
	if _, err := f.lg.Report(context.Background(), "JM", "01JGARBAGE"); !errors.Is(err, audit.ErrNotFound) {
		t.Errorf("Report of a refused copy = %v, want ErrNotFound (refusals make no report)", err)
	}
}

// TestSubmitAfterPublication refuses a time after the backbone stored the
// receipt, and checks Submit's contract on what was verified.
func TestSubmitAfterPublication(t *testing.T) {
	f := newFixture(t)
	h := f.post("01JTIME", bulletin.Flash, t0, "BR")
	s := f.submission(delivered("01JTIME", "BR", t0.Add(time.Hour)), nil, nil)
	s.Published = t0.Add(time.Minute)
	var re *audit.ReceiptError
	if o := f.submit(s)[0]; !errors.As(o.Err, &re) || re.Rule != "receipt.time" {
		t.Errorf("Submit(delivered an hour after publication) = %v, want receipt.time", o.Err)
	}
	unverified := f.submission(delivered("01JTIME", "BR", t0), h, nil)
	unverified.Header = nil
	if _, err := f.lg.Submit(context.Background(), []audit.Submission{unverified}); err == nil {
		t.Error("Submit(attestation not verified) = nil error, want the caller's mistake refused")
	}
}

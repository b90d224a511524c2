package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

// TestSubmitForwarded: BR, which MX released its bulletin to, reports
// that it forwarded it to CA, carrying its signed statement; the report
// shows CA reached through BR's forward at the statement's time, whether
// BR's report or CA's delivery comes first.
func TestSubmitForwarded(t *testing.T) {
	at := t0.Add(time.Minute)
	for _, forwarderFirst := range []bool{true, false} {
		f := newFixture(t)
		const id = "01JFWDEV"
		f.post(id, bulletin.Immediate, t0, "BR")
		st := &audit.SignedForward{Origin: "MX", ID: id, Forwarder: "BR", Signer: node("BR"), Recipient: "CA", At: at}
		subs := []audit.Submission{f.submission(forwarded(id, "BR", "CA", at), nil, st),
			f.submission(delivered(id, "CA", at.Add(time.Second)), nil, st)}
		if !forwarderFirst {
			subs[0], subs[1] = subs[1], subs[0]
		}
		for _, s := range subs {
			if o := f.submit(s)[0]; o.Err != nil {
				t.Fatalf("Submit(%s) = %v", s.Receipt.Event.Kind, o.Err)
			}
		}
		r, err := f.lg.Report(context.Background(), "MX", id)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Recipients) != 2 || r.Recipients[1].State != "CA" || r.Recipients[1].ForwardedBy != "BR" ||
			!r.Recipients[1].ForwardedAt.Equal(at) || r.Recipients[1].DeliveredAt.IsZero() || !r.Recipients[0].ForwardedAt.IsZero() {
			t.Errorf("forwarder first %v: report %+v, want CA reached through BR's forward at %v and delivered", forwarderFirst, r.Recipients, at)
		}
	}
}

// TestSubmitForwardedRefused: a forwarded event is refused unless the
// forwarder itself reports it, about a bulletin the origin released to
// it, to a state that did not hold it, with the statement that says so.
func TestSubmitForwardedRefused(t *testing.T) {
	const id = "01JFWDNO"
	at := t0.Add(time.Minute)
	st := func(forwarder, to string) *audit.SignedForward {
		return &audit.SignedForward{Origin: "MX", ID: id, Forwarder: forwarder, Signer: node(forwarder), Recipient: to, At: at}
	}
	tests := []struct {
		name string
		e    audit.Event
		fwd  *audit.SignedForward
		rule string
	}{
		{"without the statement", forwarded(id, "BR", "CA", at), nil, "receipt.forward"},
		{"by a state never released", forwarded(id, "JM", "CA", at), st("JM", "CA"), "receipt.not_recipient"},
		{"another state's statement", forwarded(id, "US", "CA", at), st("BR", "CA"), "receipt.forward"},
		{"a statement of a forward elsewhere", forwarded(id, "BR", "CA", at), st("BR", "AR"), "receipt.forward"},
		{"to a state released already", forwarded(id, "BR", "US", at), st("BR", "US"), "receipt.forward"},
		{"at another time", forwarded(id, "BR", "CA", at.Add(time.Second)), st("BR", "CA"), "receipt.forward"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.post(id, bulletin.Immediate, t0, "BR", "US")
			o := f.submit(f.submission(tt.e, nil, tt.fwd))[0]
			var re *audit.ReceiptError
			if !errors.As(o.Err, &re) || re.Rule != tt.rule {
				t.Fatalf("Submit = %v, want refused by %s", o.Err, tt.rule)
			}
			r, err := f.lg.Report(context.Background(), "MX", id)
			if err != nil {
				t.Fatal(err)
			}
			for _, rs := range r.Recipients {
				if rs.ForwardedBy != "" || !rs.ForwardedAt.IsZero() {
					t.Errorf("a refused forward shows in the report: %+v", rs)
				}
			}
		})
	}
}

// TestVerifyReceiptForwardedReporter: only the forwarding node itself
// reports a forward, and not to its own state.
func TestVerifyReceiptForwardedReporter(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		name  string
		e     audit.Event
		scope string
		rule  string
	}{
		{"another node as actor", audit.Event{Kind: audit.EventForwarded, BulletinID: "01J", Origin: "MX", State: "CA",
			Actor: node("US"), At: t0}, "BR", "receipt.actor"},
		{"a person as actor", audit.Event{Kind: audit.EventForwarded, BulletinID: "01J", Origin: "MX", State: "CA",
			Actor: person("BR", "focal-point", "ana"), At: t0}, "BR", "receipt.actor"},
		{"to its own state", audit.Event{Kind: audit.EventForwarded, BulletinID: "01J", Origin: "MX", State: "BR",
			Actor: node("BR"), At: t0}, "BR", "receipt.signer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data, err := audit.SignReceipt(tt.e, audit.Evidence{}, f.nodeSVID(tt.scope))
			if err != nil {
				t.Fatal(err)
			}
			_, err = audit.VerifyReceipt(data, f.ca.Bundle(), f.ca.TD, tt.scope, time.Now())
			var re *audit.ReceiptError
			if !errors.As(err, &re) || re.Rule != tt.rule {
				t.Errorf("VerifyReceipt = %v, want refused by %s", err, tt.rule)
			}
		})
	}
}

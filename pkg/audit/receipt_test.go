package audit

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

func testEvent(kind EventKind, state, actor string) Event {
	e := Event{Kind: kind, BulletinID: "01JNQ8Y4Z5W6X7V8T9S0R1Q2P3", Origin: "MX", State: state, Actor: actor,
		Precedence: bulletin.Flash, At: time.Now().UTC()}
	if kind == EventRefused {
		e.Rule = "read-red-focal-points-only"
	}
	return e
}

func TestVerifyReceipt(t *testing.T) {
	t.Parallel()
	ca := identitytest.NewCA(t, "iant.test")
	other := identitytest.NewCA(t, "iant.test")
	node := func(cc string) identity.Principal {
		return identity.Principal{State: cc, Role: identity.RoleNode, Name: "main"}
	}
	mx, ca1 := ca.SVID(t, node("MX")), ca.SVID(t, node("CA"))
	mxID, caID := mx.ID.String(), ca1.ID.String()
	const (
		fpMX = "spiffe://iant.test/state/MX/focal-point/ana"
		anCA = "spiffe://iant.test/state/CA/analyst/bo"
		anMX = "spiffe://iant.test/state/MX/analyst/cy"
	)
	att := Evidence{Header: []byte("header attestation")}
	sign := func(e Event, by *x509svid.SVID) []byte {
		t.Helper()
		b, err := SignReceipt(e, att, by)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// rewrite decodes a receipt signed for e, lets edit change it, and
	// encodes it again.
	rewrite := func(e Event, by *x509svid.SVID, edit func(*wireReceipt)) []byte {
		t.Helper()
		var w wireReceipt
		if err := json.Unmarshal(sign(e, by), &w); err != nil {
			t.Fatal(err)
		}
		edit(&w)
		b, err := encodeJSON(w)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	unsigned := func(e Event) []byte { return rewrite(e, ca1, func(w *wireReceipt) { w.Sig = nil }) }
	tampered := func(e Event, by *x509svid.SVID) []byte {
		return rewrite(e, by, func(w *wireReceipt) {
			e.Detail = "changed"
			w.Event, _ = MarshalEvent(e)
		})
	}
	swappedEvidence := func(e Event, by *x509svid.SVID) []byte {
		return rewrite(e, by, func(w *wireReceipt) { w.Header = []byte("another attestation") })
	}
	addedForward := func(e Event, by *x509svid.SVID) []byte {
		return rewrite(e, by, func(w *wireReceipt) { w.Forward = []byte("a forward") })
	}
	oldVersion := func(e Event, by *x509svid.SVID) []byte {
		return rewrite(e, by, func(w *wireReceipt) { w.V = 1 })
	}
	tests := []struct {
		name     string
		data     []byte
		scope    string
		wantRule string
	}{
		{"posted by the origin", sign(testEvent(EventPosted, "", fpMX), mx), "MX", ""},
		{"released by the origin", sign(testEvent(EventReleased, "CA", mxID), mx), "MX", ""},
		{"delivered at CA", sign(testEvent(EventDelivered, "CA", caID), ca1), "CA", ""},
		{"read at CA", sign(testEvent(EventRead, "CA", anCA), ca1), "CA", ""},
		{"refused at CA", sign(testEvent(EventRefused, "CA", anCA), ca1), "CA", ""},
		{"delivery claimed for another state", sign(testEvent(EventDelivered, "CA", mxID), mx), "MX", "receipt.signer"},
		{"published under another scope", sign(testEvent(EventDelivered, "CA", caID), ca1), "MX", "receipt.signer"},
		{"posting claimed by a recipient", sign(testEvent(EventPosted, "", fpMX), ca1), "CA", "receipt.signer"},
		{"escalated by a node", sign(testEvent(EventEscalated, "CA", caID), ca1), "CA", "receipt.signer"},
		{"read by another state's person", sign(testEvent(EventRead, "CA", anMX), ca1), "CA", "receipt.actor"},
		{"acknowledged by an analyst", sign(testEvent(EventAcknowledged, "CA", anCA), ca1), "CA", "receipt.actor"},
		{"delivered for another node", sign(testEvent(EventDelivered, "CA", mxID), ca1), "CA", "receipt.actor"},
		{"unsigned", unsigned(testEvent(EventDelivered, "CA", caID)), "CA", "receipt.unsigned"},
		{"tampered event", tampered(testEvent(EventDelivered, "CA", caID), ca1), "CA", "receipt.signature"},
		{"swapped attestation", swappedEvidence(testEvent(EventDelivered, "CA", caID), ca1), "CA", "receipt.signature"},
		{"added forward", addedForward(testEvent(EventDelivered, "CA", caID), ca1), "CA", "receipt.signature"},
		{"version 1", oldVersion(testEvent(EventDelivered, "CA", caID), ca1), "CA", "receipt.malformed"},
		{"other CA", sign(testEvent(EventDelivered, "CA", caID), other.SVID(t, node("CA"))), "CA", "receipt.chain"},
		{"not json", []byte("{"), "CA", "receipt.malformed"},
		{"unknown field", []byte(`{"event":"","x":1}`), "CA", "receipt.malformed"},
	}
	// Each receipt verified without a chain cache, then through one
	// (cold: chains verified and kept, warm: chains taken from it): the
	// cache never changes a verdict.
	cache := NewChainCache(0)
	for _, pass := range []string{"uncached", "cache cold", "cache warm"} {
		verify := VerifyReceipt
		if pass != "uncached" {
			verify = cache.VerifyReceipt
		}
		for _, tt := range tests {
			t.Run(pass+"/"+tt.name, func(t *testing.T) {
				checkVerified(t, verify, tt.data, ca.Bundle(), ca.TD, tt.scope, tt.wantRule, att)
			})
		}
	}
	if cache.Len() != 2 {
		t.Errorf("cache holds %d chains, want 2 (MX's and CA's; none of another CA)", cache.Len())
	}
}

// verifyFunc is VerifyReceipt or a ChainCache's.
type verifyFunc func(data []byte, bundle x509bundle.Source, td spiffeid.TrustDomain, scope string, published time.Time) (*Receipt, error)

// checkVerified checks what verify says of receipt data published now
// under scope: accepted with evidence att (wantRule ""), or refused by
// wantRule.
func checkVerified(t *testing.T, verify verifyFunc, data []byte, bundle x509bundle.Source, td spiffeid.TrustDomain, scope, wantRule string, att Evidence) {
	t.Helper()
	r, err := verify(data, bundle, td, scope, time.Now())
	var re *ReceiptError
	switch {
	case wantRule == "" && err != nil:
		t.Errorf("VerifyReceipt() = %v, want nil", err)
	case wantRule == "" && (r.Event.Kind == "" || r.Signer.IsZero() || string(r.Header) != string(att.Header)):
		t.Errorf("VerifyReceipt() = %+v, want the event, its signer and its evidence", r)
	case wantRule != "" && (!errors.As(err, &re) || re.Rule != wantRule):
		t.Errorf("VerifyReceipt() = %v, want rule %s", err, wantRule)
	case wantRule != "" && wantRule != "receipt.malformed" && re.Event.BulletinID == "":
		t.Errorf("refusal %s does not carry the claimed event", re.Rule)
	}
}

func TestEventIDIsPerKey(t *testing.T) {
	a := testEvent(EventRead, "CA", "spiffe://iant.test/state/CA/analyst/bo")
	b := a
	b.At = a.At.Add(time.Hour)
	b.Detail = "again"
	c := a
	c.Actor = "spiffe://iant.test/state/CA/analyst/other"
	if EventID(a) != EventID(b) {
		t.Error("EventID differs for two reports of the same event")
	}
	if EventID(a) == EventID(c) {
		t.Error("EventID equal for reads by two people")
	}
	d := a
	d.Origin = "US"
	if EventID(a) == EventID(d) {
		t.Error("EventID equal for reads of bulletins of two origins sharing an id")
	}
}

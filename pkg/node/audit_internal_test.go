package node

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

func testEvent(kind audit.EventKind, state, actor string) audit.Event {
	e := audit.Event{Kind: kind, BulletinID: "01JNQ8Y4Z5W6X7V8T9S0R1Q2P3", Origin: "MX", State: state, Actor: actor,
		Precedence: bulletin.Flash, At: time.Now().UTC()}
	if kind == audit.EventRefused {
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
	sign := func(e audit.Event, by *x509svid.SVID) []byte {
		t.Helper()
		b, err := SignReceipt(e, by)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	unsigned := func(e audit.Event) []byte {
		ev, _ := audit.MarshalEvent(e)
		b, _ := json.Marshal(receipt{Event: ev})
		return b
	}
	tampered := func(e audit.Event, by *x509svid.SVID) []byte {
		var r receipt
		if err := json.Unmarshal(sign(e, by), &r); err != nil {
			t.Fatal(err)
		}
		e.Detail = "changed"
		r.Event, _ = audit.MarshalEvent(e)
		b, _ := json.Marshal(r)
		return b
	}
	tests := []struct {
		name     string
		data     []byte
		scope    string
		wantRule string
	}{
		{"posted by the origin", sign(testEvent(audit.EventPosted, "", fpMX), mx), "MX", ""},
		{"released by the origin", sign(testEvent(audit.EventReleased, "CA", mxID), mx), "MX", ""},
		{"delivered at CA", sign(testEvent(audit.EventDelivered, "CA", caID), ca1), "CA", ""},
		{"read at CA", sign(testEvent(audit.EventRead, "CA", anCA), ca1), "CA", ""},
		{"refused at CA", sign(testEvent(audit.EventRefused, "CA", anCA), ca1), "CA", ""},
		{"delivery claimed for another state", sign(testEvent(audit.EventDelivered, "CA", mxID), mx), "MX", "receipt.signer"},
		{"published under another scope", sign(testEvent(audit.EventDelivered, "CA", caID), ca1), "MX", "receipt.signer"},
		{"posting claimed by a recipient", sign(testEvent(audit.EventPosted, "", fpMX), ca1), "CA", "receipt.signer"},
		{"escalated by a node", sign(testEvent(audit.EventEscalated, "CA", caID), ca1), "CA", "receipt.signer"},
		{"read by another state's person", sign(testEvent(audit.EventRead, "CA", anMX), ca1), "CA", "receipt.actor"},
		{"acknowledged by an analyst", sign(testEvent(audit.EventAcknowledged, "CA", anCA), ca1), "CA", "receipt.actor"},
		{"delivered for another node", sign(testEvent(audit.EventDelivered, "CA", mxID), ca1), "CA", "receipt.actor"},
		{"unsigned", unsigned(testEvent(audit.EventDelivered, "CA", caID)), "CA", "receipt.unsigned"},
		{"tampered", tampered(testEvent(audit.EventDelivered, "CA", caID), ca1), "CA", "receipt.signature"},
		{"other CA", sign(testEvent(audit.EventDelivered, "CA", caID), other.SVID(t, node("CA"))), "CA", "receipt.chain"},
		{"not json", []byte("{"), "CA", "receipt.malformed"},
		{"unknown field", []byte(`{"event":"","x":1}`), "CA", "receipt.malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := verifyReceipt(tt.data, ca.Bundle(), ca.TD, tt.scope, time.Now())
			var re *receiptError
			switch {
			case tt.wantRule == "" && err != nil:
				t.Errorf("verifyReceipt() = %v, want nil", err)
			case tt.wantRule == "" && e.Kind == "":
				t.Errorf("verifyReceipt() returned no event")
			case tt.wantRule != "" && (!errors.As(err, &re) || re.Rule != tt.wantRule):
				t.Errorf("verifyReceipt() = %v, want rule %s", err, tt.wantRule)
			case tt.wantRule != "" && tt.wantRule != "receipt.malformed" && re.Event.BulletinID == "":
				t.Errorf("refusal %s does not carry the claimed event", re.Rule)
			}
		})
	}
}

func TestEventIDIsPerKey(t *testing.T) {
	a := testEvent(audit.EventRead, "CA", "spiffe://iant.test/state/CA/analyst/bo")
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
}

func TestOutboxSurvivesFailuresAndPublishesEachOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), outboxFile)
	ob, err := openOutbox(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now
	if added, err := ob.add(t.Context(), []queued{{"a", []byte("receipt a")}, {"b", []byte("receipt b")}}, now()); err != nil || added != 2 {
		t.Fatalf("add(a, b) = %v, %v; want 2 added", added, err)
	}
	if added, err := ob.add(t.Context(), []queued{{"a", []byte("again")}, {"c", []byte("receipt c")}}, now()); err != nil || added != 1 {
		t.Errorf("add(a again, c) = %v, %v; want 1 added", added, err)
	}
	// Reopening keeps what was queued.
	if err := ob.close(); err != nil {
		t.Fatal(err)
	}
	if ob, err = openOutbox(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	defer ob.close()

	var mu sync.Mutex
	calls, published := 0, map[string]int{}
	done := make(chan struct{})
	publish := func(_ context.Context, id string, r []byte) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 3 { // the backbone is down for a while
			return errors.New("backbone unavailable")
		}
		if string(r) != "receipt "+id {
			t.Errorf("published %s with %q", id, r)
		}
		published[id]++
		if len(published) == 3 {
			close(done)
		}
		return nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { ob.drain(ctx, publish, now, discardLogger()) })
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("outbox not drained within 20s")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := ob.countPending(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d receipts still pending", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	for id, n := range published {
		if n != 1 {
			t.Errorf("receipt %s published %d times, want 1", id, n)
		}
	}
	if seen, err := ob.has(t.Context(), "b"); err != nil || !seen {
		t.Errorf("has(b) after publishing = %v, %v; want true", seen, err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestWitnessDetectsARewrittenLog publishes checkpoints of an honest log,
// then one of a log rewritten under the same key, on a real backbone: the
// state node accepts the honest ones (walking back over several published
// at once) and reports the rewrite as a fork.
func TestWitnessDetectsARewrittenLog(t *testing.T) {
	t.Parallel()
	ca := identitytest.NewCA(t, "iant.test")
	srv := backbonetest.StartServer(t, ca, backbonetest.Secretariat, backbonetest.Node("MX"))
	secBB := backbonetest.Provision(t, ca, srv, "MX")
	mxBB := backbonetest.Connect(t, ca, srv, backbonetest.Node("MX"))
	skey, vkey, err := note.GenerateKey(rand.Reader, "iant.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	secretariat := func(name string) *Node {
		lg, err := audit.OpenLog(t.Context(), filepath.Join(t.TempDir(), name+".db"), signer, "iant.test/audit")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lg.Close() })
		n := &Node{self: backbonetest.Secretariat, cfg: Config{TrustDomain: ca.TD}, bb: secBB, log: discardLogger(), now: time.Now}
		n.audit.log, n.audit.vkey, n.audit.verifier = lg, vkey, verifier
		return n
	}
	appendN := func(n *Node, prefix string, k int) {
		for i := range k {
			e := testEvent(audit.EventPosted, "", "spiffe://iant.test/state/MX/focal-point/ana")
			e.BulletinID = fmt.Sprintf("%s%03d", prefix, i)
			if _, err := n.audit.log.Append(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish := func(n *Node, last uint64) uint64 {
		size, err := n.publishCheckpoint(t.Context(), last)
		if err != nil {
			t.Fatal(err)
		}
		return size
	}
	mx := &Node{self: backbonetest.Node("MX"), cfg: Config{TrustDomain: ca.TD, DataDir: t.TempDir(), Audit: AuditConfig{VerifierKey: vkey}},
		bb: mxBB, log: discardLogger(), now: time.Now}
	witnessed := func() uint64 {
		cp, ok := mx.AuditCheckpoint()
		if !ok {
			t.Fatal("no checkpoint witnessed")
		}
		return cp.Size
	}

	honest := secretariat("honest")
	appendN(honest, "A", 3)
	last := publish(honest, 0)
	if err := mx.checkCheckpoints(t.Context()); err != nil || witnessed() != 3 {
		t.Fatalf("first check = %v, witnessed %d; want nil, 3", err, witnessed())
	}
	appendN(honest, "B", 2)
	last = publish(honest, last)
	appendN(honest, "C", 2)
	last = publish(honest, last)
	if err := mx.checkCheckpoints(t.Context()); err != nil || witnessed() != 7 {
		t.Fatalf("check after two checkpoints = %v, witnessed %d; want nil, 7", err, witnessed())
	}

	rewritten := secretariat("rewritten")
	appendN(rewritten, "X", 9)
	publish(rewritten, last)
	err = mx.checkCheckpoints(t.Context())
	var fork *audit.ForkError
	if !errors.As(err, &fork) || fork.Last.Size != 7 || fork.New.Size != 9 {
		t.Fatalf("check of the rewritten log = %v, want a fork from 7 to 9", err)
	}
	if witnessed() != 7 {
		t.Errorf("witness moved to %d after a fork, want 7", witnessed())
	}
}

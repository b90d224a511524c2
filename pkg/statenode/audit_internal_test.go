package statenode

import (
	"context"
	"crypto/rand"
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
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/store"
)

func testEvent(kind audit.EventKind, state, actor string) audit.Event {
	return audit.Event{Kind: kind, BulletinID: "01JNQ8Y4Z5W6X7V8T9S0R1Q2P3", Origin: "MX", State: state, Actor: actor,
		Precedence: bulletin.Flash, At: time.Now().UTC()}
}

func TestReceiptOutboxSurvivesFailuresAndPublishesEachOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "node.db")
	st, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now
	withHeader := store.Receipt{ID: "a", Event: []byte("receipt a"), Header: []byte("attestation of a")}
	if added, err := st.QueueReceipts(t.Context(), []store.Receipt{withHeader, {ID: "b", Event: []byte("receipt b")}}, now()); err != nil || added != 2 {
		t.Fatalf("QueueReceipts(a, b) = %v, %v; want 2 added", added, err)
	}
	if added, err := st.QueueReceipts(t.Context(), []store.Receipt{{ID: "a", Event: []byte("again")}, {ID: "c", Event: []byte("receipt c")}}, now()); err != nil || added != 1 {
		t.Errorf("QueueReceipts(a again, c) = %v, %v; want 1 added", added, err)
	}
	// Reopening keeps what was queued.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = store.Open(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var mu sync.Mutex
	calls, published := 0, map[string]int{}
	done := make(chan struct{})
	publish := func(_ context.Context, q store.Receipt) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 3 { // the backbone is down for a while
			return errors.New("backbone unavailable")
		}
		id := q.ID
		if string(q.Event) != "receipt "+id {
			t.Errorf("published %s with %q", id, q.Event)
		}
		if want := map[string]string{"a": "attestation of a"}[id]; string(q.Header) != want || len(q.Forward) > 0 {
			t.Errorf("published %s with evidence %q %q, want header %q", id, q.Header, q.Forward, want)
		}
		published[id]++
		if len(published) == 3 {
			close(done)
		}
		return nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		drainReceipts(ctx, st, make(chan struct{}), receiptPublisher{one: publish}, now, discardLogger())
	})
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("outbox not drained within 20s")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := st.CountPendingReceipts(t.Context())
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
	if seen, err := st.HasReceipt(t.Context(), "b"); err != nil || !seen {
		t.Errorf("HasReceipt(b) after publishing = %v, %v; want true", seen, err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestWitnessDetectsARewrittenLog publishes checkpoints of an honest log,
// then one of a log rewritten under the same key, on a real backbone, with
// the secretariat answering proof requests from whichever log it shows:
// the state node accepts the honest ones — from a checkpoint far behind
// with one proof it asks for — and reports the rewrite as a fork.
func TestWitnessDetectsARewrittenLog(t *testing.T) {
	t.Parallel()
	ca := identitytest.NewCA(t, "iant.test")
	srv := backbonetest.StartServer(t, ca, backbonetest.Secretariat, backbonetest.Node("MX"))
	secBB := backbonetest.Provision(t, ca, srv, "MX")
	mxBB, err := backbone.ConnectState(t.Context(), backbonetest.ClientConfig(t, ca, srv, backbonetest.Node("MX")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mxBB.Close() })
	skey, vkey, err := note.GenerateKey(rand.Reader, "iant.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	keys := audit.Signers{Checkpoint: signer, Entries: fixedSource{ca.SVID(t, backbonetest.Secretariat)}}
	secretariat := func(name string) *audit.Log {
		lg, err := audit.OpenLog(t.Context(), filepath.Join(t.TempDir(), name+".db"), "iant.test/audit", keys)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lg.Close() })
		return lg
	}
	appendN := func(lg *audit.Log, prefix string, k int) {
		for i := range k {
			e := testEvent(audit.EventRefused, "MX", "spiffe://iant.test/state/MX/focal-point/ana")
			e.Rule, e.Precedence = "receipt.test", 0
			e.BulletinID = fmt.Sprintf("%s%03d", prefix, i)
			if _, err := lg.Append(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The secretariat answers proof requests from the log it shows now.
	var mu sync.Mutex
	var shown *audit.Log
	requests := 0
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		secBB.ServeProofs(ctx, func(ctx context.Context, _ string, data []byte) []byte {
			mu.Lock()
			lg := shown
			requests++
			mu.Unlock()
			req, _ := audit.ParseProofRequest(data)
			p, err := lg.ConsistencyProof(ctx, req.Old, req.New)
			r := audit.ProofReply{Old: req.Old, New: req.New, Hashes: p}
			if err != nil {
				r = audit.ProofReply{Old: req.Old, New: req.New, Error: "no proof"}
			}
			b, _ := r.Marshal()
			return b
		})
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	// publish does what the secretariat does: its checkpoint with the
	// consistency proof from the last published size.
	publish := func(lg *audit.Log, last uint64) uint64 {
		mu.Lock()
		shown = lg
		mu.Unlock()
		signed, err := lg.Checkpoint(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		size := lg.Size()
		proof, err := lg.ConsistencyProof(t.Context(), last, size)
		if err != nil {
			t.Fatal(err)
		}
		data, err := audit.PublishedCheckpoint{Checkpoint: signed, VerifierKey: vkey, PrevSize: last, Proof: proof}.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := secBB.PublishCheckpoint(t.Context(), data); err != nil {
			t.Fatal(err)
		}
		return size
	}
	mx := &Node{self: backbonetest.Node("MX"), cfg: Config{TrustDomain: ca.TD, DataDir: t.TempDir(), Audit: AuditConfig{VerifierKey: vkey}},
		bb: mxBB, log: discardLogger(), now: time.Now}
	if err := mx.openAudit(t.Context()); err != nil {
		t.Fatal(err)
	}
	witnessed := func() uint64 {
		cp, ok := mx.AuditCheckpoint()
		if !ok {
			t.Fatal("no checkpoint witnessed")
		}
		return cp.Size
	}
	asked := func() int {
		mu.Lock()
		defer mu.Unlock()
		return requests
	}

	honest := secretariat("honest")
	appendN(honest, "A", 3)
	last := publish(honest, 0)
	if err := mx.checkCheckpoints(t.Context()); err != nil || witnessed() != 3 || asked() != 0 {
		t.Fatalf("first check = %v, witnessed %d, %d proofs asked; want nil, 3, none (the published proof fits)", err, witnessed(), asked())
	}
	// Many checkpoints published while the node was not looking: it asks
	// for one proof from where it stands to the newest.
	for i := range 5 {
		appendN(honest, fmt.Sprintf("B%d", i), 2)
		last = publish(honest, last)
	}
	if err := mx.checkCheckpoints(t.Context()); err != nil || witnessed() != 13 || asked() != 1 {
		t.Fatalf("check after five checkpoints = %v, witnessed %d, %d proofs asked; want nil, 13, one", err, witnessed(), asked())
	}

	rewritten := secretariat("rewritten")
	appendN(rewritten, "X", 15)
	publish(rewritten, last)
	err = mx.checkCheckpoints(t.Context())
	var fork *audit.ForkError
	if !errors.As(err, &fork) || fork.Last.Size != 13 || fork.New.Size != 15 {
		t.Fatalf("check of the rewritten log = %v, want a fork from 13 to 15", err)
	}
	if witnessed() != 13 {
		t.Errorf("witness moved to %d after a fork, want 13", witnessed())
	}
}

// fixedSource is an x509svid.Source of one SVID.
type fixedSource struct{ svid *x509svid.SVID }

func (f fixedSource) GetX509SVID() (*x509svid.SVID, error) { return f.svid, nil }

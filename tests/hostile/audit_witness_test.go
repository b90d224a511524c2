package hostile_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// logOrigin names the secretariat's audit log of a testenv network.
const logOrigin = "iant.test/audit"

// rogue is a secretariat gone bad: the real log key and node SVID, its
// own log, published on the real backbone.
type rogue struct {
	t      *testing.T
	nw     *testenv.Network
	signer note.Signer
	bb     *backbone.Client
}

func newRogue(t *testing.T, nw *testenv.Network) *rogue {
	t.Helper()
	skey, err := os.ReadFile(filepath.Join(networkDir(nw), "data", "secretariat", audit.SignerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	return &rogue{t: t, nw: nw, signer: signer, bb: nettest.SecretariatBackbone(t, nw)}
}

// log opens a log of the secretariat's origin and key, holding n entries
// of its own named after tag.
func (r *rogue) log(tag string, n int) *audit.Log {
	r.t.Helper()
	lg, err := audit.OpenLog(r.t.Context(), filepath.Join(r.t.TempDir(), "audit.db"), logOrigin,
		audit.Signers{Checkpoint: r.signer, Entries: nettest.NodeSource(r.t, r.nw, "")})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { lg.Close() })
	r.grow(lg, tag, n)
	return lg
}

// grow appends n entries to lg in one transaction.
func (r *rogue) grow(lg *audit.Log, tag string, n int) {
	r.t.Helper()
	events := make([]audit.Event, n)
	for i := range events {
		events[i] = audit.Event{Kind: audit.EventRefused, BulletinID: fmt.Sprintf("01J%s%020d", tag, int(lg.Size())+i), Origin: "MX",
			State: "US", Actor: "spiffe://iant.test/state/US/node/node", Rule: "receipt.test", At: time.Now().UTC()}
	}
	if _, err := lg.AppendAll(r.t.Context(), events); err != nil {
		r.t.Fatal(err)
	}
}

// checkpoint signs the checkpoint of lg's tree of the given size.
func (r *rogue) checkpoint(lg *audit.Log, size uint64) []byte {
	r.t.Helper()
	root, err := lg.RootAt(r.t.Context(), size)
	if err != nil {
		r.t.Fatal(err)
	}
	body := fmt.Sprintf("%s\n%d\n%s\n", logOrigin, size, base64.StdEncoding.EncodeToString(root))
	signed, err := note.Sign(&note.Note{Text: body}, r.signer)
	if err != nil {
		r.t.Fatal(err)
	}
	return signed
}

// publish publishes the checkpoint of lg at size with the proof from prev,
// as the secretariat does, and returns the signed checkpoint.
func (r *rogue) publish(lg *audit.Log, prev, size uint64) []byte {
	r.t.Helper()
	signed := r.checkpoint(lg, size)
	proof, err := lg.ConsistencyProof(r.t.Context(), prev, size)
	if err != nil {
		r.t.Fatal(err)
	}
	data, err := audit.PublishedCheckpoint{Checkpoint: signed, VerifierKey: r.nw.Secretariat.AuditVerifierKey(), PrevSize: prev, Proof: proof}.Marshal()
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.bb.PublishCheckpoint(r.t.Context(), data); err != nil {
		r.t.Fatal(err)
	}
	return signed
}

// waitWitnessed waits until state cc's node accepted the checkpoint signed
// and told the others.
func waitWitnessed(t *testing.T, nw *testenv.Network, bb *backbone.Client, cc string, signed []byte) {
	t.Helper()
	eventually(t, cc+" witnessed the checkpoint", func() bool {
		data, err := bb.Witnessed(t.Context(), cc)
		if err != nil {
			return false
		}
		wc, err := audit.ParseWitnessedCheckpoint(data)
		return err == nil && bytes.Equal(wc.Checkpoint, signed)
	})
}

// forkAlarm waits for a fork alarm at state cc's node naming peer, and
// returns it.
func forkAlarm(t *testing.T, nw *testenv.Network, cc, peer string) statenode.AuditAlarm {
	t.Helper()
	var got statenode.AuditAlarm
	eventually(t, cc+" raised a fork alarm about "+peer, func() bool {
		for _, a := range nw.Node(cc).AuditAlarms() {
			if a.Kind == statenode.AlarmFork && a.Peer == peer {
				got = a
				return true
			}
		}
		return false
	})
	return got
}

// TestAuditSplitViewDetectedByGossip has the secretariat (its real key and
// SVID) show MX one log and US another of the same size, each while the
// other state's node is down, then show MX its log again: the states'
// exchange of accepted checkpoints exposes the split, with both signed
// checkpoints as evidence.
func TestAuditSplitViewDetectedByGossip(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"},
		Audit: secretariat.AuditConfig{CheckpointInterval: 100 * time.Millisecond}})
	r := newRogue(t, nw)
	shownMX, shownUS := r.log("A", 5), r.log("B", 5)

	if err := nw.StopNode("US"); err != nil {
		t.Fatal(err)
	}
	a := r.publish(shownMX, 0, 5)
	waitWitnessed(t, nw, r.bb, "MX", a)
	if err := nw.StopNode("MX"); err != nil {
		t.Fatal(err)
	}
	b := r.publish(shownUS, 0, 5)
	if err := nw.StartNode(t.Context(), "US"); err != nil {
		t.Fatal(err)
	}
	waitWitnessed(t, nw, r.bb, "US", b)
	// MX is shown its own view again: alone, it would see nothing wrong.
	r.publish(shownMX, 0, 5)
	if err := nw.StartNode(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}

	alarm := forkAlarm(t, nw, "MX", "US")
	if !bytes.Equal(alarm.MineSigned, a) || !bytes.Equal(alarm.TheirsSigned, b) || alarm.Mine.Size != 5 || alarm.Theirs.Size != 5 {
		t.Errorf("MX's alarm = %+v, want both signed checkpoints of size 5 as evidence", alarm)
	}
	// US sees it too, from MX's checkpoint and from the one now published.
	if alarm := forkAlarm(t, nw, "US", "MX"); !bytes.Equal(alarm.MineSigned, b) || !bytes.Equal(alarm.TheirsSigned, a) {
		t.Errorf("US's alarm = %+v, want its checkpoint and MX's", alarm)
	}
	if cp, _ := nw.Node("MX").AuditCheckpoint(); cp.Size != 5 {
		t.Errorf("MX's witness moved to %d", cp.Size)
	}
}

// TestAuditWitnessCatchesUpThroughOneProof has MX's node down while 2100
// checkpoints are published: back, it asks the secretariat for one proof
// from the last checkpoint it accepted to the newest, and accepts it.
func TestAuditWitnessCatchesUpThroughOneProof(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"},
		Audit: secretariat.AuditConfig{CheckpointInterval: 100 * time.Millisecond}})
	// The test runs the secretariat's side: its log, checkpoints, proofs.
	if err := nw.StopSecretariat(); err != nil {
		t.Fatal(err)
	}
	r := newRogue(t, nw)
	lg := r.log("C", 3)
	var mu sync.Mutex
	var asked []audit.ProofRequest // by MX
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		r.bb.ServeProofs(ctx, func(ctx context.Context, state string, data []byte) []byte {
			req, err := audit.ParseProofRequest(data)
			reply := audit.ProofReply{Old: req.Old, New: req.New, Error: "malformed"}
			if err == nil {
				reply.Error = ""
				if reply.Hashes, err = lg.ConsistencyProof(ctx, req.Old, req.New); err != nil {
					reply.Hashes, reply.Error = nil, "no proof"
				}
			}
			if state == "MX" {
				mu.Lock()
				asked = append(asked, req)
				mu.Unlock()
			}
			b, _ := reply.Marshal()
			return b
		})
	})
	t.Cleanup(func() { cancel(); wg.Wait() })

	first := r.publish(lg, 0, 3)
	waitWitnessed(t, nw, r.bb, "MX", first)
	waitWitnessed(t, nw, r.bb, "US", first)
	for _, cc := range []string{"MX", "US"} {
		if err := nw.StopNode(cc); err != nil {
			t.Fatal(err)
		}
	}
	const missed = 2100
	r.grow(lg, "D", missed)
	for size := uint64(4); size <= lg.Size(); size++ {
		r.publish(lg, size-1, size)
	}
	mu.Lock()
	asked = nil
	mu.Unlock()
	if err := nw.StartNode(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	final := lg.Size()
	eventually(t, "MX caught up", func() bool {
		cp, ok := nw.Node("MX").AuditCheckpoint()
		return ok && cp.Size == final
	})
	mu.Lock()
	defer mu.Unlock()
	if len(asked) == 0 || asked[0] != (audit.ProofRequest{Old: 3, New: final}) {
		t.Fatalf("MX asked for proofs %v, want first the one from 3 to %d", asked, final)
	}
	for _, req := range asked {
		if req.New != final {
			t.Errorf("MX asked for a proof to %d: it walked the %d checkpoints published", req.New, missed)
		}
	}
	if alarms := nw.Node("MX").AuditAlarms(); len(alarms) > 0 {
		t.Errorf("MX raised alarms about an honest log: %+v", alarms)
	}
}

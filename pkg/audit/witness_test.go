package audit_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/problem"
)

func TestWitnessFollowsAGrowingLog(t *testing.T) {
	ctx := context.Background()
	lg, _, v := openLog(t)
	path := filepath.Join(t.TempDir(), "witness", "last-checkpoint")
	w, err := audit.OpenWitness(path, testOrigin, v)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := w.Last(); ok {
		t.Fatal("new witness: Last() ok = true, want false")
	}
	for _, n := range []int{0, 3, 0, 17, 1} {
		fill(t, lg, n)
		signed, err := lg.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := w.Update(ctx, signed, lg.ConsistencyProof)
		if err != nil || cp.Size != lg.Size() {
			t.Fatalf("Update(size %d) = %+v, %v", lg.Size(), cp, err)
		}
	}
	// The state survives a restart.
	w2, err := audit.OpenWitness(path, testOrigin, v)
	if err != nil {
		t.Fatal(err)
	}
	if cp, _, ok := w2.Last(); !ok || cp.Size != 21 {
		t.Errorf("reopened witness: Last() = %+v, %v, want size 21", cp, ok)
	}
	// The checkpoint recorded already is accepted without writing the
	// file again (removed here to see whether it is rewritten); a newer
	// one is written.
	last, lastSigned, _ := w.Last()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if cp, err := w.Update(ctx, lastSigned, lg.ConsistencyProof); err != nil || cp.Size != last.Size || !bytes.Equal(cp.Root, last.Root) {
		t.Errorf("Update(the last checkpoint again) = %+v, %v; want %+v, nil", cp, err, last)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the last checkpoint again was written (%v)", err)
	}
	fill(t, lg, 2)
	next, err := lg.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Update(ctx, next, lg.ConsistencyProof); err != nil {
		t.Fatal(err)
	}
	w2, err = audit.OpenWitness(path, testOrigin, v)
	if err != nil {
		t.Fatal(err)
	}
	if cp, _, ok := w2.Last(); !ok || cp.Size != 23 {
		t.Errorf("reopened witness: Last() = %+v, %v, want size 23", cp, ok)
	}
}

// forkedLogs returns two logs with the same origin and key that share
// their first n entries and then diverge: the secretariat showing two
// states two different histories. The second is a copy of the first's
// database, as a secretariat forking its log would make it.
func forkedLogs(t *testing.T, n int) (a, b *audit.Log, v note.Verifier) {
	t.Helper()
	f := newFixture(t)
	fill(t, f.lg, n)
	if err := f.lg.Close(); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "fork.db")
	data, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	a, v = f.open(f.path)
	b, _ = f.open(copyPath)
	forkA, forkB := nthEvent(1000), nthEvent(1001)
	forkA.BulletinID, forkB.BulletinID = "01JFORK", "01JFORK"
	if _, err := a.Append(context.Background(), forkA); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(context.Background(), forkB); err != nil {
		t.Fatal(err)
	}
	return a, b, v
}

func TestWitnessDetectsFork(t *testing.T) {
	ctx := context.Background()
	a, b, v := forkedLogs(t, 10)
	fill(t, b, 5) // b runs ahead, on its own branch
	w, err := audit.OpenWitness(filepath.Join(t.TempDir(), "cp"), testOrigin, v)
	if err != nil {
		t.Fatal(err)
	}
	signedA, _ := a.Checkpoint(ctx)
	if _, err := w.Update(ctx, signedA, a.ConsistencyProof); err != nil {
		t.Fatal(err)
	}
	signedB, _ := b.Checkpoint(ctx)
	_, err = w.Update(ctx, signedB, b.ConsistencyProof)
	var fork *audit.ForkError
	if !errors.As(err, &fork) || !errors.Is(err, audit.ErrInconsistent) {
		t.Fatalf("Update(checkpoint of the other branch) = %v, want a *ForkError wrapping ErrInconsistent", err)
	}
	if string(fork.LastSigned) != string(signedA) || string(fork.NewSigned) != string(signedB) {
		t.Error("ForkError does not carry both signed checkpoints as evidence")
	}
	if cp, _, _ := w.Last(); cp.Size != a.Size() {
		t.Errorf("after a fork: Last() size %d, want it unchanged at %d", cp.Size, a.Size())
	}
	// The honest branch still extends what the witness saw.
	fill(t, a, 2)
	signedA, _ = a.Checkpoint(ctx)
	if _, err := w.Update(ctx, signedA, a.ConsistencyProof); err != nil {
		t.Errorf("Update(honest branch) = %v", err)
	}
}

func TestWitnessDetectsSameSizeFork(t *testing.T) {
	ctx := context.Background()
	a, b, v := forkedLogs(t, 4)
	w, _ := audit.OpenWitness(filepath.Join(t.TempDir(), "cp"), testOrigin, v)
	signedA, _ := a.Checkpoint(ctx)
	signedB, _ := b.Checkpoint(ctx)
	if _, err := w.Update(ctx, signedA, a.ConsistencyProof); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Update(ctx, signedB, b.ConsistencyProof); !errors.Is(err, audit.ErrInconsistent) {
		t.Errorf("Update(same size, other root) = %v, want ErrInconsistent", err)
	}
}

func TestWitnessRefuses(t *testing.T) {
	ctx := context.Background()
	lg, _, v := openLog(t)
	path := filepath.Join(t.TempDir(), "cp")
	w, _ := audit.OpenWitness(path, testOrigin, v)
	fill(t, lg, 2)
	old, _ := lg.Checkpoint(ctx)
	fill(t, lg, 2)
	cur, _ := lg.Checkpoint(ctx)
	if _, err := w.Update(ctx, cur, lg.ConsistencyProof); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Update(ctx, old, lg.ConsistencyProof); !errors.Is(err, audit.ErrStale) {
		t.Errorf("Update(older checkpoint) = %v, want ErrStale", err)
	}
	_, otherKey := testKey(t, testOrigin, 2)
	w2, _ := audit.OpenWitness(filepath.Join(t.TempDir(), "cp"), testOrigin, otherKey)
	if _, err := w2.Update(ctx, cur, lg.ConsistencyProof); !errors.Is(err, audit.ErrSignature) {
		t.Errorf("Update(checkpoint by another key) = %v, want ErrSignature", err)
	}
	unavailable := errors.New("secretariat unreachable")
	fill(t, lg, 1)
	next, _ := lg.Checkpoint(ctx)
	failing := func(context.Context, uint64, uint64) ([][]byte, error) { return nil, unavailable }
	if _, err := w.Update(ctx, next, failing); !errors.Is(err, unavailable) || errors.Is(err, audit.ErrInconsistent) {
		t.Errorf("Update(proof unavailable) = %v, want the fetch error, not a fork", err)
	}
	// A state file that was tampered with is refused at open.
	if err := os.WriteFile(path, []byte("forged"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.OpenWitness(path, testOrigin, v); !errors.Is(err, audit.ErrMalformedCheckpoint) {
		t.Errorf("OpenWitness(tampered file) = %v, want ErrMalformedCheckpoint", err)
	}
}

// TestWitnessCompare feeds a witness the checkpoints other states
// accepted: of a larger log it advances, of a smaller one it checks the
// proof and stays; of the other branch of a fork, of the same size or
// not, it returns the evidence.
func TestWitnessCompare(t *testing.T) {
	ctx := context.Background()
	a, b, v := forkedLogs(t, 6)
	w, _ := audit.OpenWitness(filepath.Join(t.TempDir(), "cp"), testOrigin, v)
	small, _ := a.Checkpoint(ctx) // size 7
	fill(t, a, 5)
	big, _ := a.Checkpoint(ctx) // size 12
	if _, err := w.Compare(ctx, small, a.ConsistencyProof); err != nil {
		t.Fatalf("Compare(first) = %v", err)
	}
	if cp, err := w.Compare(ctx, big, a.ConsistencyProof); err != nil || cp.Size != 12 {
		t.Fatalf("Compare(larger) = %+v, %v", cp, err)
	}
	if last, _, _ := w.Last(); last.Size != 12 {
		t.Errorf("after a larger consistent checkpoint: Last() size %d, want 12", last.Size)
	}
	if _, err := w.Compare(ctx, small, a.ConsistencyProof); err != nil {
		t.Errorf("Compare(smaller, consistent) = %v, want nil", err)
	}
	if last, _, _ := w.Last(); last.Size != 12 {
		t.Errorf("after a smaller checkpoint: Last() size %d, want 12 still", last.Size)
	}
	sameSize, _ := b.Checkpoint(ctx) // size 7, other branch
	var fork *audit.ForkError
	// Whichever log answers the proof, none can join the two branches.
	if _, err := w.Compare(ctx, sameSize, a.ConsistencyProof); !errors.As(err, &fork) ||
		string(fork.NewSigned) != string(sameSize) || string(fork.LastSigned) != string(big) {
		t.Errorf("Compare(other branch, smaller) = %v, want a *ForkError with both notes", err)
	}
	fill(t, b, 5)
	sameSize, _ = b.Checkpoint(ctx) // size 12, other branch
	if _, err := w.Compare(ctx, sameSize, b.ConsistencyProof); !errors.As(err, &fork) || fork.New.Size != 12 {
		t.Errorf("Compare(other branch, same size) = %v, want a *ForkError", err)
	}
	refused := errors.New("no proof for you")
	if _, err := w.Compare(ctx, small, func(context.Context, uint64, uint64) ([][]byte, error) { return nil, refused }); !errors.Is(err, refused) {
		t.Errorf("Compare(proof refused) = %v, want the refusal", err)
	}
}

func TestWitnessMessagesRefuseBadInput(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]byte) error
		in    string
		field string
	}{
		{"request, old above new", func(b []byte) error { _, err := audit.ParseProofRequest(b); return err }, `{"new":1,"old":2,"v":1}`, "old"},
		{"request, version", func(b []byte) error { _, err := audit.ParseProofRequest(b); return err }, `{"new":2,"old":1,"v":2}`, "v"},
		{"request, spacing", func(b []byte) error { _, err := audit.ParseProofRequest(b); return err }, `{"new":2, "old":1,"v":1}`, "message"},
		{"request, unknown field", func(b []byte) error { _, err := audit.ParseProofRequest(b); return err }, `{"new":2,"old":1,"v":1,"x":0}`, "message"},
		{"reply, short hash", func(b []byte) error { _, err := audit.ParseProofReply(b); return err }, `{"hashes":["AAAA"],"new":2,"old":1,"v":1}`, "hashes"},
		{"reply, control character", func(b []byte) error { _, err := audit.ParseProofReply(b); return err }, `{"error":"a\u0007b","hashes":[],"new":2,"old":1,"v":1}`, "error"},
		{"witnessed, unknown state", func(b []byte) error { _, err := audit.ParseWitnessedCheckpoint(b); return err }, `{"checkpoint":"AA==","state":"ZZ","v":1}`, "state"},
		{"witnessed, empty", func(b []byte) error { _, err := audit.ParseWitnessedCheckpoint(b); return err }, `{"checkpoint":"","state":"MX","v":1}`, "checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse([]byte(tt.in))
			var p *problem.Error
			if !errors.As(err, &p) || p.Field != tt.field || !errors.Is(err, audit.ErrMalformedReceipt) {
				t.Errorf("parse(%s) = %v, want invalid field %s", tt.in, err, tt.field)
			}
		})
	}
}

package audit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
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
}

// forkedLogs returns two logs with the same origin and key that share
// their first n entries and then diverge: the secretariat showing two
// states two different histories.
func forkedLogs(t *testing.T, n int) (a, b *audit.Log, v note.Verifier) {
	t.Helper()
	a, _, v = openLog(t)
	b, _, _ = openLog(t)
	fill(t, a, n)
	fill(t, b, n)
	if _, err := a.Append(context.Background(), delivered("01JFORK", "BR", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(context.Background(), delivered("01JFORK", "AR", t0)); err != nil {
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

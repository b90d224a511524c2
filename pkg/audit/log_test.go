package audit_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

func TestAppendAndEntry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	lg := f.lg
	if lg.Size() != 0 || !bytes.Equal(lg.Root(), rfc6962.DefaultHasher.EmptyRoot()) {
		t.Fatalf("empty log: Size() = %d, Root() = %x, want 0 and the empty hash", lg.Size(), lg.Root())
	}
	events := []audit.Event{nthEvent(0), {Kind: audit.EventEscalated, BulletinID: "01JB", Origin: "MX", State: "BR",
		Precedence: bulletin.Flash, At: t0, Detail: "acknowledgement was due 2026-03-01T12:15:00Z"}}
	for i, e := range events {
		idx, err := lg.Append(ctx, e)
		if err != nil || idx != uint64(i) {
			t.Fatalf("Append(%d) = %d, %v, want %d, nil", i, idx, err, i)
		}
	}
	if lg.Size() != 2 {
		t.Errorf("Size() = %d, want 2", lg.Size())
	}
	for i, want := range events {
		got, raw, err := lg.Entry(ctx, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
			t.Errorf("Entry(%d) (-want +got):\n%s", i, diff)
		}
		leaf, err := audit.ParseLeaf(raw)
		if err != nil || leaf.Format != audit.LeafReceipt {
			t.Fatalf("ParseLeaf(Entry(%d)) = format %d, %v; want a signed receipt", i, leaf.Format, err)
		}
		signer, err := leaf.Receipt.Verify(f.ca.Bundle(), f.ca.TD, time.Now())
		if err != nil || signer != f.sec.ID {
			t.Errorf("entry %d: signed by %v, %v; want the secretariat's node %v", i, signer, err, f.sec.ID)
		}
	}
	if _, _, err := lg.Entry(ctx, 2); !errors.Is(err, audit.ErrNotFound) || problem.KindOf(err) != problem.KindNotFound {
		t.Errorf("Entry(2) = %v, want ErrNotFound", err)
	}
}

func TestAppendIsIdempotentByKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	lg := f.lg
	h := f.post("01JB", bulletin.Flash, t0, "BR", "US")
	first := delivered("01JB", "BR", t0)
	i1 := f.accept(first, h)
	root, size := lg.Root(), lg.Size()
	again := first
	again.At = t0.Add(time.Minute) // a receipt reported again, re-stamped
	again.Detail = "redelivered"
	if o := f.submit(f.submission(again, nil, nil))[0]; o.Err != nil || o.Index != i1 {
		t.Fatalf("Submit(same key) = %d, %v, want %d, nil", o.Index, o.Err, i1)
	}
	if lg.Size() != size || !bytes.Equal(lg.Root(), root) {
		t.Errorf("after a duplicate: Size() = %d, root changed %v; want %d, unchanged", lg.Size(), !bytes.Equal(lg.Root(), root), size)
	}
	r, err := lg.Report(ctx, "MX", "01JB")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Recipients[0].DeliveredAt; !got.Equal(t0) {
		t.Errorf("DeliveredAt = %v, want the first report's %v", got, t0)
	}
	// Another state is another event.
	if i := f.accept(delivered("01JB", "US", t0), nil); i != size {
		t.Errorf("Submit(other state) = %d, want %d", i, size)
	}
	// The log's own events too, within one batch.
	idx, err := lg.AppendAll(ctx, []audit.Event{nthEvent(1), nthEvent(1)})
	if err != nil || !cmp.Equal(idx, []uint64{size + 1, size + 1}) {
		t.Errorf("AppendAll(with duplicates) = %v, %v, want [%d %d]", idx, err, size+1, size+1)
	}
}

func TestAppendRefusesInvalidEvent(t *testing.T) {
	ctx := context.Background()
	lg, _, _ := openLog(t)
	bad := nthEvent(0)
	bad.State = "ZZ"
	_, err := lg.Append(ctx, bad)
	var p *problem.Error
	if !errors.As(err, &p) || p.Field != "state" || !errors.Is(err, audit.ErrInvalidEvent) {
		t.Errorf("Append(bad state) = %v, want invalid field state", err)
	}
	_, err = lg.AppendAll(ctx, []audit.Event{nthEvent(1), bad})
	if !errors.As(err, &p) || p.Field != "state" {
		t.Errorf("AppendAll(one bad) = %v, want invalid field state", err)
	}
	// The log speaks only for itself: a delivery is a state's to report.
	_, err = lg.Append(ctx, delivered("01JB", "BR", t0))
	if !errors.As(err, &p) || p.Field != "kind" {
		t.Errorf("Append(delivered) = %v, want invalid field kind", err)
	}
	if lg.Size() != 0 {
		t.Errorf("Size() = %d after refused appends, want 0", lg.Size())
	}
}

func TestReopenKeepsTheTree(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s, _ := testKey(t, testOrigin, 1)
	path := filepath.Join(t.TempDir(), "audit.db")
	lg, err := audit.OpenLog(ctx, path, testOrigin, f.signers(s))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, lg, 13)
	root := lg.Root()
	if err := lg.Close(); err != nil {
		t.Fatal(err)
	}
	if err := lg.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if _, err := lg.Append(ctx, nthEvent(99)); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}

	lg, err = audit.OpenLog(ctx, path, testOrigin, f.signers(s))
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	if lg.Size() != 13 || !bytes.Equal(lg.Root(), root) {
		t.Fatalf("reopened: Size() = %d, root equal %v; want 13, true", lg.Size(), bytes.Equal(lg.Root(), root))
	}
	raws := fill(t, lg, 8)
	if !bytes.Equal(mth(raws), lg.Root()) {
		t.Error("a log appended across a reopen has another root than RFC 6962 gives for its leaves")
	}

	if _, err := audit.OpenLog(ctx, path, "other.test/log", f.signers(s)); err == nil {
		t.Error("OpenLog(other origin) = nil, want an error")
	}
}

func TestOpenLogRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s, _ := testKey(t, testOrigin, 1)
	keys := f.signers(s)
	dir := t.TempDir()
	tests := []struct {
		name, path, origin string
		keys               audit.Signers
		opts               []audit.Option
	}{
		{"empty path", "", testOrigin, keys, nil},
		{"query in path", filepath.Join(dir, "a?b"), testOrigin, keys, nil},
		{"empty origin", filepath.Join(dir, "a.db"), "", keys, nil},
		{"origin with space", filepath.Join(dir, "a.db"), "a b", keys, nil},
		{"nil clock", filepath.Join(dir, "a.db"), testOrigin, keys, []audit.Option{audit.WithClock(nil)}},
		{"no checkpoint signer", filepath.Join(dir, "a.db"), testOrigin, audit.Signers{Entries: keys.Entries}, nil},
		{"no entry signer", filepath.Join(dir, "a.db"), testOrigin, audit.Signers{Checkpoint: s}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if lg, err := audit.OpenLog(ctx, tt.path, tt.origin, tt.keys, tt.opts...); err == nil {
				lg.Close()
				t.Errorf("OpenLog(%q, %q) = nil error", tt.path, tt.origin)
			}
		})
	}
}

func TestEntriesRange(t *testing.T) {
	ctx := context.Background()
	lg, _, _ := openLog(t)
	raws := fill(t, lg, 5)
	got, err := lg.Entries(ctx, 1, 4)
	if err != nil || !cmp.Equal(got, raws[1:4]) {
		t.Errorf("Entries(1, 4) = %d entries, %v; want entries 1..3", len(got), err)
	}
	for _, r := range [][2]uint64{{4, 3}, {0, 6}} {
		if _, err := lg.Entries(ctx, r[0], r[1]); !errors.Is(err, audit.ErrRange) {
			t.Errorf("Entries(%d, %d) = %v, want ErrRange", r[0], r[1], err)
		}
	}
}

// TestConcurrentAppendsAndReads runs appends, proofs and reports together;
// with -race it checks the locking.
func TestConcurrentAppendsAndReads(t *testing.T) {
	ctx := context.Background()
	lg, _, v := openLog(t)
	const writers, each = 4, 25
	done := make(chan error, writers+1)
	for w := range writers {
		go func() {
			for i := range each {
				if _, err := lg.Append(ctx, nthEvent(w*each+i)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	go func() {
		for range 50 {
			signed, err := lg.Checkpoint(ctx)
			if err != nil {
				done <- err
				return
			}
			cp, err := audit.VerifyCheckpoint(signed, testOrigin, v)
			if err != nil {
				done <- err
				return
			}
			if cp.Size == 0 {
				continue
			}
			p, err := lg.InclusionProof(ctx, cp.Size-1, cp.Size)
			if err != nil {
				done <- err
				return
			}
			_, raw, err := lg.Entry(ctx, cp.Size-1)
			if err != nil {
				done <- err
				return
			}
			if err := audit.VerifyInclusion(cp, cp.Size-1, raw, p); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range writers + 1 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if lg.Size() != writers*each {
		t.Errorf("Size() = %d, want %d", lg.Size(), writers*each)
	}
}

// TestSecondWriterDetected opens one file twice: the Log that falls behind
// refuses to append rather than fork the tree.
func TestSecondWriterDetected(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	lg := f.lg
	other, _ := f.open(f.path)
	if _, err := other.Append(ctx, nthEvent(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := lg.Append(ctx, nthEvent(1)); !errors.Is(err, audit.ErrOtherWriter) {
		t.Errorf("Append on the stale Log = %v, want ErrOtherWriter", err)
	}
}

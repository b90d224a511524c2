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
	lg, _, _ := openLog(t)
	if lg.Size() != 0 || !bytes.Equal(lg.Root(), rfc6962.DefaultHasher.EmptyRoot()) {
		t.Fatalf("empty log: Size() = %d, Root() = %x, want 0 and the empty hash", lg.Size(), lg.Root())
	}
	events := []audit.Event{posted("01JB", bulletin.Flash, t0), delivered("01JB", "BR", t0.Add(time.Second))}
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
		if wantRaw, _ := audit.MarshalEvent(want); !bytes.Equal(raw, wantRaw) {
			t.Errorf("Entry(%d) raw = %s, want %s", i, raw, wantRaw)
		}
	}
	if _, _, err := lg.Entry(ctx, 2); !errors.Is(err, audit.ErrNotFound) || problem.KindOf(err) != problem.KindNotFound {
		t.Errorf("Entry(2) = %v, want ErrNotFound", err)
	}
}

func TestAppendIsIdempotentByKey(t *testing.T) {
	ctx := context.Background()
	lg, _, _ := openLog(t)
	first := delivered("01JB", "BR", t0)
	if _, err := lg.Append(ctx, posted("01JB", bulletin.Flash, t0)); err != nil {
		t.Fatal(err)
	}
	i1, err := lg.Append(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	root := lg.Root()
	again := first
	again.At = t0.Add(time.Hour) // a redelivered receipt, re-stamped
	again.Detail = "redelivered"
	i2, err := lg.Append(ctx, again)
	if err != nil || i2 != i1 {
		t.Fatalf("Append(same key) = %d, %v, want %d, nil", i2, err, i1)
	}
	if lg.Size() != 2 || !bytes.Equal(lg.Root(), root) {
		t.Errorf("after a duplicate: Size() = %d, root changed %v; want 2, unchanged", lg.Size(), !bytes.Equal(lg.Root(), root))
	}
	r, err := lg.Report(ctx, "01JB")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Recipients[0].DeliveredAt; !got.Equal(t0) {
		t.Errorf("DeliveredAt = %v, want the first report's %v", got, t0)
	}
	// Another actor or state is another event.
	other := first
	other.State, other.Actor = "US", node("US")
	if i3, err := lg.Append(ctx, other); err != nil || i3 != 2 {
		t.Errorf("Append(other state) = %d, %v, want 2, nil", i3, err)
	}
	// Within one batch too.
	idx, err := lg.AppendAll(ctx, []audit.Event{delivered("01JC", "BR", t0), delivered("01JC", "BR", t0), first})
	if err != nil || !cmp.Equal(idx, []uint64{3, 3, i1}) {
		t.Errorf("AppendAll(with duplicates) = %v, %v, want [3 3 %d]", idx, err, i1)
	}
}

func TestAppendRefusesInvalidEvent(t *testing.T) {
	ctx := context.Background()
	lg, _, _ := openLog(t)
	bad := delivered("01JB", "ZZ", t0)
	_, err := lg.Append(ctx, bad)
	var p *problem.Error
	if !errors.As(err, &p) || p.Field != "state" || !errors.Is(err, audit.ErrInvalidEvent) {
		t.Errorf("Append(bad state) = %v, want invalid field state", err)
	}
	_, err = lg.AppendAll(ctx, []audit.Event{delivered("01JB", "BR", t0), bad})
	if !errors.As(err, &p) || p.Field != "state" {
		t.Errorf("AppendAll(one bad) = %v, want invalid field state", err)
	}
	if lg.Size() != 0 {
		t.Errorf("Size() = %d after refused appends, want 0", lg.Size())
	}
}

func TestReopenKeepsTheTree(t *testing.T) {
	ctx := context.Background()
	s, _ := testKey(t, testOrigin, 1)
	path := filepath.Join(t.TempDir(), "audit.db")
	lg, err := audit.OpenLog(ctx, path, s, testOrigin)
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

	lg, err = audit.OpenLog(ctx, path, s, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	if lg.Size() != 13 || !bytes.Equal(lg.Root(), root) {
		t.Fatalf("reopened: Size() = %d, root equal %v; want 13, true", lg.Size(), bytes.Equal(lg.Root(), root))
	}
	raws := fill(t, lg, 8)
	fresh, _, _ := openLog(t)
	if _, err := fresh.AppendAll(ctx, events(t, raws)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh.Root(), lg.Root()) {
		t.Error("a log appended across a reopen has another root than one appended in one go")
	}

	if _, err := audit.OpenLog(ctx, path, s, "other.test/log"); err == nil {
		t.Error("OpenLog(other origin) = nil, want an error")
	}
}

// events decodes raw entries.
func events(tb testing.TB, raws [][]byte) []audit.Event {
	tb.Helper()
	out := make([]audit.Event, len(raws))
	for i, raw := range raws {
		var err error
		if out[i], err = audit.UnmarshalEvent(raw); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func TestOpenLogRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	s, _ := testKey(t, testOrigin, 1)
	dir := t.TempDir()
	tests := []struct {
		name, path, origin string
		opts               []audit.Option
	}{
		{"empty path", "", testOrigin, nil},
		{"query in path", filepath.Join(dir, "a?b"), testOrigin, nil},
		{"empty origin", filepath.Join(dir, "a.db"), "", nil},
		{"origin with space", filepath.Join(dir, "a.db"), "a b", nil},
		{"nil clock", filepath.Join(dir, "a.db"), testOrigin, []audit.Option{audit.WithClock(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if lg, err := audit.OpenLog(ctx, tt.path, s, tt.origin, tt.opts...); err == nil {
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
	lg, path, _ := openLog(t)
	s, _ := testKey(t, testOrigin, 1)
	other, err := audit.OpenLog(ctx, path, s, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Append(ctx, nthEvent(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := lg.Append(ctx, nthEvent(1)); !errors.Is(err, audit.ErrOtherWriter) {
		t.Errorf("Append on the stale Log = %v, want ErrOtherWriter", err)
	}
}

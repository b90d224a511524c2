package audit_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/oas-cicte/iant/pkg/audit"
)

// dumpAndCheckpoints returns a 20-entry log's dump and the checkpoint of
// every size from 1 to 20, as an auditor following the log would keep.
func dumpAndCheckpoints(t *testing.T) ([][]byte, []audit.Checkpoint) {
	t.Helper()
	lg, _, _ := openLog(t)
	raws := fill(t, lg, 20)
	var cps []audit.Checkpoint
	for size := uint64(1); size <= 20; size++ {
		cps = append(cps, checkpointAt(t, lg, size))
	}
	return raws, cps
}

func TestVerifyLogIntact(t *testing.T) {
	ctx := context.Background()
	raws, cps := dumpAndCheckpoints(t)
	if err := audit.VerifyLog(ctx, raws, cps[19], cps...); err != nil {
		t.Errorf("VerifyLog(intact, all checkpoints) = %v", err)
	}
	if err := audit.VerifyLog(ctx, raws, cps[9]); err != nil {
		t.Errorf("VerifyLog(intact dump, older checkpoint) = %v", err)
	}
	if err := audit.VerifyLog(ctx, nil, audit.Checkpoint{Origin: testOrigin, Root: mth(nil)}); err != nil {
		t.Errorf("VerifyLog(empty, empty checkpoint) = %v", err)
	}
}

func TestVerifyLogNamesFirstBadIndex(t *testing.T) {
	ctx := context.Background()
	raws, cps := dumpAndCheckpoints(t)
	changed := slices.Clone(raws)
	changed[7], _ = swapState(t, raws[7]) // another valid event in its place
	swapped := slices.Clone(raws)
	swapped[5], swapped[12] = swapped[12], swapped[5]
	removed := slices.Delete(slices.Clone(raws), 9, 10)
	tests := []struct {
		name    string
		dump    [][]byte
		earlier []audit.Checkpoint
		want    error
		index   uint64
		through uint64
	}{
		{"changed, every checkpoint", changed, cps, audit.ErrMismatch, 7, 7},
		{"swapped, every checkpoint", swapped, cps, audit.ErrMismatch, 5, 5},
		{"removed, every checkpoint", removed, cps, audit.ErrMismatch, 9, 9},
		{"truncated, every checkpoint", raws[:14], cps, audit.ErrTruncated, 14, 14},
		{"changed, checkpoints 5 and 10", changed, []audit.Checkpoint{cps[4], cps[9]}, audit.ErrMismatch, 5, 9},
		{"changed, one checkpoint", changed, nil, audit.ErrMismatch, 0, 19},
		{"truncated, one checkpoint", raws[:14], nil, audit.ErrTruncated, 0, 14},
		{"malformed, every checkpoint", replace(raws, 3, []byte(`{"v":1}`)), cps, audit.ErrMalformedEntry, 3, 3},
		{"malformed, one checkpoint", replace(raws, 3, []byte(`{"v":1}`)), nil, audit.ErrMalformedEntry, 0, 3},
		{"duplicated, every checkpoint", replace(raws, 4, raws[2]), cps, audit.ErrDuplicateEntry, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := audit.VerifyLog(ctx, tt.dump, cps[19], tt.earlier...)
			var le *audit.LogError
			if !errors.As(err, &le) || !errors.Is(err, tt.want) {
				t.Fatalf("VerifyLog = %v, want a *LogError wrapping %v", err, tt.want)
			}
			if le.Index != tt.index || le.Through != tt.through {
				t.Errorf("VerifyLog: first bad entry in [%d, %d], want [%d, %d] (%v)", le.Index, le.Through, tt.index, tt.through, err)
			}
		})
	}
}

// swapState returns raw with its recipient state changed: still a valid,
// canonical entry (of leaf format 1), but not the one logged.
func swapState(t *testing.T, raw []byte) ([]byte, audit.Event) {
	t.Helper()
	leaf, err := audit.ParseLeaf(raw)
	if err != nil {
		t.Fatal(err)
	}
	e := leaf.Event
	e.State, e.Actor = "UY", node("UY")
	b, err := audit.MarshalEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	return b, e
}

func replace(raws [][]byte, i int, b []byte) [][]byte {
	out := slices.Clone(raws)
	out[i] = b
	return out
}

func TestVerifyLogRefusesMixedOrigins(t *testing.T) {
	raws, cps := dumpAndCheckpoints(t)
	other := cps[3]
	other.Origin = "other.test/log"
	if err := audit.VerifyLog(context.Background(), raws, cps[19], other); !errors.Is(err, audit.ErrOrigin) {
		t.Errorf("VerifyLog(checkpoints of two logs) = %v, want ErrOrigin", err)
	}
}

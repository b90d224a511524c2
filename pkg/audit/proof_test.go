package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/oas-cicte/iant/pkg/audit"
)

// mth is RFC 6962 §2.1's Merkle Tree Hash, written from the RFC's
// definition and independent of the package under test.
func mth(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		h := sha256.Sum256(nil)
		return h[:]
	case 1:
		h := sha256.Sum256(append([]byte{0}, leaves[0]...))
		return h[:]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	h := sha256.Sum256(append(append([]byte{1}, mth(leaves[:k])...), mth(leaves[k:])...))
	return h[:]
}

func TestRootsMatchRFC6962(t *testing.T) {
	lg, _, _ := openLog(t)
	raws := fill(t, lg, 70)
	for size := range uint64(71) {
		if got := checkpointAt(t, lg, size).Root; !bytes.Equal(got, mth(raws[:size])) {
			t.Errorf("RootAt(%d) = %x, want %x", size, got, mth(raws[:size]))
		}
	}
	if !bytes.Equal(lg.Root(), mth(raws)) {
		t.Errorf("Root() = %x, want %x", lg.Root(), mth(raws))
	}
}

func TestInclusionProofs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lg, _, _ := openLog(t)
	raws := fill(t, lg, 70)
	cps := make([]audit.Checkpoint, 71)
	for size := range cps {
		cps[size] = checkpointAt(t, lg, uint64(size))
	}
	for size := uint64(1); size <= 70; size++ {
		cp := cps[size]
		for index := range size {
			p, err := lg.InclusionProof(ctx, index, size)
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d) = %v", index, size, err)
			}
			if err := audit.VerifyInclusion(cp, index, raws[index], p); err != nil {
				t.Fatalf("VerifyInclusion(%d, %d) = %v", index, size, err)
			}
			if err := audit.VerifyInclusion(cp, index, raws[(index+1)%70], p); !errors.Is(err, audit.ErrProof) && size > 1 {
				t.Fatalf("VerifyInclusion(%d, %d, wrong leaf) = %v, want ErrProof", index, size, err)
			}
			if size < 70 {
				bigger := cps[size+1]
				if err := audit.VerifyInclusion(bigger, index, raws[index], p); err == nil {
					t.Fatalf("VerifyInclusion(%d, proof for size %d against size %d) = nil", index, size, size+1)
				}
			}
		}
	}
}

func TestInclusionProofRefusesOutOfRange(t *testing.T) {
	ctx := context.Background()
	lg, _, _ := openLog(t)
	fill(t, lg, 5)
	for _, tt := range [][2]uint64{{5, 5}, {0, 6}, {0, 0}} {
		if _, err := lg.InclusionProof(ctx, tt[0], tt[1]); !errors.Is(err, audit.ErrRange) {
			t.Errorf("InclusionProof(%d, %d) = %v, want ErrRange", tt[0], tt[1], err)
		}
	}
	cp := checkpointAt(t, lg, 5)
	if err := audit.VerifyInclusion(cp, 5, []byte("x"), nil); !errors.Is(err, audit.ErrRange) {
		t.Errorf("VerifyInclusion(index = size) = %v, want ErrRange", err)
	}
}

func TestConsistencyProofs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lg, _, _ := openLog(t)
	fill(t, lg, 70)
	cps := make([]audit.Checkpoint, 71)
	for size := range cps {
		cps[size] = checkpointAt(t, lg, uint64(size))
	}
	for size2 := range uint64(71) {
		for size1 := range size2 + 1 {
			p, err := lg.ConsistencyProof(ctx, size1, size2)
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d) = %v", size1, size2, err)
			}
			if err := audit.VerifyConsistency(cps[size1], cps[size2], p); err != nil {
				t.Fatalf("VerifyConsistency(%d, %d) = %v", size1, size2, err)
			}
			if size1 == 0 || size1 == size2 {
				continue
			}
			// The same proof must not vouch for another older tree.
			wrong := cps[size1]
			wrong.Root = cps[size1-1].Root
			if err := audit.VerifyConsistency(wrong, cps[size2], p); !errors.Is(err, audit.ErrInconsistent) {
				t.Fatalf("VerifyConsistency(%d with wrong root, %d) = %v, want ErrInconsistent", size1, size2, err)
			}
			if size2 < 70 {
				if err := audit.VerifyConsistency(cps[size1], cps[size2+1], p); !errors.Is(err, audit.ErrInconsistent) {
					t.Fatalf("VerifyConsistency(%d, proof for %d used for %d) = %v, want ErrInconsistent", size1, size2, size2+1, err)
				}
			}
		}
	}
}

func TestConsistencyRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	lg, _, _ := openLog(t)
	fill(t, lg, 5)
	for _, tt := range [][2]uint64{{3, 2}, {2, 6}} {
		if _, err := lg.ConsistencyProof(ctx, tt[0], tt[1]); !errors.Is(err, audit.ErrRange) {
			t.Errorf("ConsistencyProof(%d, %d) = %v, want ErrRange", tt[0], tt[1], err)
		}
	}
	a, b := checkpointAt(t, lg, 2), checkpointAt(t, lg, 5)
	other := b
	other.Origin = "other.test/log"
	if err := audit.VerifyConsistency(a, other, nil); !errors.Is(err, audit.ErrOrigin) {
		t.Errorf("VerifyConsistency(two origins) = %v, want ErrOrigin", err)
	}
	if err := audit.VerifyConsistency(b, a, nil); !errors.Is(err, audit.ErrRange) {
		t.Errorf("VerifyConsistency(newer first) = %v, want ErrRange", err)
	}
	bogusEmpty := audit.Checkpoint{Origin: a.Origin, Size: 0, Root: a.Root}
	if err := audit.VerifyConsistency(bogusEmpty, b, nil); !errors.Is(err, audit.ErrInconsistent) {
		t.Errorf("VerifyConsistency(size 0 with a non-empty root) = %v, want ErrInconsistent", err)
	}
	sameSize := a
	sameSize.Root = b.Root
	if err := audit.VerifyConsistency(a, sameSize, nil); !errors.Is(err, audit.ErrInconsistent) {
		t.Errorf("VerifyConsistency(same size, other root) = %v, want ErrInconsistent", err)
	}
}

package audit

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// VerifyInclusion checks that leaf — an entry's raw bytes, as
// [Log.Entry] returns them — is the entry at index of the tree cp
// describes, by the audit path p from [Log.InclusionProof] (RFC 6962
// §2.1.1). It returns nil or an error wrapping [ErrProof] (or [ErrRange]
// when index is not below cp.Size).
func VerifyInclusion(cp Checkpoint, index uint64, leaf []byte, p [][]byte) error {
	if index >= cp.Size {
		return fmt.Errorf("audit: verify inclusion: %w: index %d is not in a tree of size %d", ErrRange, index, cp.Size)
	}
	if err := proof.VerifyInclusion(hasher, index, cp.Size, hasher.HashLeaf(leaf), p, cp.Root); err != nil {
		return fmt.Errorf("audit: verify inclusion of entry %d in tree of size %d: %w: %v", index, cp.Size, ErrProof, err)
	}
	return nil
}

// VerifyConsistency checks, with the proof p from [Log.ConsistencyProof],
// that the tree of the older checkpoint is a prefix of the tree of the
// newer one (RFC 6962 §2.1.2): nothing logged by then was changed,
// reordered or removed. It returns nil, or an error wrapping [ErrOrigin]
// (checkpoints of two logs), [ErrRange] (older is larger than newer) or
// [ErrInconsistent].
func VerifyConsistency(older, newer Checkpoint, p [][]byte) error {
	if err := verifyConsistency(older, newer, p); err != nil {
		return fmt.Errorf("audit: verify consistency from size %d to %d: %w", older.Size, newer.Size, err)
	}
	return nil
}

func verifyConsistency(older, newer Checkpoint, p [][]byte) error {
	switch {
	case older.Origin != newer.Origin:
		return fmt.Errorf("%w: %q and %q", ErrOrigin, older.Origin, newer.Origin)
	case older.Size > newer.Size:
		return fmt.Errorf("%w: older checkpoint is larger", ErrRange)
	case older.Size == 0 && !bytes.Equal(older.Root, hasher.EmptyRoot()):
		// proof.VerifyConsistency accepts any root for size 0.
		return fmt.Errorf("%w: empty tree with a root other than the empty hash", ErrInconsistent)
	}
	if err := proof.VerifyConsistency(hasher, older.Size, newer.Size, p, older.Root, newer.Root); err != nil {
		return fmt.Errorf("%w: %v", ErrInconsistent, err)
	}
	return nil
}

// LogError says where a dump of the log stops matching what the auditor
// trusts. The first bad entry lies in [Index, Through]: every entry before
// Index is proven to be the logged one (a trusted checkpoint covers it),
// and the evidence (Err) points at or before Through. When Index equals
// Through the bad entry is pinned exactly.
type LogError struct {
	// Index is the first entry not proven good.
	Index uint64
	// Through is the last entry the first bad one can be; >= Index.
	Through uint64
	// Err is ErrMismatch, ErrTruncated, ErrMalformedEntry or ErrDuplicateEntry.
	Err error
	// Size is the trusted checkpoint that failed, for ErrMismatch and
	// ErrTruncated; 0 otherwise.
	Size uint64
}

// Error names the first bad index, or the range it lies in.
func (e *LogError) Error() string {
	where := fmt.Sprintf("first bad entry is %d", e.Index)
	if e.Through != e.Index {
		where = fmt.Sprintf("first bad entry is in [%d, %d]", e.Index, e.Through)
	}
	if e.Size > 0 {
		return fmt.Sprintf("audit: verify log: %s: %v (checkpoint size %d)", where, e.Err, e.Size)
	}
	return fmt.Sprintf("audit: verify log: %s: %v", where, e.Err)
}

// Unwrap returns the reason.
func (e *LogError) Unwrap() error { return e.Err }

// VerifyLog recomputes the RFC 6962 tree over entries — a full dump of the
// log, from index 0 — and checks it against the trusted checkpoint and any
// earlier ones the auditor kept. It detects an entry changed, entries
// reordered, removed or inserted, and a dump cut short, and returns a
// [*LogError] naming the first bad index (or bounding it). Entries past
// the largest checkpoint are checked only for being canonical, unique
// entries (of either leaf format). It does not check who signed the
// receipts: that needs the trust bundle ([Receipt.Verify]). All checkpoints must be of one origin ([ErrOrigin]); it returns
// ctx.Err() if ctx ends first.
//
// How precisely it can name the index depends on the checkpoints: a root
// hash only says whether the entries below it are all intact, so a change
// is pinned between the last checkpoint that still matches and the first
// that does not. With a checkpoint at every size the index is exact; with
// only one, a changed entry is placed somewhere below its size. Entries
// that are not canonical events or repeat an earlier event's key, and the
// end of a truncated dump, are located exactly.
func VerifyLog(ctx context.Context, entries [][]byte, trusted Checkpoint, earlier ...Checkpoint) error {
	cps := append(slices.Clone(earlier), trusted)
	for _, cp := range cps {
		if cp.Origin != trusted.Origin {
			return fmt.Errorf("audit: verify log: %w: %q and %q", ErrOrigin, cp.Origin, trusted.Origin)
		}
	}
	slices.SortStableFunc(cps, func(a, b Checkpoint) int { return cmpUint(a.Size, b.Size) })
	v := logVerifier{cps: cps, seen: map[string]uint64{}, rng: rangeFactory.NewEmptyRange(0)}
	for i, raw := range entries {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := v.check(uint64(i), raw); err != nil {
			return err
		}
	}
	return v.finish(uint64(len(entries)))
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// logVerifier walks a dump once, leaf by leaf.
type logVerifier struct {
	cps  []Checkpoint // sorted by size; cps[0] is the next one to reach
	good uint64       // entries below good are covered by a matching checkpoint
	seen map[string]uint64
	rng  *compact.Range
}

// check takes entry i.
func (v *logVerifier) check(i uint64, raw []byte) error {
	if i == 0 {
		if err := v.reach(0); err != nil {
			return err
		}
	}
	leaf, err := parseLeaf(raw)
	if err != nil {
		return &LogError{Index: v.good, Through: i, Err: ErrMalformedEntry}
	}
	key := leaf.Event.key()
	if _, dup := v.seen[key]; dup {
		return &LogError{Index: v.good, Through: i, Err: ErrDuplicateEntry}
	}
	v.seen[key] = i
	if err := v.rng.Append(hasher.HashLeaf(raw), nil); err != nil {
		return err
	}
	return v.reach(i + 1)
}

// reach compares the tree of the first size entries with every checkpoint
// of that size.
func (v *logVerifier) reach(size uint64) error {
	for len(v.cps) > 0 && v.cps[0].Size == size {
		root, err := rootOf(v.rng)
		if err != nil {
			return err
		}
		if !bytes.Equal(root, v.cps[0].Root) {
			return &LogError{Index: v.good, Through: max(size, 1) - 1, Err: ErrMismatch, Size: size}
		}
		v.good = size
		v.cps = v.cps[1:]
	}
	return nil
}

// finish ends a dump of n entries.
func (v *logVerifier) finish(n uint64) error {
	if n == 0 {
		if err := v.reach(0); err != nil {
			return err
		}
	}
	if len(v.cps) == 0 {
		return nil
	}
	return &LogError{Index: v.good, Through: n, Err: ErrTruncated, Size: v.cps[len(v.cps)-1].Size}
}

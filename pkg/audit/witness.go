package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/mod/sumdb/note"
)

// ConsistencyFunc fetches a consistency proof between two tree sizes of
// the log a [Witness] watches; [Log.ConsistencyProof] is one, and a client
// of the secretariat's API is another.
type ConsistencyFunc func(ctx context.Context, size1, size2 uint64) ([][]byte, error)

// Witness remembers the last checkpoint it accepted from one log, in a
// small file, and accepts a new checkpoint only if the log's tree then is
// an extension of the tree it remembers. A member state's node keeps one
// and feeds it every checkpoint it sees (gossip-style): a secretariat that
// rewrote or truncated its log, or showed two states two different logs,
// cannot then give this witness a checkpoint it accepts. Create it with
// [OpenWitness].
type Witness struct {
	path     string
	origin   string
	verifier note.Verifier

	// mu serializes Update and guards the fields below.
	mu         sync.Mutex
	last       Checkpoint
	lastSigned []byte // nil until the first checkpoint is accepted
}

// ForkError is the evidence a [Witness] returns when a checkpoint is not
// consistent with the last one it accepted: both signed notes, which
// together prove the log forked or was rewritten. It wraps
// [ErrInconsistent].
type ForkError struct {
	Last, New             Checkpoint
	LastSigned, NewSigned []byte
	// Err is the consistency failure.
	Err error
}

// Error describes the fork.
func (e *ForkError) Error() string {
	return fmt.Sprintf("audit: witness: checkpoint of size %d is not consistent with the last one seen, size %d: %v",
		e.New.Size, e.Last.Size, e.Err)
}

// Unwrap returns the consistency failure, which wraps ErrInconsistent.
func (e *ForkError) Unwrap() error { return e.Err }

// OpenWitness returns a witness of the log origin whose checkpoints v
// verifies, keeping its state in the file at path. An existing file must
// hold a checkpoint of that log signed by v; a missing file means the
// witness has seen nothing yet, and trusts the first checkpoint it is given.
func OpenWitness(path, origin string, v note.Verifier) (*Witness, error) {
	if v == nil {
		return nil, errors.New("audit: open witness: verifier is nil")
	}
	w := &Witness{path: path, origin: origin, verifier: v}
	signed, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return w, nil
	case err != nil:
		return nil, fmt.Errorf("audit: open witness: %w", err)
	}
	cp, err := verifyCheckpoint(signed, origin, v)
	if err != nil {
		return nil, fmt.Errorf("audit: open witness %s: stored checkpoint: %w", path, err)
	}
	w.last, w.lastSigned = cp, signed
	return w, nil
}

// Last returns the last checkpoint accepted and its signed form; ok is
// false before the first.
func (w *Witness) Last() (cp Checkpoint, signed []byte, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last, bytes.Clone(w.lastSigned), w.lastSigned != nil
}

// Update verifies the signed checkpoint and, if the log grew, asks prove
// for a consistency proof from the last accepted size and verifies it;
// then it records the checkpoint as the last one, replacing the file
// atomically (not for the very checkpoint recorded already: nothing
// changes, nothing is written). It returns the checkpoint and:
//   - nil when it was accepted (also for a checkpoint of the same tree);
//   - a *[ForkError] wrapping [ErrInconsistent] when the new tree does not
//     extend the last one — the proof fails, or the sizes are equal and
//     the roots differ. The recorded state does not change; keep the
//     evidence and raise the alarm;
//   - an error wrapping [ErrStale] for a checkpoint smaller than the last;
//   - an error from [VerifyCheckpoint], from prove, or from writing the file.
func (w *Witness) Update(ctx context.Context, signed []byte, prove ConsistencyFunc) (Checkpoint, error) {
	cp, err := verifyCheckpoint(signed, w.origin, w.verifier)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: witness: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.Equal(signed, w.lastSigned) {
		// The checkpoint recorded already (a peer witnessed the same
		// one): nothing to check or write.
		return cp, nil
	}
	if w.lastSigned != nil {
		if err := w.check(ctx, cp, signed, prove); err != nil {
			return cp, err
		}
	}
	if err := writeFileAtomic(w.path, signed); err != nil {
		return cp, fmt.Errorf("audit: witness: save checkpoint: %w", err)
	}
	w.last, w.lastSigned = cp, bytes.Clone(signed)
	return cp, nil
}

// check verifies that cp extends w.last. Callers hold mu.
func (w *Witness) check(ctx context.Context, cp Checkpoint, signed []byte, prove ConsistencyFunc) error {
	if cp.Size < w.last.Size {
		return fmt.Errorf("audit: witness: %w: size %d, last seen %d", ErrStale, cp.Size, w.last.Size)
	}
	var p [][]byte
	if cp.Size > w.last.Size {
		if prove == nil {
			return errors.New("audit: witness: no way to fetch a consistency proof")
		}
		var err error
		if p, err = prove(ctx, w.last.Size, cp.Size); err != nil {
			return fmt.Errorf("audit: witness: fetch consistency proof: %w", err)
		}
	}
	if err := verifyConsistency(w.last, cp, p); err != nil {
		return &ForkError{Last: w.last, New: cp, LastSigned: bytes.Clone(w.lastSigned), NewSigned: bytes.Clone(signed), Err: err}
	}
	return nil
}

// Compare checks a checkpoint another party accepted — a state's
// witnessed checkpoint, gossiped on the backbone — against the last one
// this witness accepted. Both must describe one append-only log:
//   - same size: the same root, else a *[ForkError];
//   - larger: prove gives the proof from the last size to it, as for
//     [Witness.Update], which it then is: the checkpoint is recorded;
//   - smaller: prove gives the proof from its size to the last one, which
//     must verify (else a *[ForkError]); nothing is recorded.
//
// An error from prove is returned wrapped: a missing proof is no evidence
// of a fork, but the caller may treat a refusal as an alarm. Before the
// first accepted checkpoint, Compare is Update.
func (w *Witness) Compare(ctx context.Context, signed []byte, prove ConsistencyFunc) (Checkpoint, error) {
	cp, err := verifyCheckpoint(signed, w.origin, w.verifier)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: witness: %w", err)
	}
	w.mu.Lock()
	last, lastSigned := w.last, bytes.Clone(w.lastSigned)
	w.mu.Unlock()
	if lastSigned == nil || cp.Size >= last.Size {
		return w.Update(ctx, signed, prove)
	}
	if prove == nil {
		return cp, errors.New("audit: witness: no way to fetch a consistency proof")
	}
	p, err := prove(ctx, cp.Size, last.Size)
	if err != nil {
		return cp, fmt.Errorf("audit: witness: fetch consistency proof: %w", err)
	}
	if err := verifyConsistency(cp, last, p); err != nil {
		return cp, &ForkError{Last: last, New: cp, LastSigned: lastSigned, NewSigned: bytes.Clone(signed), Err: err}
	}
	return cp, nil
}

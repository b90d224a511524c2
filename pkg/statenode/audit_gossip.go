package statenode

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
)

// maxCheckpointWalk bounds how many published checkpoints a state node
// reads back in one check to reach the last one it accepted.
const maxCheckpointWalk = 1000

// witnessState is a state node's witness of the secretariat's log, opened
// when the first checkpoint arrives (or at start with a configured key).
type witnessState struct {
	mu   sync.Mutex
	w    *audit.Witness
	vkey string
}

func (s *witnessState) verifierKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vkey
}

func (s *witnessState) last() (audit.Checkpoint, bool) {
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	if w == nil {
		return audit.Checkpoint{}, false
	}
	cp, _, ok := w.Last()
	return cp, ok
}

// open returns the witness, opening it with the configured verifier key
// of the secretariat's log. A key offered by a published checkpoint is
// never trusted: without a configured key the node cannot witness.
func (s *witnessState) open(dir, configured string) (*audit.Witness, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w != nil {
		return s.w, nil
	}
	if configured == "" {
		return nil, errors.New("no verifier key of the secretariat's audit log is configured (Audit.VerifierKey): checkpoints are not checked")
	}
	v, err := note.NewVerifier(configured)
	if err != nil {
		return nil, fmt.Errorf("audit verifier key: %w", err)
	}
	w, err := audit.OpenWitness(filepath.Join(dir, witnessFile), v.Name(), v)
	if err != nil {
		return nil, err
	}
	s.w, s.vkey = w, configured
	return w, nil
}

// witnessCheckpoints checks the latest published checkpoint every
// checkpoint interval until ctx ends.
func (n *Node) witnessCheckpoints(ctx context.Context) {
	t := time.NewTicker(n.cfg.Audit.checkpointInterval())
	defer t.Stop()
	for {
		err := n.checkCheckpoints(ctx)
		var fork *audit.ForkError
		switch {
		case ctx.Err() != nil:
			return
		case errors.As(err, &fork):
			n.log.Error("audit log checkpoint is not consistent with the last one accepted: the log was rewritten or forked",
				"last_size", fork.Last.Size, "new_size", fork.New.Size, "err", fork.Err)
		case err != nil:
			n.log.Warn("audit log checkpoint not checked", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkCheckpoints reads the checkpoints published since the last one the
// witness accepted and feeds them to it in order, each with the
// consistency proof it was published with. It returns a *audit.ForkError
// when one does not extend the log the witness knows.
func (n *Node) checkCheckpoints(ctx context.Context) error {
	seq, data, err := n.bb.LatestCheckpoint(ctx)
	if errors.Is(err, backbone.ErrNoCheckpoint) {
		return nil
	}
	if err != nil {
		return err
	}
	w, err := n.audit.witness.open(n.cfg.DataDir, n.cfg.Audit.VerifierKey)
	if err != nil {
		return err
	}
	chain, err := n.checkpointsSince(ctx, w, seq, data)
	if err != nil {
		return err
	}
	for _, m := range chain {
		prove := func(_ context.Context, size1, size2 uint64) ([][]byte, error) {
			if size1 != m.PrevSize {
				return nil, fmt.Errorf("%w: published proof is from size %d, not %d", audit.ErrInconsistent, m.PrevSize, size1)
			}
			return m.Proof, nil
		}
		cp, err := w.Update(ctx, m.Checkpoint, prove)
		if err != nil {
			return err
		}
		n.log.Debug("audit log checkpoint accepted", "size", cp.Size)
	}
	return nil
}

// checkpointsSince returns the published checkpoint messages after the
// witness's last one up to the message at seq (data), oldest first. With
// no checkpoint accepted yet it returns only the latest.
func (n *Node) checkpointsSince(ctx context.Context, w *audit.Witness, seq uint64, data []byte) ([]audit.PublishedCheckpoint, error) {
	v, err := note.NewVerifier(n.audit.witness.verifierKey())
	if err != nil {
		return nil, err
	}
	last, _, seen := w.Last()
	var chain []audit.PublishedCheckpoint
	for steps := 0; ; steps++ {
		m, cp, err := audit.ParsePublishedCheckpoint(data, v)
		if err != nil {
			return nil, fmt.Errorf("published checkpoint %d: %w", seq, err)
		}
		if seen && cp.Size < last.Size {
			break // published before the last accepted: nothing to do
		}
		chain = append(chain, m)
		if !seen || m.PrevSize <= last.Size || seq <= 1 {
			break
		}
		if steps == maxCheckpointWalk {
			return nil, fmt.Errorf("more than %d checkpoints published since size %d", maxCheckpointWalk, last.Size)
		}
		seq--
		if data, err = n.bb.CheckpointAt(ctx, seq); err != nil {
			return nil, fmt.Errorf("published checkpoint %d: %w", seq, err)
		}
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, nil
}

package statenode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
)

// errProofRefused means the secretariat answered a proof request with a
// refusal (e.g. a size beyond its log, for a checkpoint it signed): no
// proof, though it was asked. Transport failures are not refusals.
var errProofRefused = errors.New("the secretariat refused the consistency proof")

// witnessCheckpoints, every checkpoint interval until ctx ends, checks
// the latest checkpoint the secretariat published against the last one
// the node accepted, then compares the checkpoints the other states
// accepted with it and tells them its own (audit_gossip.go).
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
			n.alarm(AlarmFork, "", fork.Last, fork.New, fork.LastSigned, fork.NewSigned, fork.Err.Error())
		case errors.Is(err, errProofRefused):
			cp, signed, _ := n.audit.witness.Last()
			n.alarm(AlarmNoProof, "", cp, audit.Checkpoint{}, signed, nil, err.Error())
		case err != nil:
			n.log.Warn("audit log checkpoint not checked", "err", err)
		}
		n.gossip(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkCheckpoints checks the latest checkpoint the secretariat published
// against the last one the witness accepted, whatever the number of
// checkpoints published in between: with the consistency proof published
// beside it when it starts where the witness stands, else with one proof
// asked of the secretariat. It returns a *audit.ForkError when the log
// the checkpoint describes does not extend the one the witness knows.
func (n *Node) checkCheckpoints(ctx context.Context) error {
	_, data, err := n.bb.LatestCheckpoint(ctx)
	if errors.Is(err, backbone.ErrNoCheckpoint) {
		return nil
	}
	if err != nil {
		return err
	}
	v, err := note.NewVerifier(n.cfg.Audit.VerifierKey)
	if err != nil {
		return err
	}
	m, latest, err := audit.ParsePublishedCheckpoint(data, v)
	if err != nil {
		return fmt.Errorf("published checkpoint: %w", err)
	}
	published := func(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
		if size1 == m.PrevSize && size2 == latest.Size {
			return m.Proof, nil
		}
		return n.requestProof(ctx, size1, size2)
	}
	cp, err := n.audit.witness.Compare(ctx, m.Checkpoint, published)
	if err != nil {
		return err
	}
	n.log.Debug("audit log checkpoint accepted", "size", cp.Size)
	return nil
}

// requestProof asks the secretariat for the consistency proof from size1
// to size2 (a [audit.ConsistencyFunc]). A refusal wraps errProofRefused.
func (n *Node) requestProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	req, err := audit.ProofRequest{Old: size1, New: size2}.Marshal()
	if err != nil {
		return nil, err
	}
	data, err := n.bb.RequestProof(ctx, req)
	if err != nil {
		return nil, err
	}
	r, err := audit.ParseProofReply(data)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: malformed reply: %v", errProofRefused, err)
	case r.Error != "":
		return nil, fmt.Errorf("%w from %d to %d: %q", errProofRefused, size1, size2, r.Error)
	case r.Old != size1 || r.New != size2:
		return nil, fmt.Errorf("%w: a proof from %d to %d, not %d to %d", errProofRefused, r.Old, r.New, size1, size2)
	}
	return r.Hashes, nil
}

package secretariat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
)

// serveProofs answers the state nodes' consistency proof requests on the
// backbone until ctx ends, serving again after a failure.
func (n *Node) serveProofs(ctx context.Context) {
	for {
		err := n.bb.ServeProofs(ctx, n.answerProof)
		if ctx.Err() != nil {
			return
		}
		n.log.Warn("proof service stopped, serving again", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// answerProof answers one proof request of state's node: the consistency
// proof between the two sizes, or why there is none.
func (n *Node) answerProof(ctx context.Context, state string, data []byte) []byte {
	var reply audit.ProofReply
	req, err := audit.ParseProofRequest(data)
	if err != nil {
		n.log.Warn("malformed proof request", "peer", state, "err", err)
		reply.Error = "malformed proof request"
	} else {
		reply.Old, reply.New = req.Old, req.New
		reply.Hashes, err = n.audit.log.ConsistencyProof(ctx, req.Old, req.New)
		switch {
		case errors.Is(err, audit.ErrRange):
			reply.Error = fmt.Sprintf("tree size %d is beyond the log's %d entries", req.New, n.audit.log.Size())
		case err != nil:
			n.log.Warn("proof not made", "peer", state, "err", err)
			reply.Error = "proof unavailable, ask again later"
		}
		if reply.Error != "" {
			reply.Hashes = nil
		}
	}
	b, err := reply.Marshal()
	if err != nil {
		n.log.Error("proof reply not encoded", "peer", state, "err", err)
		b, _ = audit.ProofReply{Error: "proof unavailable"}.Marshal()
	}
	n.log.Debug("proof request answered", "peer", state, "old", reply.Old, "new", reply.New, "refused", reply.Error != "")
	return b
}

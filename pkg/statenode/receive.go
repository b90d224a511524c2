package statenode

import (
	"context"
	"errors"
	"fmt"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// receive handles one copy from this node's inbox: it decodes, checks that
// the copy is addressed to this state by the origin it names, and stores it.
// Bad copies are rejected for good (never shown, never redelivered).
func (n *Node) receive(ctx context.Context, m backbone.Msg) error {
	return n.receiveWith(ctx, m, n.reject)
}

// receiveWith is receive with the treatment of bad copies given: reject
// (audited) for the inbox, or a quieter one for a rebuild (rebuild.go).
func (n *Node) receiveWith(ctx context.Context, m backbone.Msg, reject func(m backbone.Msg, rule string, err error) error) error {
	b, signer, err := n.openCopy(ctx, m.Data)
	if errors.Is(err, seal.ErrVersion) {
		// A format this node does not know yet (another node runs newer
		// software): not a bad copy. It stays in the inbox, redelivered
		// with backoff, and later copies wait behind it, until this node
		// is upgraded; nothing is lost meanwhile.
		n.log.Warn("copy sealed in a format this node cannot read yet; upgrade the node", "bulletin_id", m.ID, "origin", m.Origin, "err", err)
		return fmt.Errorf("open copy %s: %w", m.ID, err)
	}
	if err != nil {
		return reject(m, "open", err)
	}
	if signer != m.Origin {
		return reject(m, "signer", fmt.Errorf("copy published by %s but sealed by %s", m.Origin, signer))
	}
	if err := b.Validate(); err != nil {
		return reject(m, "validate", err)
	}
	switch {
	case m.Recipient != n.self.State:
		return reject(m, "recipient", fmt.Errorf("copy addressed to %s", m.Recipient))
	case b.ID != m.ID:
		return reject(m, "subject", fmt.Errorf("subject names %s, bulletin says %s", m.ID, b.ID))
	case m.Origin != b.Origin:
		if err := n.checkForwarded(&b, m.Origin); err != nil {
			return reject(m, "forward", err)
		}
	case !b.ReleasedTo(n.self.State):
		return reject(m, "releasability", errors.New("bulletin not released to this state"))
	default:
		if err := n.policy.Release(&b, n.self.State).Err(); err != nil {
			return reject(m, "release", err)
		}
	}
	_, inserted, err := n.storeReceived(ctx, b, m.Data, signer)
	switch {
	case errors.Is(err, store.ErrConflict):
		return reject(m, "replay", err)
	case err != nil:
		return fmt.Errorf("store received bulletin %s: %w", b.ID, err)
	}
	if inserted {
		n.hub.notify()
		n.log.Info("bulletin received", "bulletin_id", b.ID, "origin", b.Origin)
	}
	return nil
}

func (n *Node) reject(m backbone.Msg, rule string, err error) error {
	n.log.Warn("rejected inbox message", "subject", m.Subject, "origin", m.Origin, "bulletin_id", m.ID, "rule", "receive."+rule, "err", err)
	n.emitRejected(m, rule)
	n.observeRejected(rule, err)
	return fmt.Errorf("%w: %s: %v", backbone.ErrReject, rule, err)
}

package secretariat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
)

// publishCheckpoints publishes a checkpoint at start, every checkpoint
// interval and when asked (GetCheckpoint), each time the log has grown.
func (n *Node) publishCheckpoints(ctx context.Context) {
	t := time.NewTicker(n.cfg.Audit.checkpointInterval())
	defer t.Stop()
	last, err := n.lastPublished(ctx)
	for err != nil {
		n.log.Warn("last published checkpoint not read, retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		last, err = n.lastPublished(ctx)
	}
	for {
		if size, err := n.publishCheckpoint(ctx, last); err != nil {
			n.log.Warn("checkpoint not published", "err", err)
		} else {
			last = size
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.audit.kick:
		}
	}
}

// lastPublished returns the size of the last checkpoint published, 0 if
// none.
func (n *Node) lastPublished(ctx context.Context) (uint64, error) {
	_, data, err := n.bb.LatestCheckpoint(ctx)
	if errors.Is(err, backbone.ErrNoCheckpoint) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	m, cp, err := audit.ParsePublishedCheckpoint(data, nil)
	if err != nil {
		return 0, err
	}
	if m.VerifierKey != n.audit.vkey {
		return 0, errors.New("the last published checkpoint is signed by another key than this log's")
	}
	return cp.Size, nil
}

// publishCheckpoint publishes the current checkpoint if the log grew past
// last, with the consistency proof from last, and returns the size
// published (last if nothing was).
func (n *Node) publishCheckpoint(ctx context.Context, last uint64) (uint64, error) {
	lg := n.audit.log
	switch size := lg.Size(); {
	case size == last:
		return last, nil
	case size < last:
		return last, fmt.Errorf("the audit log holds %d entries, fewer than the %d of the last published checkpoint", size, last)
	}
	signed, err := lg.Checkpoint(ctx)
	if err != nil {
		return last, err
	}
	cp, err := audit.VerifyCheckpoint(signed, lg.Origin(), n.audit.verifier)
	if err != nil {
		return last, err
	}
	proof, err := lg.ConsistencyProof(ctx, last, cp.Size)
	if err != nil {
		return last, err
	}
	data, err := json.Marshal(audit.PublishedCheckpoint{Checkpoint: signed, VerifierKey: n.audit.vkey, PrevSize: last, Proof: proof})
	if err != nil {
		return last, err
	}
	if _, err := n.bb.PublishCheckpoint(ctx, data); err != nil {
		return last, err
	}
	n.log.Debug("checkpoint published", "size", cp.Size)
	return cp.Size, nil
}

// escalateOverdue escalates acknowledgements past their deadline every
// escalation interval, logging each and telling the watchers.
func (n *Node) escalateOverdue(ctx context.Context) {
	t := time.NewTicker(n.cfg.Audit.escalationInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := n.escalate(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("escalation pass failed", "err", err)
		}
	}
}

// escalate runs one escalation pass.
func (n *Node) escalate(ctx context.Context) error {
	now := n.now()
	late, err := n.audit.log.Overdue(ctx, now, n.cfg.Audit.Deadlines)
	if err != nil {
		return err
	}
	n.observeEscalations(late, nil)
	if len(late) == 0 {
		return nil
	}
	byKey := map[[3]string]audit.OverdueItem{}
	for _, it := range late {
		byKey[[3]string{it.Origin, it.BulletinID, it.State}] = it
	}
	events, err := n.audit.log.Escalations(ctx, now, n.cfg.Audit.Deadlines)
	if err != nil {
		return err
	}
	n.observeEscalations(late, events)
	items := make([]audit.OverdueItem, 0, len(events))
	for _, e := range events {
		it, ok := byKey[[3]string{e.Origin, e.BulletinID, e.State}]
		if !ok {
			it = audit.OverdueItem{BulletinID: e.BulletinID, Origin: e.Origin, State: e.State, Precedence: e.Precedence}
		}
		it.EscalatedAt = e.At
		items = append(items, it)
		n.log.Warn("acknowledgement overdue: escalated", "bulletin_id", e.BulletinID, "origin", e.Origin,
			"recipient", e.State, "precedence", e.Precedence.String(), "due", it.DueAt)
	}
	n.audit.escalate.publish(items)
	return nil
}

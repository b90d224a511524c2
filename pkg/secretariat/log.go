package secretariat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/region"
)

// consumeReceipts appends every verified receipt on the backbone to the
// log until ctx ends, a batch of receipts at a time.
func (n *Node) consumeReceipts(ctx context.Context) {
	if err := n.bb.ConsumeEventBatches(ctx, n.handleReceipts); err != nil && ctx.Err() == nil {
		n.log.Error("receipt consumer stopped", "err", err)
	}
}

// handleReceipts verifies a batch of receipts and appends the events of
// those that verify in one transaction (one disk sync for the batch). A
// receipt that fails verification is terminated on the backbone, and the
// refusal itself is logged (when the receipt names a bulletin); so is one
// whose event is invalid. A transient failure of the log has every
// receipt of the append redelivered.
func (n *Node) handleReceipts(ctx context.Context, ms []backbone.Msg) []error {
	results := make([]error, len(ms))
	var events []audit.Event
	var at []int // index in ms of each event
	for i, m := range ms {
		e, err := audit.VerifyReceipt(m.Data, n.cfg.Bundle, n.cfg.TrustDomain, m.Origin, m.Published)
		var re *audit.ReceiptError
		switch {
		case errors.As(err, &re):
			n.log.Warn("receipt refused", "subject", m.Subject, "peer", m.Origin, "rule", re.Rule, "err", re.Err)
			results[i] = fmt.Errorf("%w: %s", backbone.ErrReject, re.Rule)
			if err := n.logForgery(ctx, m.Origin, re); err != nil {
				results[i] = err
			}
		case err != nil:
			results[i] = err
		default:
			if err := e.Validate(); err != nil {
				results[i] = fmt.Errorf("%w: %v", backbone.ErrReject, err)
				continue
			}
			events, at = append(events, e), append(at, i)
		}
	}
	if len(events) == 0 {
		return results
	}
	if _, err := n.audit.log.AppendAll(ctx, events); err != nil {
		// One event the log refuses must not hold back the others of its
		// batch: append them one by one, each with its own result.
		n.log.Warn("appending a batch of receipts failed; appending them one by one", "count", len(events), "err", err)
		for k, e := range events {
			if _, err := n.audit.log.Append(ctx, e); err != nil {
				if errors.Is(err, audit.ErrInvalidEvent) {
					err = fmt.Errorf("%w: %v", backbone.ErrReject, err)
				}
				results[at[k]] = err
			}
		}
		return results
	}
	n.log.Debug("receipts logged", "count", len(events))
	return results
}

// logForgery appends the refusal of a receipt that named a bulletin. The
// refused actor is the verified signer, or, when the chain did not
// verify, the node of the scope the receipt was published under.
func (n *Node) logForgery(ctx context.Context, scope string, re *audit.ReceiptError) error {
	if re.Event.BulletinID == "" {
		return nil
	}
	actor := re.Signer.String()
	if re.Signer.IsZero() {
		actor = "spiffe://" + n.cfg.TrustDomain.Name() + "/secretariat/node"
		if scope != "" {
			actor = "spiffe://" + n.cfg.TrustDomain.Name() + "/state/" + scope + "/node"
		}
	}
	state := ""
	if region.IsMember(scope) {
		state = scope
	}
	e := audit.Event{Kind: audit.EventRefused, BulletinID: re.Event.BulletinID, Origin: re.Event.Origin,
		State: state, Actor: actor, Rule: re.Rule, Detail: "refused " + string(re.Event.Kind) + " receipt",
		At: n.now().UTC()}
	if _, err := n.audit.log.Append(ctx, e); err != nil && !errors.Is(err, audit.ErrInvalidEvent) {
		return err
	}
	return nil
}

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
	if err != nil || len(late) == 0 {
		return err
	}
	byKey := map[[2]string]audit.OverdueItem{}
	for _, it := range late {
		byKey[[2]string{it.BulletinID, it.State}] = it
	}
	events, err := n.audit.log.Escalations(ctx, now, n.cfg.Audit.Deadlines)
	if err != nil {
		return err
	}
	items := make([]audit.OverdueItem, 0, len(events))
	for _, e := range events {
		it, ok := byKey[[2]string{e.BulletinID, e.State}]
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

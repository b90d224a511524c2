package statenode

import (
	"context"
	"errors"
	"fmt"

	"github.com/oas-cicte/iant/pkg/attest"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// emit records audit events: a state node queues them in its receipt
// outbox in the node's database (one local write for all), to be signed
// and published on the backbone as receipts. It never fails the caller's
// call: a failure is logged. An event is reported once per key (kind,
// origin, bulletin, state, actor), however often emit is called with it.
// Events that must commit with what they report (posted, released,
// delivered) go into that transaction instead ([Node.receiptsOf]).
func (n *Node) emit(events ...audit.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), emitTimeout)
	defer cancel()
	rs, err := n.receiptsOf(audit.Evidence{}, events...)
	if err != nil {
		n.log.Warn("audit event not recorded", "kind", string(events[0].Kind), "bulletin_id", events[0].BulletinID, "err", err)
		return
	}
	if added, err := n.store.QueueReceipts(ctx, rs, n.now()); err != nil {
		n.log.Warn("receipts not queued", "bulletin_id", events[0].BulletinID, "err", err)
	} else if added > 0 {
		wakeUp(n.audit.wake)
		n.log.Debug("receipts queued", "kind", string(events[0].Kind), "bulletin_id", events[0].BulletinID, "count", added)
	}
}

// receiptsOf encodes events for the receipt outbox, each under its event
// id, each receipt carrying the evidence ev: the origin's header
// attestation (posted; delivered, from the copy) or the statement of the
// state that forwarded the copy (delivered).
func (n *Node) receiptsOf(ev audit.Evidence, events ...audit.Event) ([]store.Receipt, error) {
	out := make([]store.Receipt, 0, len(events))
	for _, e := range events {
		data, err := audit.MarshalEvent(e)
		if err != nil {
			return nil, fmt.Errorf("%s event of %s: %w", e.Kind, e.BulletinID, err)
		}
		out = append(out, store.Receipt{ID: audit.EventID(e), Event: data, Header: ev.Header, Forward: ev.Forward})
	}
	return out, nil
}

// nodeID is the node's own SPIFFE ID.
func (n *Node) nodeID() string { return n.self.ID(n.cfg.TrustDomain).String() }

// postedReceipts are the receipts that report that this node posted b,
// sealed as sealed: posted, carrying the header attestation the
// secretariat checks it against, and released to each recipient. Both are
// dated when the bulletin was created, the time the origin signed: the
// release was decided then, and they commit with the post.
func (n *Node) postedReceipts(b *bulletin.Bulletin, sealed *seal.Sealed) ([]store.Receipt, error) {
	att, err := attest.Header(sealed)
	if err != nil {
		return nil, fmt.Errorf("header attestation: %w", err)
	}
	out, err := n.receiptsOf(audit.Evidence{Header: att}, audit.Event{Kind: audit.EventPosted, BulletinID: b.ID,
		Origin: b.Origin, Actor: b.Author, Precedence: b.Precedence, At: b.CreatedAt})
	if err != nil {
		return nil, err
	}
	var events []audit.Event
	for _, r := range b.Recipients {
		events = append(events, audit.Event{Kind: audit.EventReleased, BulletinID: b.ID, Origin: b.Origin, State: r,
			Actor: n.nodeID(), Precedence: b.Precedence, At: b.CreatedAt})
	}
	released, err := n.receiptsOf(audit.Evidence{}, events...)
	return append(out, released...), err
}

// storeReceived stores a received bulletin and the receipt that reports
// it delivered in one transaction: both or neither. The receipt carries
// the copy's attestation (the sealed copy as it arrived): the origin's
// header when signer, the state that sealed the copy, is the origin; else
// the statement of signer, which forwarded it.
func (n *Node) storeReceived(ctx context.Context, b bulletin.Bulletin, copyData []byte, signer string) (store.Record, bool, error) {
	at := n.now().UTC()
	var ev audit.Evidence
	att, err := attest.FromCopy(copyData)
	switch {
	case err != nil:
		n.log.Warn("delivery reported without attestation", "bulletin_id", b.ID, "err", err)
	case signer == b.Origin:
		ev.Header = att
	default:
		ev.Forward = att
	}
	rs, err := n.receiptsOf(ev, audit.Event{Kind: audit.EventDelivered, BulletinID: b.ID, Origin: b.Origin,
		State: n.self.State, Actor: n.nodeID(), Precedence: b.Precedence, At: at})
	if err != nil {
		return store.Record{}, false, err
	}
	rec, inserted, err := n.store.PutWithReceipts(ctx, b, store.Received, at, rs)
	if err == nil {
		wakeUp(n.audit.wake)
	}
	if inserted {
		n.observeDelivery(&b, at)
	}
	return rec, inserted, err
}

// emitRead reports that person p was shown rec, the first time for each
// person; bulletins this state sent are not receipts.
func (n *Node) emitRead(p identity.Principal, rec *store.Record) {
	if rec.Direction != store.Received {
		return
	}
	b := &rec.Bulletin
	n.emit(audit.Event{Kind: audit.EventRead, BulletinID: b.ID, Origin: b.Origin, State: n.self.State,
		Actor: p.ID(n.cfg.TrustDomain).String(), Precedence: b.Precedence, At: n.now().UTC()})
}

// emitAcknowledged reports the first acknowledgement of rec.
func (n *Node) emitAcknowledged(rec *store.Record) {
	if rec.AckedBy == "" {
		return
	}
	b := &rec.Bulletin
	n.emit(audit.Event{Kind: audit.EventAcknowledged, BulletinID: b.ID, Origin: b.Origin, State: n.self.State,
		Actor: rec.AckedBy, Precedence: b.Precedence, At: rec.AckedAt})
}

// emitRefused reports a refusal of person p's action on a bulletin. The
// event's State is this node's state (the state that refused). A refusal
// about a bulletin this node does not hold (so of unknown origin) is only
// logged, as are refusals whose rule is unknown.
func (n *Node) emitRefused(action string, p identity.Principal, bulletinID string, err error) {
	rule := ""
	var pe *problem.Error
	if errors.As(err, &pe) {
		rule = pe.Rule
	}
	if rule == "" || bulletinID == "" || len(bulletinID) > audit.MaxBulletinIDBytes {
		return
	}
	origin := n.self.State
	if action != "post" {
		ctx, cancel := context.WithTimeout(context.Background(), emitTimeout)
		rec, err := n.store.Get(ctx, bulletinID)
		cancel()
		if err != nil {
			return
		}
		origin = rec.Bulletin.Origin
	}
	n.emit(audit.Event{Kind: audit.EventRefused, BulletinID: bulletinID, Origin: origin, State: n.self.State,
		Actor: p.ID(n.cfg.TrustDomain).String(), Rule: rule, Detail: action, At: n.now().UTC()})
}

// emitRejected reports a copy this node rejected from its inbox. The
// refused principal is the node of the state that published the copy,
// named by its state's node path (the backbone does not say which of the
// state's nodes it was).
func (n *Node) emitRejected(m backbone.Msg, rule string) {
	if !region.IsMember(m.Origin) || len(m.ID) > audit.MaxBulletinIDBytes {
		return
	}
	n.emit(audit.Event{Kind: audit.EventRefused, BulletinID: m.ID, Origin: m.Origin, State: n.self.State,
		Actor: "spiffe://" + n.cfg.TrustDomain.Name() + "/state/" + m.Origin + "/node", Rule: "receive." + rule,
		Detail: "copy rejected", At: n.now().UTC()})
}

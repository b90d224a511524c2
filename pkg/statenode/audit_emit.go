package statenode

import (
	"context"
	"errors"

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

// emit records audit events: a state node queues them in its outbox (one
// local write for all), to be signed and published on the backbone as
// receipts. It never fails the caller's call: a failure is logged. An
// event is reported once per key (kind, origin, bulletin, state, actor),
// however often emit is called with it.
func (n *Node) emit(events ...audit.Event) {
	n.emitWith(audit.Evidence{}, events...)
}

// emitWith is emit of events whose receipts carry the evidence ev: the
// origin's header attestation (posted; delivered, from the copy) or the
// statement of the state that forwarded the copy (delivered).
func (n *Node) emitWith(ev audit.Evidence, events ...audit.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), emitTimeout)
	defer cancel()
	if n.audit.outbox == nil {
		return
	}
	var todo []queued
	for _, e := range events {
		id := audit.EventID(e)
		if seen, err := n.audit.outbox.has(ctx, id); err == nil && seen {
			continue
		}
		data, err := audit.MarshalEvent(e)
		if err != nil {
			n.log.Warn("audit event not recorded", "kind", string(e.Kind), "bulletin_id", e.BulletinID, "err", err)
			continue
		}
		todo = append(todo, queued{id: id, event: data, ev: ev})
	}
	if len(todo) == 0 {
		return
	}
	if added, err := n.audit.outbox.add(ctx, todo, n.now()); err != nil {
		n.log.Warn("receipts not queued", "bulletin_id", events[0].BulletinID, "err", err)
	} else if added > 0 {
		n.log.Debug("receipts queued", "kind", string(events[0].Kind), "bulletin_id", events[0].BulletinID, "count", added)
	}
}

// nodeID is the node's own SPIFFE ID.
func (n *Node) nodeID() string { return n.self.ID(n.cfg.TrustDomain).String() }

// emitPosted reports that this node posted b, sealed as sealed (nil when
// no state was released it): posted, carrying the header attestation the
// secretariat checks it against, and released to each recipient. Call it
// once every copy is committed. Both are dated when the bulletin was
// created, the time the origin signed: the release was decided then, and
// the author is answered only after every copy is committed, so a
// recipient may store its copy before the post call returns.
func (n *Node) emitPosted(b *bulletin.Bulletin, sealed *seal.Sealed) {
	if sealed == nil {
		return // released to no state: there is no signed header to report
	}
	att, err := attest.Header(sealed)
	if err != nil {
		n.log.Warn("posting not reported: no header attestation", "bulletin_id", b.ID, "err", err)
		return
	}
	n.emitWith(audit.Evidence{Header: att}, audit.Event{Kind: audit.EventPosted, BulletinID: b.ID, Origin: b.Origin,
		Actor: b.Author, Precedence: b.Precedence, At: b.CreatedAt})
	var events []audit.Event
	for _, r := range b.Recipients {
		events = append(events, audit.Event{Kind: audit.EventReleased, BulletinID: b.ID, Origin: b.Origin, State: r,
			Actor: n.nodeID(), Precedence: b.Precedence, At: b.CreatedAt})
	}
	n.emit(events...)
}

// emitDelivered reports that this node stored its copy of b, carrying the
// copy's attestation (the sealed copy as it arrived): the origin's header
// when signer, the state that sealed the copy, is the origin; else the
// statement of signer, which forwarded it.
func (n *Node) emitDelivered(b *bulletin.Bulletin, copyData []byte, signer string) {
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
	n.emitWith(ev, audit.Event{Kind: audit.EventDelivered, BulletinID: b.ID, Origin: b.Origin, State: n.self.State,
		Actor: n.nodeID(), Precedence: b.Precedence, At: n.now().UTC()})
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

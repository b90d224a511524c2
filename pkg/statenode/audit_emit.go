package statenode

import (
	"context"
	"errors"
	"fmt"

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
// origin, bulletin, state, actor; for a refusal also its rule and
// action), however often emit is called with it.
// Events that must commit with what they report (posted, released,
// delivered) go into that transaction instead ([Node.receiptsOf]).
func (n *Node) emit(events ...audit.Event) { n.emitWith(audit.Evidence{}, events...) }

// emitWith is emit with the evidence ev on every receipt.
func (n *Node) emitWith(ev audit.Evidence, events ...audit.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), emitTimeout)
	defer cancel()
	rs, err := n.receiptsOf(ev, events...)
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
	att, err := attestation(sealed)
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

// forwardedReceipts are the receipts that report that this node forwarded
// b, as f: forwarded to f's recipient at the time its statement says,
// carrying the origin's header attestation and the forward attestation
// (the secretariat checks the statement is this state's). They commit
// with the forward's copy.
func (n *Node) forwardedReceipts(b *bulletin.Bulletin, f *seal.Forwarded) ([]store.Receipt, error) {
	ev, err := forwardAttestations(f)
	if err != nil {
		return nil, fmt.Errorf("forward attestation: %w", err)
	}
	return n.receiptsOf(ev, audit.Event{Kind: audit.EventForwarded, BulletinID: b.ID, Origin: b.Origin,
		State: f.Statement.Recipient, Actor: n.nodeID(), Precedence: b.Precedence, Revision: eventRevision(b.RevisionNumber()), At: f.Statement.At.UTC()})
}

// forwardEvidence is the evidence the receipts about rec carry when a
// forward brought it to this state: the origin's and the forwarder's
// attestations, made again from the forward as received (the log may
// not have taken the delivered receipt that carried them first). None
// for a bulletin its origin released here: the log holds the header.
func (n *Node) forwardEvidence(ctx context.Context, rec *store.Record) audit.Evidence {
	if rec.ForwardedBy == "" {
		return audit.Evidence{}
	}
	data, err := n.store.ReceivedCopy(ctx, rec.Bulletin.Origin, rec.Bulletin.ID)
	if err == nil && len(data) == 0 {
		err = errors.New("no copy kept")
	}
	var f *seal.Forwarded
	if err == nil {
		f, err = seal.UnmarshalForwarded(data)
	}
	var ev audit.Evidence
	if err == nil {
		ev, err = forwardAttestations(f)
	}
	if err != nil {
		n.log.Warn("receipt sent without the forward's evidence", "bulletin_id", rec.Bulletin.ID, "origin", rec.Bulletin.Origin, "err", err)
	}
	return ev
}

// forwardAttestations is the evidence of a forward: the origin's header
// attestation and the forward attestation.
func forwardAttestations(f *seal.Forwarded) (audit.Evidence, error) {
	h, err := attestation(&f.Sealed)
	if err != nil {
		return audit.Evidence{}, err
	}
	fa, err := f.Attest()
	if err != nil {
		return audit.Evidence{}, err
	}
	fb, err := fa.Marshal()
	if err != nil {
		return audit.Evidence{}, err
	}
	return audit.Evidence{Header: h, Forward: fb}, nil
}

// emitRead reports that person p was shown rec, the first time for each
// person; bulletins this state sent are not receipts.
func (n *Node) emitRead(p identity.Principal, rec *store.Record) {
	n.emitReads(p, []*store.Record{rec})
}

// emitReads reports that person p was shown recs, in one write to the
// receipt outbox (one synced commit for a batch pushed to a subscriber).
func (n *Node) emitReads(p identity.Principal, recs []*store.Record) {
	var rs []store.Receipt
	for _, rec := range recs {
		if rec.Direction != store.Received {
			continue
		}
		b := &rec.Bulletin
		r, err := n.receiptsOf(n.evidenceOf(rec), audit.Event{Kind: audit.EventRead, BulletinID: b.ID, Origin: b.Origin, State: n.self.State,
			Actor: p.ID(n.cfg.TrustDomain).String(), Precedence: b.Precedence, Revision: eventRevision(b.RevisionNumber()), At: n.now().UTC()})
		if err != nil {
			n.log.Warn("audit event not recorded", "kind", string(audit.EventRead), "bulletin_id", b.ID, "err", err)
			continue
		}
		rs = append(rs, r...)
	}
	n.queueReceipts(rs)
}

// queueReceipts queues rs in the receipt outbox in one transaction and
// wakes its publisher; a failure is logged.
func (n *Node) queueReceipts(rs []store.Receipt) {
	if len(rs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), emitTimeout)
	defer cancel()
	if added, err := n.store.QueueReceipts(ctx, rs, n.now()); err != nil {
		n.log.Warn("receipts not queued", "receipt_id", rs[0].ID, "count", len(rs), "err", err)
	} else if added > 0 {
		wakeUp(n.audit.wake)
		n.log.Debug("receipts queued", "receipt_id", rs[0].ID, "count", added)
	}
}

// emitAcknowledged reports the first acknowledgement of rec.
func (n *Node) emitAcknowledged(rec *store.Record) {
	if rec.AckedBy == "" {
		return
	}
	b := &rec.Bulletin
	n.emitWith(n.evidenceOf(rec), audit.Event{Kind: audit.EventAcknowledged, BulletinID: b.ID, Origin: b.Origin, State: n.self.State,
		Actor: rec.AckedBy, Precedence: b.Precedence, Revision: eventRevision(b.RevisionNumber()), At: rec.AckedAt})
}

// evidenceOf is forwardEvidence under its own deadline.
func (n *Node) evidenceOf(rec *store.Record) audit.Evidence {
	if rec.ForwardedBy == "" {
		return audit.Evidence{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), emitTimeout)
	defer cancel()
	return n.forwardEvidence(ctx, rec)
}

// emitRefused reports a refusal of person p's action on bulletin id of
// origin ("" when the caller did not say: the one this node holds). The
// event's State is this node's state (the state that refused). A refusal
// about a bulletin this node does not hold (so of unknown origin) is only
// logged, as are refusals whose rule is unknown.
func (n *Node) emitRefused(action string, p identity.Principal, origin, id string, err error) {
	rule := ""
	var pe *problem.Error
	if errors.As(err, &pe) {
		rule = pe.Rule
	}
	if rule == "" || id == "" || len(id) > audit.MaxBulletinIDBytes {
		return
	}
	var ev audit.Evidence
	if origin != n.self.State {
		ctx, cancel := context.WithTimeout(context.Background(), emitTimeout)
		rec, err := n.store.Get(ctx, origin, id)
		if err == nil {
			origin, ev = rec.Bulletin.Origin, n.forwardEvidence(ctx, &rec)
		}
		cancel()
		if err != nil {
			return
		}
	}
	n.emitWith(ev, audit.Event{Kind: audit.EventRefused, BulletinID: id, Origin: origin, State: n.self.State,
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

// attestation is the marshalled header attestation of s.
func attestation(s *seal.Sealed) ([]byte, error) {
	a, err := s.Attest()
	if err != nil {
		return nil, err
	}
	return a.Marshal()
}

package statenode

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/store"
)

// Revising and revoking one of this state's bulletins. A revision is the
// bulletin again, the same id, revision + 1, created now, sealed and
// signed like a post and committed with its copies and receipts in one
// transaction (the earlier revision stays in the history). The states it
// no longer releases to get a revocation of their copy (narrowing); the
// states it newly releases to get this revision only. A revocation is the
// bulletin's tombstone (who, when, why; no content) sealed for every
// state it was released to; every holder removes the content and confirms
// with a signed revoked receipt. Both are decided by the policy (revise,
// revoke) and only the origin's focal points pass it.

// changed is what a revision or a revocation did.
type changed struct {
	rec      store.Record
	pending  []string // states whose copy still waits at the node
	told     []string // states sent the revision (or revocation)
	withdraw []string // states whose copy the revision revoked
	added    []string // states the revision newly releases to
}

// own looks up bulletin id for a change by p: this state's own, or,
// when it is not, what this node holds of that id, for the policy to
// refuse by rule.
func (n *Node) own(ctx context.Context, action string, p identity.Principal, id string) (store.Record, error) {
	rec, err := n.lookup(ctx, n.self.State, id)
	if problem.KindOf(err) == problem.KindNotFound {
		rec, err = n.lookup(ctx, "", id)
	}
	if err != nil {
		return store.Record{}, err
	}
	if b := &rec.Bulletin; b.Revoked {
		return store.Record{}, n.refused(action, p, b.Origin, b.ID, problem.Denied(action+".revoked",
			"bulletin %s was revoked at %s by %s: a revoked bulletin is not %sd", b.ID,
			b.Revocation.At.Format(time.RFC3339), b.Origin, action))
	}
	return rec, nil
}

// revise publishes the revision of bulletin id that draft describes.
func (n *Node) revise(ctx context.Context, id string, draft *iantv1.Bulletin) (changed, error) {
	p := nodeserver.Caller(ctx)
	rec, err := n.own(ctx, "revise", p, id)
	if err != nil {
		return changed{}, err
	}
	old := &rec.Bulletin
	b, err := n.completeRevision(p, old, draft)
	if err != nil {
		return changed{}, err
	}
	if err := n.policy.Revise(p, &b, old.Marking).Err(); err != nil {
		return changed{}, n.refused("revise", p, old.Origin, old.ID, err)
	}
	if old.Reply != nil {
		return changed{}, problem.Invalid("id", "bulletin %s is a reply: a reply is not revised", id)
	}
	if err := n.releaseTo(p, &b, "revise"); err != nil {
		return changed{}, err
	}
	return n.commitRevision(ctx, old, &b)
}

// completeRevision makes the revision of old that draft describes, as a
// post's draft is completed.
func (n *Node) completeRevision(p identity.Principal, old *bulletin.Bulletin, draft *iantv1.Bulletin) (bulletin.Bulletin, error) {
	b, err := bulletinFromProto(draft)
	if err != nil {
		return bulletin.Bulletin{}, err
	}
	if err := checkNodeSetFields(&b, n.self.State); err != nil {
		return bulletin.Bulletin{}, err
	}
	if err := ownTranslations(&b, n.self.State, p.ID(n.cfg.TrustDomain).String()); err != nil {
		return bulletin.Bulletin{}, err
	}
	if err := b.ValidateDraft(); err != nil {
		return bulletin.Bulletin{}, err
	}
	now := n.now().UTC()
	if !b.ExpiresAt.IsZero() && !b.ExpiresAt.After(now) {
		return bulletin.Bulletin{}, problem.Invalid("expire_time", "expire time %s is in the past", b.ExpiresAt.Format(time.RFC3339))
	}
	if err := n.policy.CheckConditions(b.Conditions); err != nil {
		return bulletin.Bulletin{}, err
	}
	b.ID, b.Origin, b.Author, b.CreatedAt = old.ID, old.Origin, p.ID(n.cfg.TrustDomain).String(), now
	b.Revision, b.FirstCreatedAt = old.RevisionNumber()+1, old.FirstCreated()
	// An audience once confidential stays so: a revision naming it would
	// tell every recipient what the first version kept from them.
	b.ConfidentialAudience = b.ConfidentialAudience || old.ConfidentialAudience
	if b.Recipients, err = n.resolveRecipients(&b); err != nil {
		return bulletin.Bulletin{}, err
	}
	if len(b.Recipients) == 0 {
		return bulletin.Bulletin{}, problem.Invalid("releasability", "releasability reaches no state but your own (%s): release to at least one other state", b.Origin)
	}
	if b.Origin != n.self.State {
		return b, nil // the policy refuses it by rule (revise-origin-only)
	}
	return b, b.Validate()
}

// releaseTo decides post on b and keeps the states the release decision
// allows, refusing b when none is.
func (n *Node) releaseTo(p identity.Principal, b *bulletin.Bulletin, action string) error {
	if err := n.policy.Post(p, b).Err(); err != nil {
		return n.refused(action, p, b.Origin, b.ID, err)
	}
	return n.releasePolicy(p, b, action)
}

// releasePolicy sets b's recipients to the states of its resolved
// recipients the release policy allows, refusing (for action) when it
// allows none. A reply, which its own decision point allowed (analysts
// send sightings and notes), comes here without the post decision.
func (n *Node) releasePolicy(p identity.Principal, b *bulletin.Bulletin, action string) error {
	allowed, refused := n.policy.Recipients(b)
	for state, d := range refused {
		n.log.Info("release refused by policy", "bulletin_id", b.ID, "recipient", state, "rule", d.Rule())
	}
	if len(allowed) == 0 {
		first := slices.Sorted(maps.Keys(refused))[0]
		return n.refused(action, p, b.Origin, b.ID, refused[first].Err())
	}
	b.Recipients = allowed
	return nil
}

// commitRevision seals revision b of old for its recipients and the
// revocation of the copies of the states it drops, and commits them.
func (n *Node) commitRevision(ctx context.Context, old, b *bulletin.Bulletin) (changed, error) {
	c := changed{told: b.Recipients}
	for _, s := range old.Recipients {
		if !slices.Contains(b.Recipients, s) {
			c.withdraw = append(c.withdraw, s)
		}
	}
	for _, s := range b.Recipients {
		if !slices.Contains(old.Recipients, s) {
			c.added = append(c.added, s)
		}
	}
	copies, receipts, err := n.sealed(ctx, b, audit.EventRevised)
	if err != nil {
		return changed{}, err
	}
	if len(c.withdraw) > 0 {
		t := old.Tombstone(bulletin.Revocation{By: b.Author, At: b.CreatedAt, Narrowed: true,
			Reason: fmt.Sprintf("revision %d of %s no longer releases it to your state", b.RevisionNumber(), b.Origin)}, b.RevisionNumber())
		t.Recipients = c.withdraw
		cs, rs, err := n.sealed(ctx, &t, audit.EventRevocation)
		if err != nil {
			return changed{}, err
		}
		copies, receipts = append(copies, cs...), append(receipts, rs...)
	}
	return n.commitChange(ctx, b, copies, receipts, c)
}

// sealed seals message b of this node for its recipients and returns its
// copies and the receipts reporting it: kind (the origin's, with the
// header attestation) and released to each recipient.
func (n *Node) sealed(ctx context.Context, b *bulletin.Bulletin, kind audit.EventKind) ([]store.Copy, []store.Receipt, error) {
	copies, s, err := n.sealCopies(ctx, b)
	if err != nil {
		return nil, nil, err
	}
	att, err := attestation(s)
	if err != nil {
		return nil, nil, problem.Internal(err)
	}
	rev := eventRevision(b.RevisionNumber())
	e := audit.Event{Kind: kind, BulletinID: b.ID, Origin: b.Origin, Actor: b.Author, Revision: rev, At: b.CreatedAt}
	if kind == audit.EventRevised {
		e.Precedence = b.Precedence
	}
	out, err := n.receiptsOf(audit.Evidence{Header: att}, e)
	if err != nil {
		return nil, nil, problem.Internal(err)
	}
	if kind != audit.EventRevised {
		return copies, out, nil
	}
	var events []audit.Event
	for _, r := range b.Recipients {
		events = append(events, audit.Event{Kind: audit.EventReleased, BulletinID: b.ID, Origin: b.Origin, State: r,
			Actor: n.nodeID(), Revision: rev, At: b.CreatedAt})
	}
	released, err := n.receiptsOf(audit.Evidence{}, events...)
	if err != nil {
		return nil, nil, problem.Internal(err)
	}
	return copies, append(out, released...), nil
}

// commitChange commits this node's change b with its copies and receipts
// and waits for the copies as a post does.
func (n *Node) commitChange(ctx context.Context, b *bulletin.Bulletin, copies []store.Copy, receipts []store.Receipt, c changed) (changed, error) {
	since := n.out.rounds.Load()
	a, err := n.store.Apply(ctx, store.Change{Bulletin: *b, Direction: store.Sent, At: b.CreatedAt, Copies: copies,
		Receipts: receipts, MaxPending: n.maxPendingCopies()})
	switch {
	case errors.Is(err, store.ErrOutboxFull):
		return changed{}, n.outboxFull(err)
	case err != nil:
		return changed{}, storeProblem(err)
	}
	wakeUp(n.out.wake)
	wakeUp(n.audit.wake)
	n.hub.notify()
	n.log.Info("bulletin changed", "kind", b.Kind().String(), "bulletin_id", b.ID, "revision", b.RevisionNumber(),
		"recipients", len(c.told), "withdrawn", len(c.withdraw), "added", len(c.added))
	c.rec = a.Record
	c.pending = n.awaitCopies(ctx, since, n.self.State, b.ID, append(slices.Clone(c.told), c.withdraw...))
	return c, nil
}

// revoke revokes bulletin id, this state's own, for reason.
func (n *Node) revoke(ctx context.Context, id, reason string) (changed, error) {
	p := nodeserver.Caller(ctx)
	if err := checkReason("reason", reason, true); err != nil {
		return changed{}, err
	}
	rec, err := n.own(ctx, "revoke", p, id)
	if err != nil {
		return changed{}, err
	}
	old := &rec.Bulletin
	if err := n.policy.Revoke(p, old).Err(); err != nil {
		return changed{}, n.refused("revoke", p, old.Origin, old.ID, err)
	}
	// The revocation is the bulletin's last revision: no earlier copy,
	// revision or narrowing revocation can replace it anywhere.
	t := old.Tombstone(bulletin.Revocation{Reason: reason, By: p.ID(n.cfg.TrustDomain).String(), At: n.now().UTC()},
		old.RevisionNumber()+1)
	if err := t.Validate(); err != nil {
		return changed{}, err
	}
	copies, receipts, err := n.sealed(ctx, &t, audit.EventRevocation)
	if err != nil {
		return changed{}, err
	}
	return n.commitChange(ctx, &t, copies, receipts, changed{told: t.Recipients})
}

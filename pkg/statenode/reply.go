package statenode

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/oklog/ulid/v2"
	"google.golang.org/protobuf/proto"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/store"
)

// Replies. A reply is a small bulletin of the replying state's: sealed
// and signed by its node, threaded under the message it answers (a
// bulletin, or a reply), addressed to that message's origin only or to
// its origin and every state it was released to (never wider), marked at
// least as strictly, with its category, precedence and language. It is
// posted as a bulletin is (one transaction with its copies and its posted
// and released receipts, idempotent by the author's key), so the
// secretariat audits its delivery and shows in the answered bulletin's
// report that it happened and when.

// reply replies to bulletin (req.origin, req.id) for the caller.
func (n *Node) reply(ctx context.Context, req *iantv1.ReplyToBulletinRequest) (store.Record, []string, error) {
	p, err := n.requireReader(ctx, "reply to bulletins")
	if err != nil {
		return store.Record{}, nil, n.refused("reply", p, req.GetOrigin(), req.GetId(), err)
	}
	kind, audience, err := replyFields(req)
	if err != nil {
		return store.Record{}, nil, err
	}
	rec, err := n.lookup(ctx, req.GetOrigin(), req.GetId())
	if err != nil {
		return store.Record{}, nil, err
	}
	parent := &rec.Bulletin
	if parent.Revoked {
		return store.Record{}, nil, problem.Invalid("id", "bulletin %s of %s was revoked: it is not replied to", parent.ID, parent.Origin)
	}
	if err := n.mayRead("reply", p, &rec); err != nil {
		return store.Record{}, nil, err
	}
	msg, err := n.replyMessage(p, &rec, req, kind, audience)
	if err != nil {
		return store.Record{}, nil, err
	}
	d := n.policy.Reply(p, n.attrs(p), n.heldView(&rec), policy.Reply{Kind: kind, Marking: msg.Marking,
		ToRecipients: audience == bulletin.AudienceRecipients})
	if err := d.Err(); err != nil {
		return store.Record{}, nil, n.refused("reply", p, parent.Origin, parent.ID, err)
	}
	if err := msg.Validate(); err != nil {
		return store.Record{}, nil, err
	}
	if err := n.resolveRecipients(p, msg, "reply"); err != nil {
		return store.Record{}, nil, err
	}
	key, err := replyKey(p.ID(n.cfg.TrustDomain).String(), req)
	if err != nil {
		return store.Record{}, nil, err
	}
	since := n.out.rounds.Load()
	out, err := n.commitPost(ctx, msg, key)
	if err != nil {
		return store.Record{}, nil, err
	}
	return out, n.awaitCopies(ctx, since, n.self.State, out.Bulletin.ID, out.Bulletin.Recipients), nil
}

// replyFields checks the kind and audience of req.
func replyFields(req *iantv1.ReplyToBulletinRequest) (bulletin.ReplyKind, bulletin.ReplyAudience, error) {
	kind := bulletin.ReplyKind(req.GetKind())
	if !kind.Valid() {
		return 0, 0, problem.Invalid("kind", "reply kind is required: sighting, rfi, answer or note")
	}
	audience := bulletin.ReplyAudience(req.GetTo())
	switch {
	case audience == bulletin.AudienceUnspecified:
		audience = bulletin.AudienceOrigin
	case !audience.Valid():
		return 0, 0, problem.Invalid("to", "unknown audience %d: origin or recipients", int(audience))
	}
	switch {
	case kind == bulletin.ReplySighting && req.GetSighting() == nil:
		return 0, 0, problem.Invalid("sighting", "a sighting says what was seen: seen, not-seen, false-positive or true-positive")
	case kind != bulletin.ReplySighting && req.GetSighting() != nil:
		return 0, 0, problem.Invalid("sighting", "only a sighting carries sighting facts (seen at, place)")
	}
	return kind, audience, nil
}

// replyMessage is the reply of p to rec that req describes: addressed,
// marked and classified from what it answers.
func (n *Node) replyMessage(p identity.Principal, rec *store.Record, req *iantv1.ReplyToBulletinRequest,
	kind bulletin.ReplyKind, audience bulletin.ReplyAudience) (*bulletin.Bulletin, error) {
	parent := &rec.Bulletin
	marking := bulletin.Marking(req.GetMarking())
	switch {
	case marking == bulletin.MarkingUnspecified:
		marking = parent.Marking
	case !marking.Valid():
		return nil, problem.Invalid("marking", "unknown marking %d", int(marking))
	}
	to := []string{parent.Origin}
	if audience == bulletin.AudienceRecipients {
		to = append(to, n.heldView(rec).Recipients...)
	}
	to = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(to))), func(s string) bool { return s == n.self.State })
	now := n.now().UTC()
	b := &bulletin.Bulletin{ID: ulid.MustNew(ulid.Timestamp(now), rand.Reader).String(), Origin: n.self.State,
		Author: p.ID(n.cfg.TrustDomain).String(), CreatedAt: now, Precedence: parent.Precedence, Category: parent.Category,
		Language: parent.Language, Marking: marking, Releasability: bulletin.Releasability{States: to}, Recipients: to,
		Title: req.GetTitle(), Body: req.GetBody(), Revision: 1,
		Reply: &bulletin.Reply{Kind: kind, InReplyTo: bulletin.Ref{Origin: parent.Origin, ID: parent.ID}, Audience: audience}}
	if s := req.GetSighting(); s != nil {
		seen, err := timeOf(s.GetSeenTime(), "sighting.seen_time")
		if err != nil {
			return nil, err
		}
		if seen.After(now) {
			return nil, problem.Invalid("sighting.seen_time", "seen time %s is in the future", seen.Format("2006-01-02T15:04:05Z07:00"))
		}
		b.Reply.Sighting = &bulletin.Sighting{Kind: bulletin.SightingKind(s.GetKind()), SeenAt: seen, Place: s.GetPlace()}
	}
	if len(to) == 0 {
		return nil, problem.Invalid("to", "the reply would reach no state")
	}
	return b, nil
}

// replyKey is the idempotency key of req, as postKey is a post's.
func replyKey(author string, req *iantv1.ReplyToBulletinRequest) (*store.PostKey, error) {
	k := req.GetIdempotencyKey()
	if k == "" {
		return nil, nil
	}
	if err := checkIdempotencyKey(k); err != nil {
		return nil, err
	}
	r := proto.Clone(req).(*iantv1.ReplyToBulletinRequest)
	r.IdempotencyKey = ""
	draft, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	if err != nil {
		return nil, problem.Internal(fmt.Errorf("encode reply: %w", err))
	}
	return &store.PostKey{Author: author, Key: "reply:" + k, DraftHash: sha256.Sum256(draft)}, nil
}

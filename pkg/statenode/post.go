package statenode

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/oklog/ulid/v2"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// post issues a bulletin drafted by a focal point: it completes the
// node-set fields, seals one copy per recipient state and commits the
// sent bulletin, its copies and its posted and released receipts in one
// transaction of the node's database: from then on the post is decided
// and nothing of it is lost. The drainer publishes the copies (outbox.go);
// post waits a short time for it and returns the recipients whose copies
// still wait. A request whose idempotency key was committed before
// returns that post's bulletin and commits nothing new.
func (n *Node) post(ctx context.Context, req *iantv1.PostBulletinRequest) (store.Record, []string, error) {
	author, err := nodeserver.RequireRole(ctx, "post.role", "post bulletins (only focal points post)", identity.RoleFocalPoint)
	if err != nil {
		return store.Record{}, nil, err
	}
	if err := n.diskRoom(); err != nil {
		return store.Record{}, nil, err
	}
	key, err := postKey(author.ID(n.cfg.TrustDomain).String(), req)
	if err != nil {
		return store.Record{}, nil, err
	}
	if key != nil {
		since := n.out.rounds.Load()
		rec, found, err := n.store.LookupPost(ctx, *key)
		switch {
		case err != nil:
			return store.Record{}, nil, storeProblem(err)
		case found:
			wakeUp(n.out.wake) // a round that tries what still waits
			n.log.Info("post retried: the bulletin committed before is returned", "bulletin_id", rec.Bulletin.ID, "peer", author.String())
			return rec, n.awaitCopies(ctx, since, n.self.State, rec.Bulletin.ID, rec.Bulletin.Recipients), nil
		}
	}
	release, err := n.admitPost(ctx, req.GetBulletin().GetPrecedence())
	if err != nil {
		return store.Record{}, nil, err
	}
	defer release()
	b, err := n.completeDraft(author, req.GetBulletin())
	if err != nil {
		return store.Record{}, nil, err
	}
	rec, err := n.commitPost(ctx, &b, key)
	if err != nil {
		return store.Record{}, nil, err
	}
	// Only drain rounds that start after the commit tried its copies: an
	// earlier round's failure says nothing about them.
	since := n.out.rounds.Load()
	return rec, n.awaitCopies(ctx, since, n.self.State, rec.Bulletin.ID, rec.Bulletin.Recipients), nil
}

// completeDraft checks a focal point's draft, sets the node-set fields,
// asks the policy whether author may post it and to which states it is
// released, and returns the bulletin to send.
func (n *Node) completeDraft(author identity.Principal, draft *iantv1.Bulletin) (bulletin.Bulletin, error) {
	b, err := bulletinFromProto(draft)
	if err != nil {
		return bulletin.Bulletin{}, err
	}
	if err := checkNodeSetFields(&b, n.self.State); err != nil {
		return bulletin.Bulletin{}, err
	}
	if err := ownTranslations(&b, n.self.State, author.ID(n.cfg.TrustDomain).String()); err != nil {
		return bulletin.Bulletin{}, err
	}
	if err := b.ValidateDraft(); err != nil {
		return bulletin.Bulletin{}, err
	}
	now := n.now().UTC()
	if !b.ExpiresAt.IsZero() && !b.ExpiresAt.After(now) {
		return bulletin.Bulletin{}, problem.Invalid("expire_time", "expire time %s is in the past", b.ExpiresAt.Format("2006-01-02T15:04:05Z07:00"))
	}
	if err := n.policy.CheckConditions(b.Conditions); err != nil {
		return bulletin.Bulletin{}, err
	}
	b.ID = ulid.MustNew(ulid.Timestamp(now), rand.Reader).String()
	b.Origin = n.self.State
	b.Author = author.ID(n.cfg.TrustDomain).String()
	b.CreatedAt = now
	b.Revision = 1
	if b.Recipients, err = n.resolveRecipients(&b); err != nil {
		return bulletin.Bulletin{}, err
	}
	if len(b.Recipients) == 0 {
		return bulletin.Bulletin{}, problem.Invalid("releasability", "releasability reaches no state but your own (%s): release to at least one other state", b.Origin)
	}
	if err := b.Validate(); err != nil {
		return bulletin.Bulletin{}, err
	}
	if err := n.policy.Post(author, &b).Err(); err != nil {
		return bulletin.Bulletin{}, n.refused("post", author, b.Origin, b.ID, err)
	}
	allowed, refused := n.policy.Recipients(&b)
	for state, d := range refused {
		n.log.Info("release refused by policy", "bulletin_id", b.ID, "recipient", state, "rule", d.Rule())
	}
	if len(allowed) == 0 { // it would reach nobody: refused by the first state's rule
		first := slices.Sorted(maps.Keys(refused))[0]
		return bulletin.Bulletin{}, n.refused("release", author, b.Origin, b.ID, refused[first].Err())
	}
	b.Recipients = allowed
	return b, nil
}

// commitPost seals b for its recipients and commits it with its copies,
// receipts and key, then wakes the drainers. When key names a post
// committed meanwhile (a concurrent retry), that post's record is
// returned and b is dropped.
func (n *Node) commitPost(ctx context.Context, b *bulletin.Bulletin, key *store.PostKey) (store.Record, error) {
	copies, sealed, err := n.sealCopies(ctx, b)
	if err != nil {
		return store.Record{}, err
	}
	var receipts []store.Receipt
	if sealed != nil { // released to no state: there is no signed header to report
		if receipts, err = n.postedReceipts(b, sealed); err != nil {
			return store.Record{}, problem.Internal(fmt.Errorf("receipts of bulletin %s: %w", b.ID, err))
		}
	}
	rec, existing, err := n.store.CommitPost(ctx, store.Post{Bulletin: *b, At: b.CreatedAt, Copies: copies,
		Receipts: receipts, Key: key, MaxPending: n.maxPendingCopies()})
	if errors.Is(err, store.ErrOutboxFull) {
		return store.Record{}, n.outboxFull(err)
	}
	if err != nil {
		return store.Record{}, storeProblem(err)
	}
	if existing {
		n.log.Info("post retried concurrently: the bulletin committed first is returned", "bulletin_id", rec.Bulletin.ID)
		return rec, nil
	}
	wakeUp(n.out.wake)
	wakeUp(n.audit.wake)
	n.hub.notify()
	n.ops.met.Posted(b.Precedence)
	n.log.Info("bulletin posted", "bulletin_id", b.ID, "precedence", b.Precedence.String(),
		"marking", b.Marking.String(), "recipients", len(b.Recipients))
	return rec, nil
}

// sealCopies seals b once and returns the copy of each recipient, in the
// order of b.Recipients; none when it has no recipient. A copy the
// backbone would refuse as too large is refused here, before anything is
// committed.
func (n *Node) sealCopies(ctx context.Context, b *bulletin.Bulletin) ([]store.Copy, *seal.Sealed, error) {
	if len(b.Recipients) == 0 {
		return nil, nil, nil
	}
	sealed, err := n.sealFor(ctx, b, b.Recipients)
	if err != nil {
		n.log.Warn("seal failed", "bulletin_id", b.ID, "err", err)
		n.observeSealFailed(err)
		return nil, nil, err
	}
	data, err := marshalCopies(sealed)
	if err != nil {
		return nil, nil, problem.Internal(fmt.Errorf("copies of bulletin %s: %w", b.ID, err))
	}
	copies := make([]store.Copy, len(data))
	for i, d := range data {
		if len(d) > backbone.MaxDataSize {
			return nil, nil, problem.Invalid("bulletin", "the sealed copy for %s is %d bytes, more than the backbone's %d; shorten the body or the indicators",
				b.Recipients[i], len(d), backbone.MaxDataSize)
		}
		copies[i] = store.Copy{Recipient: b.Recipients[i], Origin: b.Origin, BulletinID: b.ID, Data: d,
			Kind: int(b.Kind()), Revision: b.RevisionNumber()}
	}
	return copies, sealed, nil
}

// storeProblem passes on an error of the store that a person must see
// (its kind set: a reused key, a full outbox, a closed store) and hides
// any other behind Internal.
func storeProblem(err error) error {
	var pe *problem.Error
	if errors.As(err, &pe) && pe.Kind != problem.KindInternal {
		return err
	}
	return problem.Internal(err)
}

// checkNodeSetFields refuses drafts that try to set what only the node sets.
func checkNodeSetFields(b *bulletin.Bulletin, state string) error {
	switch {
	case b.ID != "":
		return problem.Invalid("id", "id is set by the node; leave it empty")
	case b.Origin != "" && b.Origin != state:
		return problem.Denied("post.own_origin", "a focal point of %s may post only as %s, not as %q", state, state, b.Origin)
	case b.Author != "":
		return problem.Invalid("author", "author is taken from your certificate; leave it empty")
	case !b.CreatedAt.IsZero():
		return problem.Invalid("create_time", "create time is set by the node; leave it empty")
	case len(b.Recipients) > 0:
		return problem.Invalid("recipients", "recipients are resolved by the node from releasability; leave them empty")
	case b.Revoked || b.Revocation != nil:
		return problem.Invalid("revoked", "a bulletin is revoked with RevokeBulletin, not by a field of its draft")
	case b.Revision != 0:
		return problem.Invalid("revision", "the revision is set by the node; leave it empty")
	case !b.FirstCreatedAt.IsZero():
		return problem.Invalid("first_create_time", "the first version's create time is set by the node; leave it empty")
	case b.Reply != nil:
		return problem.Invalid("reply", "a reply is sent with ReplyToBulletin")
	case b.Consent != nil:
		return problem.Invalid("consent", "consent is asked with RequestForwardConsent")
	}
	return nil
}

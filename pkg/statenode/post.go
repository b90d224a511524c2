package statenode

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/oklog/ulid/v2"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// post issues a bulletin drafted by a focal point: it completes the
// node-set fields, publishes one copy per recipient state (each publish
// acknowledgement is a commit point on the backbone) and stores it as sent.
// The author is answered only after every recipient's copy is committed.
func (n *Node) post(ctx context.Context, draft *iantv1.Bulletin) (store.Record, error) {
	author, err := nodeserver.RequireRole(ctx, "post.role", "post bulletins (only focal points post)", identity.RoleFocalPoint)
	if err != nil {
		return store.Record{}, err
	}
	b, err := bulletinFromProto(draft)
	if err != nil {
		return store.Record{}, err
	}
	if err := checkNodeSetFields(&b, n.self.State); err != nil {
		return store.Record{}, err
	}
	if err := b.ValidateDraft(); err != nil {
		return store.Record{}, err
	}
	now := n.now().UTC()
	if !b.ExpiresAt.IsZero() && !b.ExpiresAt.After(now) {
		return store.Record{}, problem.Invalid("expire_time", "expire time %s is in the past", b.ExpiresAt.Format("2006-01-02T15:04:05Z07:00"))
	}
	if err := n.policy.CheckConditions(b.Conditions); err != nil {
		return store.Record{}, err
	}
	b.ID = ulid.MustNew(ulid.Timestamp(now), rand.Reader).String()
	b.Origin = n.self.State
	b.Author = author.ID(n.cfg.TrustDomain).String()
	b.CreatedAt = now
	b.Recipients = bulletin.Recipients(b.Origin, b.Releasability)
	if err := b.Validate(); err != nil {
		return store.Record{}, err
	}
	if err := n.policy.Post(author, &b).Err(); err != nil {
		return store.Record{}, n.refused("post", author, b.ID, err)
	}
	allowed, refused := n.policy.Recipients(&b)
	for state, d := range refused {
		n.log.Info("release refused by policy", "bulletin_id", b.ID, "recipient", state, "rule", d.Rule())
	}
	b.Recipients = allowed
	var sealed *seal.Sealed
	if len(b.Recipients) > 0 {
		if sealed, err = n.sealFor(ctx, &b, b.Recipients); err != nil {
			n.log.Warn("seal failed", "bulletin_id", b.ID, "err", err)
			return store.Record{}, err
		}
		if err := n.releaseCopies(ctx, &b, sealed); err != nil {
			return store.Record{}, err
		}
	}
	rec, _, err := n.store.Put(ctx, b, store.Sent, now)
	if err != nil {
		return store.Record{}, problem.Internal(fmt.Errorf("store sent bulletin %s: %w", b.ID, err))
	}
	n.hub.notify()
	n.emitPosted(&b, sealed)
	n.log.Info("bulletin posted", "bulletin_id", b.ID, "precedence", b.Precedence.String(),
		"marking", b.Marking.String(), "recipients", len(b.Recipients))
	return rec, nil
}

// releaseCopies publishes each recipient's copy of sealed b to its inbox
// and returns once each publish is acknowledged, that is synced by the
// backbone. The copies go out concurrently (at most [MaxInflightCopies] at a
// time), so a broadcast waits for about one round trip, not one per
// state; the first failure is returned after every publish has ended.
func (n *Node) releaseCopies(ctx context.Context, b *bulletin.Bulletin, sealed *seal.Sealed) error {
	copies, err := marshalCopies(sealed)
	if err != nil {
		return problem.Internal(fmt.Errorf("copies of bulletin %s: %w", b.ID, err))
	}
	errs := make([]error, len(b.Recipients))
	forEachLimit(len(b.Recipients), MaxInflightCopies, func(i int) {
		r := b.Recipients[i]
		if _, err := n.bb.PublishInbox(ctx, r, b.Origin, b.ID, copies[i]); err != nil {
			n.log.Warn("release failed", "bulletin_id", b.ID, "recipient", r, "err", err)
			errs[i] = err
		}
	})
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return err
		default:
			return problem.Unavailable(err, "backbone unavailable: bulletin not released to %s; post again later", b.Recipients[i])
		}
	}
	return nil
}

// MaxInflightCopies bounds the copies of one bulletin being published at
// once. A few in flight save most of the round trips; all 34 of a
// broadcast at once made the backbone collapse at 20 broadcasts/s: the
// server syncs each copy in turn, queued copies wait past the publish
// attempt timeout (2 s) and are sent again, and the resends queue too.
const MaxInflightCopies = 8

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
	case b.Revoked:
		return problem.Invalid("revoked", "a new bulletin cannot be revoked")
	}
	return nil
}

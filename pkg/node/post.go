package node

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
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// post issues a bulletin drafted by a focal point: it completes the
// node-set fields, publishes one copy per recipient state (each publish
// acknowledgement is a commit point on the backbone) and stores it as sent.
// The author is answered only after every recipient's copy is committed.
func (n *Node) post(ctx context.Context, draft *iantv1.Bulletin) (store.Record, error) {
	if n.self.Role != identity.RoleNode {
		return store.Record{}, problem.Denied("post.node", "bulletins are posted at a member state's node")
	}
	author, err := requireRole(ctx, "post.role", "post bulletins (only focal points post)", identity.RoleFocalPoint)
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
	if len(b.Recipients) == 0 {
		return store.Record{}, problem.Invalid("releasability", "releasability reaches no state but your own (%s): release to at least one other state", b.Origin)
	}
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
	if len(allowed) == 0 { // it would reach nobody: refused by the first state's rule
		first := slices.Sorted(maps.Keys(refused))[0]
		return store.Record{}, n.refused("release", author, b.ID, refused[first].Err())
	}
	b.Recipients = allowed
	sealed, err := n.sealFor(ctx, &b, b.Recipients)
	if err != nil {
		n.log.Warn("seal failed", "bulletin_id", b.ID, "err", err)
		return store.Record{}, err
	}
	if err := n.releaseCopies(ctx, &b, sealed); err != nil {
		return store.Record{}, err
	}
	rec, _, err := n.store.Put(ctx, b, store.Sent, now)
	if err != nil {
		return store.Record{}, problem.Internal(fmt.Errorf("store sent bulletin %s: %w", b.ID, err))
	}
	n.hub.notify()
	n.emitPosted(&b)
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
	_, inserted, err := n.store.Put(ctx, b, store.Received, n.now().UTC())
	switch {
	case errors.Is(err, store.ErrConflict):
		return reject(m, "replay", err)
	case err != nil:
		return fmt.Errorf("store received bulletin %s: %w", b.ID, err)
	}
	n.emitDelivered(&b)
	if inserted {
		n.hub.notify()
		n.log.Info("bulletin received", "bulletin_id", b.ID, "origin", b.Origin)
	}
	return nil
}

func (n *Node) reject(m backbone.Msg, rule string, err error) error {
	n.log.Warn("rejected inbox message", "subject", m.Subject, "origin", m.Origin, "bulletin_id", m.ID, "rule", "receive."+rule, "err", err)
	n.emitRejected(m, rule)
	return fmt.Errorf("%w: %s: %v", backbone.ErrReject, rule, err)
}

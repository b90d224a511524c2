package statenode

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/store"
)

// Translations. A focal point of a state a bulletin was released to adds
// a translation of it: a message of its own state's (kind translation,
// naming the bulletin), sealed and signed by its node and sent to the
// bulletin's origin and the recipients its node knows (the origin alone
// for a confidential audience). Every node holding the bulletin adds it
// as that state's translation, committed with its copies and receipts
// (the secretariat audits its delivery like a reply's). A translation is
// of the revision held; a later revision replaces it.

// translate adds the translation req describes for the caller.
func (n *Node) translate(ctx context.Context, req *iantv1.TranslateBulletinRequest) (store.Record, []string, error) {
	p, err := n.requireReader(ctx, "translate bulletins")
	if err != nil {
		return store.Record{}, nil, n.refused("translate", p, req.GetOrigin(), req.GetId(), err)
	}
	now := n.now().UTC()
	tr := bulletin.Translation{Language: bulletin.Language(req.GetLanguage()), Title: req.GetTitle(), Body: req.GetBody(),
		By: n.self.State, Translator: p.ID(n.cfg.TrustDomain).String(), At: now}
	if err := tr.Validate("translation"); err != nil {
		return store.Record{}, nil, err
	}
	rec, err := n.lookup(ctx, req.GetOrigin(), req.GetId())
	if err != nil {
		return store.Record{}, nil, err
	}
	msg, err := n.translationMessage(p, &rec, tr)
	if err != nil {
		return store.Record{}, nil, err
	}
	if err := n.releaseTo(p, msg, "translate"); err != nil {
		return store.Record{}, nil, err
	}
	if err := msg.Validate(); err != nil {
		return store.Record{}, nil, err
	}
	copies, sealed, err := n.sealCopies(ctx, msg)
	if err != nil {
		return store.Record{}, nil, err
	}
	receipts, err := n.postedReceipts(msg, sealed)
	if err != nil {
		return store.Record{}, nil, problem.Internal(fmt.Errorf("receipts of translation %s: %w", msg.ID, err))
	}
	parent := &rec.Bulletin
	since := n.out.rounds.Load()
	a, err := n.store.AddTranslation(ctx, store.Translation{Origin: parent.Origin, ID: parent.ID, Revision: parent.RevisionNumber(),
		Translation: tr, At: now, Copies: copies, Receipts: receipts})
	if err != nil {
		return store.Record{}, nil, storeProblem(err)
	}
	wakeUp(n.out.wake)
	wakeUp(n.audit.wake)
	n.hub.notify()
	n.log.Info("translation added", "bulletin_id", parent.ID, "origin", parent.Origin, "kind", tr.Language.String(),
		"recipients", len(msg.Recipients))
	return a.Record, n.awaitCopies(ctx, since, n.self.State, msg.ID, msg.Recipients), nil
}

// translationMessage checks that p may translate rec into tr's language
// and returns the message that carries it, addressed to the origin and
// the recipients this node knows of.
func (n *Node) translationMessage(p identity.Principal, rec *store.Record, tr bulletin.Translation) (*bulletin.Bulletin, error) {
	parent := &rec.Bulletin
	switch {
	case parent.Revoked:
		return nil, problem.Invalid("id", "bulletin %s of %s was revoked: it is not translated", parent.ID, parent.Origin)
	case parent.Kind() != bulletin.KindBulletin && parent.Kind() != bulletin.KindRevision:
		return nil, problem.Invalid("id", "%s %s is not a bulletin: only bulletins are translated", parent.Kind(), parent.ID)
	}
	if err := n.mayRead("translate", p, rec); err != nil {
		return nil, err
	}
	if rec.ForwardedBy != "" {
		err := problem.Denied("translate.released", "%s holds bulletin %s through %s's forward: only the states its origin released it to translate it",
			n.self.State, parent.ID, rec.ForwardedBy)
		return nil, n.refused("translate", p, parent.Origin, parent.ID, err)
	}
	if err := n.policy.Translate(p, n.attrs(p), n.heldView(rec), tr.Language).Err(); err != nil {
		return nil, n.refused("translate", p, parent.Origin, parent.ID, err)
	}
	return n.translationOf(parent, tr, tr.At), nil
}

// translationOf is this state's message, created at (tr.At: a
// translation is dated when it was added), carrying its translation tr
// of parent, addressed to the origin and the recipients
// this node knows of.
func (n *Node) translationOf(parent *bulletin.Bulletin, tr bulletin.Translation, at time.Time) *bulletin.Bulletin {
	to := append([]string{parent.Origin}, parent.Recipients...)
	to = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(to))), func(s string) bool { return s == n.self.State })
	author := tr.Translator
	if author == "" {
		author = n.nodeID()
	}
	return &bulletin.Bulletin{ID: ulid.MustNew(ulid.Timestamp(at), rand.Reader).String(), Origin: n.self.State,
		Author: author, CreatedAt: at, Precedence: parent.Precedence, Category: parent.Category,
		Language: tr.Language, Marking: parent.Marking, Releasability: bulletin.Releasability{States: to}, Recipients: to,
		Revision: 1, Translated: &bulletin.Translated{Of: bulletin.Ref{Origin: parent.Origin, ID: parent.ID},
			Revision: parent.RevisionNumber(), Translation: tr}}
}

// admitTranslation admits translation message b: this state holds the
// bulletin it translates, unrevoked, its origin released it to the
// translating state (as far as this node knows the audience), and it is
// marked as the bulletin is.
func (n *Node) admitTranslation(ctx context.Context, b *bulletin.Bulletin) (string, error) {
	of := b.Translated.Of
	rec, err := n.store.Get(ctx, of.Origin, of.ID)
	switch {
	case problem.KindOf(err) == problem.KindNotFound:
		return "translation", fmt.Errorf("a translation of %s, which this state does not hold", of)
	case err != nil:
		return "", fmt.Errorf("%w: %w", errTemporary, err)
	}
	parent := &rec.Bulletin
	switch {
	case rec.Withdrawn():
		return "translation", fmt.Errorf("a translation of %s, which is withdrawn here (%s declared its signing key compromised)", of, of.Origin)
	case parent.Revoked:
		return "translation", fmt.Errorf("a translation of %s, which was revoked", of)
	case b.Origin == parent.Origin || !parent.ReleasedTo(b.Origin):
		return "translation", fmt.Errorf("%s translates %s, which its origin did not release to it", b.Origin, of)
	case b.Marking != parent.Marking:
		return "translation", fmt.Errorf("a translation of %s marked %s, the bulletin %s", of, b.Marking, parent.Marking)
	case b.Translated.Revision > parent.RevisionNumber():
		return "", fmt.Errorf("%w: a translation of revision %d of %s, revision %d held: it waits for that revision",
			errTemporary, b.Translated.Revision, of, parent.RevisionNumber())
	}
	if err := n.policy.Release(b, n.self.State).Err(); err != nil {
		return "release", err
	}
	return "", nil
}

// applyTranslation adds received translation o to the bulletin it
// translates, with this node's delivered receipt.
func (n *Node) applyTranslation(ctx context.Context, m backbone.Msg, o *opened, reject func(backbone.Msg, string, error) error) error {
	b := &o.bulletin
	at := n.now().UTC()
	rs, err := n.receiptsOf(o.evidence, audit.Event{Kind: audit.EventDelivered, BulletinID: b.ID, Origin: b.Origin,
		State: n.self.State, Actor: n.nodeID(), Precedence: b.Precedence, At: at})
	if err != nil {
		return reject(m, "validate", err)
	}
	t := b.Translated
	a, err := n.store.AddTranslation(ctx, store.Translation{Origin: t.Of.Origin, ID: t.Of.ID, Revision: t.Revision,
		Translation: t.Translation, At: at, SignKey: signKeyOfCopy(m.Data), Receipts: rs})
	switch {
	case errors.Is(err, store.ErrStale), errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound),
		errors.Is(err, store.ErrWithdrawn):
		return reject(m, "translation", err)
	case err != nil:
		return fmt.Errorf("store the translation %s of %s: %w", b.ID, t.Of, err)
	}
	wakeUp(n.audit.wake)
	if a.Changed {
		n.hub.notify()
		n.log.Info("translation received", "bulletin_id", t.Of.ID, "origin", t.Of.Origin, "translated_by", b.Origin)
	}
	return nil
}

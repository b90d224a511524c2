package statenode

import (
	"context"
	"slices"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/store"
)

// The read decision point (DESIGN.md, "Per-message access policy"). Every
// call that hands a person a bulletin's content — GetBulletin,
// ListBulletins, Subscribe, AcknowledgeBulletin, ForwardBulletin, the
// TAXII source — asks readDecision, through one of two doors:
//
//   - mayRead, for an explicit request about one bulletin (get,
//     acknowledge, forward): a refusal is a PermissionDenied naming the
//     rule, logged and audited;
//   - visible, for a stream (lists, subscriptions, TAXII pages and object
//     lookups): a bulletin the person may not read is left out. That is
//     filtering, not a refusal: it is logged at debug level only, so a
//     listing never floods the audit log with one refusal per hidden
//     bulletin.
//
// ExplainRead answers with the same decision.

// heldView is rec's bulletin as this node's policy reads it: a bulletin
// stored after a forward the policy allowed (not released to this state
// by its origin) counts this state among its holders.
func (n *Node) heldView(rec *store.Record) *bulletin.Bulletin {
	b := &rec.Bulletin
	if b.ReleasedTo(n.self.State) || rec.Direction == store.Sent {
		return b
	}
	held := *b
	held.Recipients = append(slices.Clone(b.Recipients), n.self.State)
	return &held
}

// readDecision is the read decision for person p of this state about
// rec: the one place it is made.
func (n *Node) readDecision(p identity.Principal, rec *store.Record) policy.Decision {
	return n.policy.Read(p, n.attrs(p), n.heldView(rec))
}

// mayRead asks the read decision for an explicit request of p (action
// names it in the log and the audit) about rec, and returns the refusal,
// audited.
func (n *Node) mayRead(action string, p identity.Principal, rec *store.Record) error {
	if err := n.readDecision(p, rec).Err(); err != nil {
		return n.refused(action, p, rec.Bulletin.Origin, rec.Bulletin.ID, err)
	}
	return nil
}

// visible asks the read decision for a stream of p: whether rec is shown.
func (n *Node) visible(p identity.Principal, rec *store.Record) bool {
	d := n.readDecision(p, rec)
	if !d.Allowed {
		n.log.Debug("bulletin filtered out", "peer", p.String(), "bulletin_id", rec.Bulletin.ID,
			"origin", rec.Bulletin.Origin, "rule", d.Rule())
	}
	return d.Allowed
}

// readablePage returns the first f.Limit records, in f's order, that
// fetch (the store's List or Search under a filter) finds and person p
// may read, fetching past the records p may not read; full says the page
// is full, and then its last record's cursor is where the next page
// starts. The page and its token thus depend only on what p may read: a
// page cut short by hidden records, or a token on an empty page, would
// tell p that bulletins they may not read match the query (for a search,
// that one of them holds the words asked for).
func (n *Node) readablePage(p identity.Principal, f store.Filter, fetch func(store.Filter) ([]store.Record, error)) (page []store.Record, full bool, err error) {
	limit := f.Limit
	f.Limit = max(limit, defaultPageSize)
	for {
		recs, err := fetch(f)
		if err != nil {
			return nil, false, err
		}
		for i := range recs {
			if !n.visible(p, &recs[i]) {
				continue
			}
			if page = append(page, recs[i]); len(page) == limit {
				return page, true, nil
			}
		}
		if len(recs) < f.Limit {
			return page, false, nil
		}
		if last := recs[len(recs)-1].Cursor; f.Descending {
			f.BeforeCursor = last
		} else {
			f.AfterCursor = last
		}
	}
}

// newestReadable returns the cursor of the newest record p may read,
// expired or not (0 if there is none). No page token or resume cursor
// this node gave p lies beyond it, so a token beyond it is refused — and
// only such a token: measured against the newest record stored, readable
// or not, the refusal of the cursor after the newest bulletin p may read
// turned into an empty page the moment a bulletin p may not read (a
// TLP:RED one) arrived, telling p of it as it happened. An expired
// record counts (it was listed while it was not): it is judged as if it
// had no expiry.
func (n *Node) newestReadable(ctx context.Context, p identity.Principal) (uint64, error) {
	f := store.Filter{Descending: true, IncludeRevoked: true, Limit: defaultPageSize}
	for {
		recs, err := n.store.List(ctx, f)
		if err != nil {
			return 0, err
		}
		for i := range recs {
			r := recs[i]
			r.Bulletin.ExpiresAt = time.Time{}
			if n.readDecision(p, &r).Allowed {
				return r.Cursor, nil
			}
		}
		if len(recs) < f.Limit {
			return 0, nil
		}
		f.BeforeCursor = recs[len(recs)-1].Cursor
	}
}

// lookup finds a bulletin this node holds by id and, optionally, origin;
// an id it does not hold is not found, whether or not it exists
// elsewhere. An id held from several origins without origin is
// InvalidArgument naming the field origin.
func (n *Node) lookup(ctx context.Context, origin, id string) (store.Record, error) {
	switch {
	case id == "":
		return store.Record{}, problem.Invalid("id", "id is required")
	case len(id) > 64:
		return store.Record{}, problem.Invalid("id", "id is too long")
	case origin != "" && !region.IsMember(origin):
		return store.Record{}, problem.Invalid("origin", "origin %q is not a member state code", origin)
	}
	rec, err := n.store.Get(ctx, origin, id)
	switch problem.KindOf(err) {
	case problem.KindNotFound:
		if origin != "" {
			return store.Record{}, problem.NotFound("bulletin %s from %s not found at %s's node", id, origin, n.self.State)
		}
		return store.Record{}, problem.NotFound("bulletin %s not found at %s's node", id, n.self.State)
	case problem.KindInvalid:
		return store.Record{}, err
	}
	if err != nil {
		return store.Record{}, problem.Internal(err)
	}
	if rec.Withdrawn() {
		return store.Record{}, withdrawnProblem(&rec)
	}
	return rec, nil
}

// ruleExpired is the rule of the read decision that leaves an expired
// bulletin to its origin's focal points (deploy/policies: read-expired).
const ruleExpired = "read-expired"

// expiredView is rec as a reader who may not read it any more sees it:
// its header, without title, body or indicators.
func expiredView(rec store.Record) store.Record {
	b := &rec.Bulletin
	b.Title, b.Body, b.Indicators, b.Conditions = "", "", nil, ""
	if b.Reply != nil {
		r := *b.Reply
		r.Sighting = nil
		b.Reply = &r
	}
	return rec
}

// storedToProto is rec on the wire as person p reads it: its state
// (active, revoked, expired) judged now, and p's preferred language.
func (n *Node) storedToProto(p identity.Principal, rec store.Record) *iantv1.StoredBulletin {
	sb := recordToProto(rec)
	sb.PreferredLanguage = iantv1.Language(n.cfg.Languages[p.ID(n.cfg.TrustDomain).String()])
	if e := rec.Bulletin.ExpiresAt; !rec.Bulletin.Revoked && !e.IsZero() && !e.After(n.now()) {
		sb.State = iantv1.BulletinState_BULLETIN_STATE_EXPIRED
	}
	return sb
}

// thread returns the replies to rec (and to those) that p may read.
func (n *Node) thread(ctx context.Context, p identity.Principal, rec *store.Record) ([]*iantv1.StoredBulletin, error) {
	recs, err := n.store.Thread(ctx, rec.Bulletin.Origin, rec.Bulletin.ID)
	if err != nil {
		return nil, storeProblem(err)
	}
	var out []*iantv1.StoredBulletin
	for i := range recs {
		if n.visible(p, &recs[i]) {
			out = append(out, n.storedToProto(p, recs[i]))
		}
	}
	return out, nil
}

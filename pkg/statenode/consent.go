package statenode

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/store"
)

// Forward consent. A state that holds a bulletin whose marking or caveats
// need the originator's consent to share it onward asks the origin
// (a consent request, sealed and signed by the asking state's node, to the
// origin only); the origin's focal points grant or refuse (a consent
// decision, sealed and signed by the origin's node, to the asking state
// and, for a grant, to the target too). A grant lets exactly one forward
// of the bulletin from the asking state to the target pass the policy:
// the forwarder's node marks it used in the forward's transaction, and
// the target accepts the forward only while it holds the origin's grant
// of it. Requests and decisions are audited like any message.

// requestConsent asks the origin of bulletin (origin, id), held here, for
// consent to forward it to target, for focal point p.
func (n *Node) requestConsent(ctx context.Context, origin, id, target, reason string) (store.ConsentRequest, error) {
	p, err := nodeserver.RequireRole(ctx, "forward.role", "ask for consent to forward (only focal points forward)", identity.RoleFocalPoint)
	if err != nil {
		return store.ConsentRequest{}, n.refused("consent", p, origin, id, err)
	}
	if err := checkReason("reason", reason, false); err != nil {
		return store.ConsentRequest{}, err
	}
	rec, err := n.forwardable(ctx, p, origin, id, target, "consent")
	if err != nil {
		return store.ConsentRequest{}, err
	}
	b := &rec.Bulletin
	now := n.now().UTC()
	msg := n.consentMessage(p, b, []string{b.Origin}, &bulletin.Consent{Bulletin: bulletin.Ref{Origin: b.Origin, ID: b.ID},
		Forwarder: n.self.State, Target: target, Reason: reason}, now)
	r := store.ConsentRequest{ID: msg.ID, Bulletin: msg.Consent.Bulletin, Forwarder: n.self.State, Target: target,
		Reason: reason, RequestedBy: msg.Author, RequestedAt: now}
	if err := n.commitConsent(ctx, msg, r); err != nil {
		return store.ConsentRequest{}, err
	}
	n.log.Info("consent to forward requested", "bulletin_id", b.ID, "origin", b.Origin, "recipient", target, "peer", p.String())
	return r, nil
}

// forwardable finds bulletin (origin, id) and checks that p's state may
// forward it (or ask to) to target: a bulletin its origin released here,
// live, that p may read, not released to target already.
func (n *Node) forwardable(ctx context.Context, p identity.Principal, origin, id, target, action string) (store.Record, error) {
	if !region.IsMember(target) {
		return store.Record{}, problem.Invalid("target_state", "unknown state code %q", target)
	}
	rec, err := n.lookup(ctx, origin, id)
	if err != nil {
		return store.Record{}, err
	}
	b := &rec.Bulletin
	switch {
	case b.Origin == n.self.State:
		return store.Record{}, n.refused(action, p, b.Origin, b.ID, problem.Denied("forward.own_bulletin",
			"bulletin %s is %s's own: an origin does not forward its bulletins; revise it, released to %s, to reach it", b.ID, b.Origin, target))
	case b.Revoked:
		return store.Record{}, problem.Invalid("id", "bulletin %s of %s was revoked: it is not forwarded", b.ID, b.Origin)
	}
	if err := n.mayRead(action, p, &rec); err != nil {
		return store.Record{}, err
	}
	switch {
	case rec.ForwardedBy != "":
		return store.Record{}, n.refused(action, p, b.Origin, b.ID, problem.Denied("forward.not_released",
			"bulletin %s reached %s through %s's forward, not from its origin: only states %s released it to forward it; ask %s",
			b.ID, n.self.State, rec.ForwardedBy, b.Origin, b.Origin))
	case b.ReleasedTo(target) || target == b.Origin:
		return store.Record{}, problem.Invalid("target_state", "bulletin %s of %s already reached %s from its origin", b.ID, b.Origin, target)
	}
	return rec, nil
}

// consentMessage is a consent request or decision of p's about b, to
// recipients: a message of this state's, with b's header facts.
func (n *Node) consentMessage(p identity.Principal, b *bulletin.Bulletin, recipients []string, c *bulletin.Consent, now time.Time) *bulletin.Bulletin {
	rs := slices.Sorted(slices.Values(recipients))
	return &bulletin.Bulletin{ID: ulid.MustNew(ulid.Timestamp(now), rand.Reader).String(), Origin: n.self.State,
		Author: p.ID(n.cfg.TrustDomain).String(), CreatedAt: now, Precedence: b.Precedence, Category: b.Category,
		Language: b.Language, Marking: b.Marking, Releasability: bulletin.Releasability{States: rs}, Recipients: rs,
		Revision: 1, Consent: c}
}

// commitConsent seals msg and commits it with r, its copies and its
// posted and released receipts, then waits for its copies as a post does.
func (n *Node) commitConsent(ctx context.Context, msg *bulletin.Bulletin, r store.ConsentRequest) error {
	if err := msg.Validate(); err != nil {
		return problem.Internal(fmt.Errorf("consent message %s: %w", msg.ID, err))
	}
	copies, sealed, err := n.sealCopies(ctx, msg)
	if err != nil {
		return err
	}
	rs, err := n.postedReceipts(msg, sealed)
	if err != nil {
		return problem.Internal(err)
	}
	since := n.out.rounds.Load()
	_, err = n.store.PutConsent(ctx, r, copies, rs, msg.CreatedAt, n.maxPendingCopies())
	switch {
	case errors.Is(err, store.ErrOutboxFull):
		return n.outboxFull(err)
	case err != nil:
		return storeProblem(err)
	}
	wakeUp(n.out.wake)
	wakeUp(n.audit.wake)
	n.awaitCopies(ctx, since, n.self.State, msg.ID, msg.Recipients)
	return nil
}

// decideConsent grants or refuses request id, about one of this state's
// bulletins, for focal point p.
func (n *Node) decideConsent(ctx context.Context, id string, d bulletin.ConsentDecision, reason string) (store.ConsentRequest, error) {
	p, err := nodeserver.RequireRole(ctx, "consent.role", "decide consent requests (only focal points)", identity.RoleFocalPoint)
	if err != nil {
		return store.ConsentRequest{}, n.refused("consent", p, "", "", err)
	}
	switch {
	case id == "" || len(id) > 64:
		return store.ConsentRequest{}, problem.Invalid("request_id", "request id is required")
	case d != bulletin.ConsentGranted && d != bulletin.ConsentRefused:
		return store.ConsentRequest{}, problem.Invalid("decision", "decision must be granted or refused")
	}
	if err := checkReason("reason", reason, false); err != nil {
		return store.ConsentRequest{}, err
	}
	r, err := n.store.Consent(ctx, id)
	if err != nil {
		return store.ConsentRequest{}, storeProblem(err)
	}
	switch {
	case r.Bulletin.Origin != n.self.State:
		return store.ConsentRequest{}, n.refused("consent", p, r.Bulletin.Origin, r.Bulletin.ID, problem.Denied("consent.origin_only",
			"request %s is about %s's bulletin: only %s's focal points grant or refuse it", id, r.Bulletin.Origin, r.Bulletin.Origin))
	case r.Withdrawn():
		return store.ConsentRequest{}, &problem.Error{Kind: problem.KindFailedPrecondition, Rule: ruleWithdrawn, Err: store.ErrWithdrawn,
			Msg: fmt.Sprintf("request %s is withdrawn: %s declared compromised the signing key it was signed with, so nothing proves %s asked; %s asks again if it still means to",
				id, r.Forwarder, r.Forwarder, r.Forwarder)}
	case r.Decision != bulletin.ConsentPending:
		return store.ConsentRequest{}, problem.Invalid("request_id", "request %s was %s already", id, r.Decision)
	}
	rec, err := n.store.Get(ctx, r.Bulletin.Origin, r.Bulletin.ID)
	if err != nil {
		return store.ConsentRequest{}, storeProblem(err)
	}
	to := []string{r.Forwarder}
	if d == bulletin.ConsentGranted {
		to = append(to, r.Target)
	}
	now := n.now().UTC()
	msg := n.consentMessage(p, &rec.Bulletin, to, &bulletin.Consent{Request: id, Bulletin: r.Bulletin, Forwarder: r.Forwarder,
		Target: r.Target, Reason: reason, Decision: d}, now)
	r.Decision, r.DecidedBy, r.DecidedAt, r.DecisionReason = d, msg.Author, now, reason
	if err := n.commitConsent(ctx, msg, r); err != nil {
		return store.ConsentRequest{}, err
	}
	n.log.Info("consent decided", "bulletin_id", r.Bulletin.ID, "recipient", r.Target, "forwarded_by", r.Forwarder,
		"decision", d.String(), "peer", p.String())
	return r, nil
}

// receiveConsent stores a consent request (at the bulletin's origin) or
// decision (at the asking state and the target) from copy m.
func (n *Node) receiveConsent(ctx context.Context, m backbone.Msg, o *opened, reject func(backbone.Msg, string, error) error) error {
	b, c := &o.bulletin, o.bulletin.Consent
	if o.forwardedBy != "" {
		return reject(m, "consent", errors.New("a consent is not forwarded"))
	}
	if !b.ReleasedTo(n.self.State) {
		return reject(m, "releasability", errors.New("consent not addressed to this state"))
	}
	r := store.ConsentRequest{ID: b.ID, Bulletin: c.Bulletin, Forwarder: c.Forwarder, Target: c.Target, Reason: c.Reason,
		RequestedBy: b.Author, RequestedAt: b.CreatedAt, SignKey: signKeyOfCopy(m.Data)}
	if b.Kind() == bulletin.KindConsentRequest {
		rule, err := n.admitConsentRequest(ctx, b)
		if err != nil {
			if rule == "" {
				return err
			}
			return reject(m, rule, err)
		}
	} else {
		r.ID, r.Reason = c.Request, ""
		r.Decision, r.DecidedBy, r.DecidedAt, r.DecisionReason = c.Decision, b.Author, b.CreatedAt, c.Reason
	}
	rs, err := n.receiptsOf(o.evidence, deliveredEvent(b, n))
	if err != nil {
		return reject(m, "validate", err)
	}
	if _, err := n.store.PutConsent(ctx, r, nil, rs, n.now().UTC(), 0); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return reject(m, "replay", err)
		}
		return fmt.Errorf("store consent %s: %w", b.ID, err)
	}
	wakeUp(n.audit.wake)
	n.log.Info("consent received", "kind", b.Kind().String(), "bulletin_id", c.Bulletin.ID, "origin", c.Bulletin.Origin,
		"forwarded_by", c.Forwarder, "recipient", c.Target, "decision", c.Decision.String())
	return nil
}

// admitConsentRequest admits a request about one of this state's
// bulletins from a state it released it to.
func (n *Node) admitConsentRequest(ctx context.Context, b *bulletin.Bulletin) (string, error) {
	c := b.Consent
	if c.Bulletin.Origin != n.self.State {
		return "consent", fmt.Errorf("a consent request about %s's bulletin sent to %s", c.Bulletin.Origin, n.self.State)
	}
	rec, err := n.store.Get(ctx, c.Bulletin.Origin, c.Bulletin.ID)
	switch {
	case problem.KindOf(err) == problem.KindNotFound:
		return "consent", fmt.Errorf("a consent request about %s, which this state does not hold", c.Bulletin)
	case err != nil:
		return "", err
	case !slices.Contains(rec.Bulletin.Recipients, b.Origin):
		return "consent", fmt.Errorf("%s asks to forward %s, which was not released to it", b.Origin, c.Bulletin)
	}
	return "", nil
}

// deliveredEvent is the delivered event of message b at this node.
func deliveredEvent(b *bulletin.Bulletin, n *Node) audit.Event {
	return audit.Event{Kind: audit.EventDelivered, BulletinID: b.ID, Origin: b.Origin, State: n.self.State,
		Actor: n.nodeID(), Precedence: b.Precedence, Revision: eventRevision(b.RevisionNumber()), At: n.now().UTC()}
}

// checkReason accepts a one-line reason of at most MaxReasonBytes,
// required or not.
func checkReason(field, s string, required bool) error {
	switch {
	case required && s == "":
		return problem.Invalid(field, "%s is required", field)
	case len(s) > bulletin.MaxReasonBytes:
		return problem.Invalid(field, "%s is %d bytes, the limit is %d", field, len(s), bulletin.MaxReasonBytes)
	}
	return bulletin.CheckLine(field, s)
}

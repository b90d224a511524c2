package statenode

import (
	"context"
	"errors"
	"fmt"
	"strings"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/store"
)

// Forwards (DESIGN.md, "Threat model": a forward carries the origin's
// signature unchanged plus the forwarder's own statement). A state that
// received a bulletin from its origin keeps the sealed copy it received
// (store.Delivery); to forward it, its node re-wraps the content key of
// that copy for the target ([seal.Forward]) and signs a statement of the
// forward, and publishes the [seal.Forwarded] envelope through its
// outbox, as a post's copies go. The target verifies the origin's
// signature and the statement ([seal.OpenForwarded], receive.go), asks
// its policy whether the forwarder may share the bulletin with it, and
// stores the bulletin as the origin's, noting who forwarded it. A
// forwarder can thus share what it holds but never speak for the origin:
// an origin releases its own bulletin to more states by posting it again,
// and a state that received a forward cannot forward it further.

// refused logs a refusal by policy or rule of p's action on bulletin id
// of origin (origin may be "" when unknown), audits it, and returns err
// unchanged. Every refusal passes through here so that it is explicit and
// recorded.
func (n *Node) refused(action string, p identity.Principal, origin, id string, err error) error {
	rule := ""
	var pe *problem.Error
	if errors.As(err, &pe) {
		rule = pe.Rule
	}
	n.log.Warn("refused", "action", action, "peer", p.String(), "bulletin_id", id, "origin", origin, "rule", rule)
	n.emitRefused(action, p, origin, id, err)
	return err
}

// attrs returns the policy attributes of person p.
func (n *Node) attrs(p identity.Principal) policy.PersonAttrs {
	return n.cfg.People[p.ID(n.cfg.TrustDomain).String()]
}

// forwarder is the principal a receiving node checks a forward against: a
// focal point of the forwarding state (the forwarding node already applied
// the decision to the actual person).
func forwarder(state string) identity.Principal {
	return identity.Principal{State: state, Role: identity.RoleFocalPoint, Name: "forwarder"}
}

// checkForwarded decides whether a bulletin that state from forwarded to
// this state may be accepted, once seal.OpenForwarded verified the
// origin's signature and from's statement (from held the bulletin): the
// policy must allow from to share it onward with this state.
func (n *Node) checkForwarded(b *bulletin.Bulletin, from string) error {
	if b.Origin == n.self.State {
		return fmt.Errorf("%s forwarded this state's own bulletin back to it", from)
	}
	if err := n.policy.Forward(forwarder(from), b, n.self.State, false).Err(); err != nil {
		return fmt.Errorf("forward by %s refused: %w", from, err)
	}
	return nil
}

// forward shares bulletin (origin, id), which this node received from its
// origin, with target, if p may read it and the policy allows onward
// sharing, and queues the forward in the outbox.
func (n *Node) forward(ctx context.Context, origin, id, target string) (store.Record, error) {
	p, err := nodeserver.RequireRole(ctx, "forward.role", "forward bulletins (only focal points forward)", identity.RoleFocalPoint)
	if err != nil {
		return store.Record{}, n.refused("forward", p, origin, id, err)
	}
	if !region.IsMember(target) {
		return store.Record{}, problem.Invalid("target_state", "unknown state code %q", target)
	}
	rec, err := n.lookup(ctx, origin, id)
	if err != nil {
		return store.Record{}, err
	}
	b := &rec.Bulletin
	if b.Origin == n.self.State {
		return store.Record{}, n.refused("forward", p, b.Origin, b.ID, problem.Denied("forward.own_bulletin",
			"bulletin %s is %s's own: an origin does not forward its bulletins; post it again, released to %s, to reach it", b.ID, b.Origin, target))
	}
	if err := n.mayRead("forward", p, &rec); err != nil {
		return store.Record{}, err
	}
	if rec.ForwardedBy != "" {
		return store.Record{}, n.refused("forward", p, b.Origin, b.ID, problem.Denied("forward.not_released",
			"bulletin %s reached %s through %s's forward, not from its origin: only states %s released it to forward it; ask %s",
			b.ID, n.self.State, rec.ForwardedBy, b.Origin, b.Origin))
	}
	if b.ReleasedTo(target) || target == b.Origin {
		return store.Record{}, problem.Invalid("target_state", "bulletin %s of %s already reached %s from its origin", b.ID, b.Origin, target)
	}
	d := n.policy.Forward(p, b, target, false)
	if err := d.Err(); err != nil {
		return store.Record{}, n.refused("forward", p, b.Origin, b.ID, err)
	}
	f, data, err := n.forwardCopy(ctx, &rec, target, d)
	if err != nil {
		return store.Record{}, err
	}
	rs, err := n.forwardedReceipts(b, f)
	if err != nil {
		return store.Record{}, problem.Internal(err)
	}
	err = n.queueCopy(ctx, store.Copy{Recipient: target, Origin: n.self.State, BulletinOrigin: b.Origin, BulletinID: b.ID, Data: data}, rs...)
	if err != nil {
		return store.Record{}, err
	}
	n.log.Info("bulletin forwarded", "bulletin_id", b.ID, "origin", b.Origin, "recipient", target, "peer", p.String())
	return rec, nil
}

// forwardCopy makes the forward of rec's sealed copy to target, allowed
// by decision d, and encodes it.
func (n *Node) forwardCopy(ctx context.Context, rec *store.Record, target string, d policy.Decision) (*seal.Forwarded, []byte, error) {
	b := &rec.Bulletin
	data, err := n.store.ReceivedCopy(ctx, b.Origin, b.ID)
	switch {
	case err != nil:
		return nil, nil, storeProblem(err)
	case len(data) == 0 || seal.IsForwarded(data):
		return nil, nil, problem.Invalid("id", "bulletin %s was stored before this node kept the sealed copies it receives: it cannot be forwarded", b.ID)
	}
	c, err := seal.Unmarshal(data)
	if err != nil {
		return nil, nil, problem.Internal(fmt.Errorf("stored copy of %s/%s: %w", b.Origin, b.ID, err))
	}
	e, err := n.entryOf(ctx, target, "")
	switch {
	case errors.Is(err, backbone.ErrNoEntry):
		return nil, nil, problem.Unavailable(err, "no node of %s has published its keys yet; forward once it has joined", target)
	case err != nil:
		return nil, nil, problem.Unavailable(err, "bulletin not forwarded: the keys of %s could not be read; forward again later", target)
	}
	st := seal.ForwardStatement{Signer: n.nodeID(), Reason: forwardReason(d), At: n.now().UTC()}
	f, err := seal.Forward(c, n.self.State, n.keys.snapshot(), e.PublicKeys(), st, n.keys.current())
	switch {
	case errors.Is(err, seal.ErrExpired):
		return nil, nil, problem.Invalid("id", "bulletin %s has expired: expired bulletins are not forwarded", b.ID)
	case err != nil:
		return nil, nil, problem.Internal(fmt.Errorf("forward of %s/%s to %s: %w", b.Origin, b.ID, target, err))
	}
	out, err := f.Marshal()
	if err != nil {
		return nil, nil, problem.Internal(err)
	}
	return f, out, nil
}

// forwardReason is the forward statement's reason: the policies that
// allowed it, in seal's alphabet (printable ASCII, at most 256 bytes).
func forwardReason(d policy.Decision) string {
	r := "policy " + strings.Join(d.PolicyIDs, ",")
	if d.PolicyIDs == nil {
		r = "policy allowed"
	}
	r = strings.Map(func(c rune) rune {
		if c < ' ' || c > '~' {
			return '?'
		}
		return c
	}, r)
	if len(r) > 256 {
		r = r[:256]
	}
	return r
}

func (s *bulletinService) ForwardBulletin(ctx context.Context, req *iantv1.ForwardBulletinRequest) (*iantv1.ForwardBulletinResponse, error) {
	rec, err := s.n.forward(ctx, req.GetOrigin(), req.GetId(), req.GetTargetState())
	if err != nil {
		return nil, err
	}
	return &iantv1.ForwardBulletinResponse{Bulletin: recordToProto(rec), TargetState: req.GetTargetState()}, nil
}

// ExplainRead explains the read decision for the caller, or, for a focal
// point, for another person of the same state: the decision readDecision
// makes, and why.
func (s *bulletinService) ExplainRead(ctx context.Context, req *iantv1.ExplainReadRequest) (*iantv1.ExplainReadResponse, error) {
	caller, err := s.n.requireReader(ctx, "ask for explanations")
	if err != nil {
		return nil, err
	}
	who := caller
	if req.GetSpiffeId() != "" {
		if who, err = identity.ParseString(s.n.cfg.TrustDomain, req.GetSpiffeId()); err != nil {
			return nil, problem.Invalid("spiffe_id", "%v", err)
		}
		if who != caller && caller.Role != identity.RoleFocalPoint {
			return nil, problem.Denied("explain.role", "only focal points ask about other people")
		}
		if who.State != s.n.self.State {
			return nil, problem.Denied("explain.own_state", "%s is not a person of %s", who, s.n.self.State)
		}
	}
	rec, err := s.n.lookup(ctx, req.GetOrigin(), req.GetId())
	if err != nil {
		return nil, err
	}
	d := s.n.readDecision(who, &rec)
	ex := s.n.policy.ExplainRead(who, s.n.attrs(who), s.n.heldView(&rec))
	return &iantv1.ExplainReadResponse{Allowed: d.Allowed, PolicyIds: d.PolicyIDs, Explanation: ex.String()}, nil
}

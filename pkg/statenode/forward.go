package statenode

import (
	"context"
	"errors"
	"fmt"
	"slices"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/store"
)

// refused logs a refusal by policy or rule and returns err unchanged. Every
// refusal passes through here so that it is explicit and recorded.
func (n *Node) refused(action string, p identity.Principal, bulletinID string, err error) error {
	rule := ""
	var pe *problem.Error
	if errors.As(err, &pe) {
		rule = pe.Rule
	}
	n.log.Warn("refused", "action", action, "peer", p.String(), "bulletin_id", bulletinID, "rule", rule)
	n.emitRefused(action, p, bulletinID, err)
	return err
}

// attrs returns the policy attributes of person p.
func (n *Node) attrs(p identity.Principal) policy.PersonAttrs {
	return n.cfg.People[p.ID(n.cfg.TrustDomain).String()]
}

// canRead applies the read decision point for person p. A received
// bulletin not released to this state was stored only after a forward the
// policy allowed (see checkForwarded), so this state counts among its
// holders for the decision.
func (n *Node) canRead(p identity.Principal, b *bulletin.Bulletin) error {
	if !b.ReleasedTo(n.self.State) {
		held := *b
		held.Recipients = append(slices.Clone(b.Recipients), n.self.State)
		b = &held
	}
	if err := n.policy.Read(p, n.attrs(p), b).Err(); err != nil {
		return n.refused("read", p, b.ID, err)
	}
	return nil
}

// forwarder is the principal a receiving node checks a forward against: a
// focal point of the forwarding state (the forwarding node already applied
// the decision to the actual person).
func forwarder(state string) identity.Principal {
	return identity.Principal{State: state, Role: identity.RoleFocalPoint, Name: "forwarder"}
}

// checkForwarded decides whether a copy that state from forwarded to this
// state may be accepted: from must have held the bulletin, and the policy
// must allow sharing it onward with this state.
func (n *Node) checkForwarded(b *bulletin.Bulletin, from string) error {
	if !b.ReleasedTo(from) {
		return fmt.Errorf("%s forwarded a bulletin it never received", from)
	}
	if err := n.policy.Forward(forwarder(from), b, n.self.State, false).Err(); err != nil {
		return fmt.Errorf("forward by %s refused: %w", from, err)
	}
	n.log.Info("bulletin forwarded to this state", "bulletin_id", b.ID, "origin", b.Origin, "forwarded_by", from)
	return nil
}

// forward shares a bulletin this node holds with target, if the policy
// allows onward sharing, and records it.
func (n *Node) forward(ctx context.Context, id, target string) (store.Record, error) {
	p, err := nodeserver.RequireRole(ctx, "forward.role", "forward bulletins (only focal points forward)", identity.RoleFocalPoint)
	if err != nil {
		return store.Record{}, n.refused("forward", p, id, err)
	}
	if !region.IsMember(target) {
		return store.Record{}, problem.Invalid("target_state", "unknown state code %q", target)
	}
	rec, err := n.lookup(ctx, id)
	if err != nil {
		return store.Record{}, err
	}
	b := &rec.Bulletin
	if b.ReleasedTo(target) {
		return store.Record{}, problem.Invalid("target_state", "bulletin %s was already released to %s", b.ID, target)
	}
	if err := n.policy.Forward(p, b, target, false).Err(); err != nil {
		return store.Record{}, n.refused("forward", p, b.ID, err)
	}
	if t, held := n.members.Table(); held && !t.Receives(target) {
		return store.Record{}, problem.Invalid("target_state", "%s is not a member of the network: it receives no bulletin", target)
	}
	sealed, err := n.sealFor(ctx, b, []string{target})
	if err != nil {
		return store.Record{}, err
	}
	copies, err := marshalCopies(sealed) // one: the target's
	if err != nil {
		return store.Record{}, problem.Internal(fmt.Errorf("copy of bulletin %s for %s: %w", b.ID, target, err))
	}
	if err := n.queueCopy(ctx, store.Copy{Recipient: target, Origin: n.self.State, BulletinID: b.ID, Data: copies[0]}); err != nil {
		return store.Record{}, err
	}
	n.log.Info("bulletin forwarded", "bulletin_id", b.ID, "origin", b.Origin, "recipient", target, "peer", p.String())
	return rec, nil
}

func (s *bulletinService) ForwardBulletin(ctx context.Context, req *iantv1.ForwardBulletinRequest) (*iantv1.ForwardBulletinResponse, error) {
	rec, err := s.n.forward(ctx, req.GetId(), req.GetTargetState())
	if err != nil {
		return nil, err
	}
	return &iantv1.ForwardBulletinResponse{Bulletin: recordToProto(rec), TargetState: req.GetTargetState()}, nil
}

// ExplainRead explains the read decision for the caller, or, for a focal
// point, for another person of the same state.
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
	rec, err := s.n.lookup(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	d := s.n.policy.Read(who, s.n.attrs(who), &rec.Bulletin)
	ex := s.n.policy.ExplainRead(who, s.n.attrs(who), &rec.Bulletin)
	return &iantv1.ExplainReadResponse{Allowed: d.Allowed, PolicyIds: d.PolicyIDs, Explanation: ex.String()}, nil
}

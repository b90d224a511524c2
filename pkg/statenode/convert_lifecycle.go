package statenode

import (
	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

// lifecycleFromProto converts the lifecycle's fields of a wire bulletin
// into b. Values are checked by bulletin validation afterwards.
func lifecycleFromProto(p *iantv1.Bulletin, b *bulletin.Bulletin) error {
	b.Revision = int(min(p.GetRevision(), bulletin.MaxRevision+1))
	first, err := timeOf(p.GetFirstCreateTime(), "first_create_time")
	if err != nil {
		return err
	}
	b.FirstCreatedAt = first
	if r := p.GetRevocation(); r != nil {
		at, err := timeOf(r.GetRevokeTime(), "revocation.revoke_time")
		if err != nil {
			return err
		}
		b.Revocation = &bulletin.Revocation{Reason: r.GetReason(), By: r.GetRevokedBy(), At: at, Narrowed: r.GetNarrowed()}
	}
	if r := p.GetReply(); r != nil {
		b.Reply = &bulletin.Reply{Kind: bulletin.ReplyKind(r.GetKind()), Audience: bulletin.ReplyAudience(r.GetAudience()),
			InReplyTo: refFromProto(r.GetInReplyTo())}
		if s := r.GetSighting(); s != nil {
			seen, err := timeOf(s.GetSeenTime(), "reply.sighting.seen_time")
			if err != nil {
				return err
			}
			b.Reply.Sighting = &bulletin.Sighting{Kind: bulletin.SightingKind(s.GetKind()), SeenAt: seen, Place: s.GetPlace()}
		}
	}
	if c := p.GetConsent(); c != nil {
		b.Consent = &bulletin.Consent{Request: c.GetRequestId(), Bulletin: refFromProto(c.GetBulletin()),
			Forwarder: c.GetForwarder(), Target: c.GetTarget(), Reason: c.GetReason(),
			Decision: bulletin.ConsentDecision(c.GetDecision())}
	}
	return nil
}

// lifecycleToProto sets the lifecycle's fields of p from b.
func lifecycleToProto(b *bulletin.Bulletin, p *iantv1.Bulletin) {
	p.Revision = uint32(max(b.Revision, 0))
	p.FirstCreateTime = tsOf(b.FirstCreatedAt)
	if r := b.Revocation; r != nil {
		p.Revocation = &iantv1.Revocation{Reason: r.Reason, RevokedBy: r.By, RevokeTime: tsOf(r.At), Narrowed: r.Narrowed}
	}
	if r := b.Reply; r != nil {
		p.Reply = &iantv1.Reply{Kind: iantv1.ReplyKind(r.Kind), Audience: iantv1.ReplyAudience(r.Audience),
			InReplyTo: refToProto(r.InReplyTo)}
		if s := r.Sighting; s != nil {
			p.Reply.Sighting = &iantv1.Sighting{Kind: iantv1.SightingKind(s.Kind), SeenTime: tsOf(s.SeenAt), Place: s.Place}
		}
	}
	if c := b.Consent; c != nil {
		p.Consent = &iantv1.Consent{RequestId: c.Request, Bulletin: refToProto(c.Bulletin), Forwarder: c.Forwarder,
			Target: c.Target, Reason: c.Reason, Decision: iantv1.ConsentDecision(c.Decision)}
	}
}

func refFromProto(r *iantv1.BulletinRef) bulletin.Ref {
	return bulletin.Ref{Origin: r.GetOrigin(), ID: r.GetId()}
}

func refToProto(r bulletin.Ref) *iantv1.BulletinRef {
	if r.IsZero() {
		return nil
	}
	return &iantv1.BulletinRef{Origin: r.Origin, Id: r.ID}
}

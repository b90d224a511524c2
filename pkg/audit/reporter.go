package audit

import (
	"fmt"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
)

// checkReporter decides whether the node signer, publishing under scope,
// may report e (DESIGN.md, "Threat model"): a state node reports what
// happened at its state — posted, released, revised and revocation as the
// origin; delivered, read, acknowledged, refused and revoked (its
// confirmation of a revocation) as the state; forwarded, to another
// state, as the forwarder — with actors of that state; the secretariat's
// node reports only the log's own events, refusals and escalations.
// Whether the state was released the bulletin, what a forward statement
// says, and whether an analyst may be the author of what it posted (a
// sighting or a note in reply, as the signed header says), is the log's
// question ([Log.Submit]).
func checkReporter(td spiffeid.TrustDomain, signer spiffeid.ID, scope string, e *Event) (string, error) {
	p, err := identity.Parse(td, signer)
	if err != nil {
		return "receipt.signer", err
	}
	if scope == "" {
		if p.Role != identity.RoleSecretariatNode || e.Kind != EventRefused && !e.Kind.escalation() {
			return "receipt.signer", fmt.Errorf("%s may not report a %s event for the secretariat", p, e.Kind)
		}
		return "", nil
	}
	if p.Role != identity.RoleNode || p.State != scope {
		return "receipt.signer", fmt.Errorf("%s is not the node of %s", p, scope)
	}
	where := e.State
	switch {
	case e.Kind.byOrigin() || e.Kind == EventReleased:
		where = e.Origin
	case e.Kind == EventForwarded:
		if e.State == scope {
			return "receipt.signer", fmt.Errorf("the node of %s reports a forward to its own state", scope)
		}
		where = scope // the forwarder's doing; the statement says to whom
	}
	if e.Kind.escalation() || where != scope {
		return "receipt.signer", fmt.Errorf("the node of %s may not report a %s event of %s at %q", scope, e.Kind, e.Origin, where)
	}
	switch e.Kind {
	case EventReleased, EventDelivered, EventRevoked, EventForwarded:
		if e.Actor != signer.String() {
			return "receipt.actor", fmt.Errorf("%s event by %s signed by %s", e.Kind, e.Actor, signer)
		}
	case EventPosted, EventAcknowledged, EventRead, EventRevised, EventRevocation:
		a, err := identity.ParseString(td, e.Actor)
		ok := err == nil && a.State == scope && a.Role.IsPerson()
		switch e.Kind {
		case EventRead:
		case EventPosted: // an analyst's only for what judge finds an analyst may write
			ok = ok && (a.Role == identity.RoleFocalPoint || a.Role == identity.RoleAnalyst)
		default:
			ok = ok && a.Role == identity.RoleFocalPoint
		}
		if !ok {
			return "receipt.actor", fmt.Errorf("%s cannot be the actor of a %s event at %s", e.Actor, e.Kind, scope)
		}
	}
	return "", nil
}

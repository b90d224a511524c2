package audit

import (
	"fmt"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
)

// checkReporter decides whether the node signer, publishing under scope,
// may report e (DESIGN.md, "Threat model"): a state node reports what
// happened at its state — posted and released as the origin; delivered,
// read, acknowledged and refused as the state; forwarded, to another
// state, as the forwarder — with actors of that state; the secretariat's
// node reports only the log's own events, refusals and escalations.
// Whether the state was released the bulletin, and what a forward
// statement says, is the log's question ([Log.Submit]).
func checkReporter(td spiffeid.TrustDomain, signer spiffeid.ID, scope string, e *Event) (string, error) {
	p, err := identity.Parse(td, signer)
	if err != nil {
		return "receipt.signer", err
	}
	if scope == "" {
		if p.Role != identity.RoleSecretariatNode || e.Kind != EventRefused && e.Kind != EventEscalated {
			return "receipt.signer", fmt.Errorf("%s may not report a %s event for the secretariat", p, e.Kind)
		}
		return "", nil
	}
	if p.Role != identity.RoleNode || p.State != scope {
		return "receipt.signer", fmt.Errorf("%s is not the node of %s", p, scope)
	}
	where := e.State
	switch e.Kind {
	case EventPosted, EventReleased:
		where = e.Origin
	case EventForwarded:
		if e.State == scope {
			return "receipt.signer", fmt.Errorf("the node of %s reports a forward to its own state", scope)
		}
		where = scope // the forwarder's doing; the statement says to whom
	}
	if e.Kind == EventEscalated || where != scope {
		return "receipt.signer", fmt.Errorf("the node of %s may not report a %s event of %s at %q", scope, e.Kind, e.Origin, where)
	}
	switch e.Kind {
	case EventReleased, EventDelivered, EventForwarded:
		if e.Actor != signer.String() {
			return "receipt.actor", fmt.Errorf("%s event by %s signed by %s", e.Kind, e.Actor, signer)
		}
	case EventPosted, EventAcknowledged, EventRead:
		a, err := identity.ParseString(td, e.Actor)
		ok := err == nil && a.State == scope && a.Role.IsPerson()
		if e.Kind != EventRead {
			ok = ok && a.Role == identity.RoleFocalPoint
		}
		if !ok {
			return "receipt.actor", fmt.Errorf("%s cannot be the actor of a %s event at %s", e.Actor, e.Kind, scope)
		}
	}
	return "", nil
}

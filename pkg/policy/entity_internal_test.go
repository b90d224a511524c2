package policy

import (
	"testing"
	"time"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// TestRequestsFitSchema checks that what entity.go builds is what
// network.cedarschema declares, for every action and principal kind: the
// schema the policies were validated against is the shape they see.
func TestRequestsFitSchema(t *testing.T) {
	s, err := Load("../../deploy/policies")
	if err != nil {
		t.Fatal(err)
	}
	b := &bulletin.Bulletin{ID: "x", Origin: "MX", Marking: bulletin.Red, Precedence: bulletin.Flash,
		Category: bulletin.CBRN, Caveats: []bulletin.Caveat{bulletin.NoOnwardSharing},
		Releasability: bulletin.Releasability{States: []string{"US"}, Regions: []region.Region{region.Caribbean}},
		CreatedAt:     time.Unix(1700000000, 0), ExpiresAt: time.Unix(1700086400, 0)}
	res := bulletinEntity(b, bulletin.Recipients(b.Origin, b.Releasability))
	noExpiry := *b
	noExpiry.ExpiresAt = time.Time{}
	people := []cedar.Entity{
		principalEntity(identity.Principal{State: "US", Role: identity.RoleAnalyst, Name: "a"}, PersonAttrs{LawEnforcement: true}),
		principalEntity(identity.Principal{Role: identity.RoleAuditor, Name: "b"}, PersonAttrs{}),
		principalEntity(identity.Principal{State: "US", Role: identity.RoleNode, Name: "n"}, PersonAttrs{}),
		nodeEntity("", identity.RoleSecretariatNode),
	}
	for _, ent := range append(people, res, bulletinEntity(&noExpiry, nil)) {
		if err := s.validator.Entity(ent); err != nil {
			t.Errorf("entity %v does not fit the schema: %v", ent.UID, err)
		}
	}
	now := time.Now()
	for a := range numActions {
		ctx := nowContext(now)
		switch a {
		case actForward:
			ctx = forwardContext(now, "CO", true)
		case actRevise:
			ctx = reviseContext(now, bulletin.Amber)
		case actReply:
			ctx = replyContext(now, Reply{Kind: bulletin.ReplySighting, Marking: bulletin.Red, ToRecipients: true})
		case actTranslate:
			ctx = translateContext(now, bulletin.Portuguese)
		}
		for _, p := range people {
			if a == actRelease && p.UID.Type != typeNode {
				continue // release is asked of nodes only
			}
			req := cedar.Request{Principal: p.UID, Action: actionUIDs[a], Resource: res.UID, Context: ctx}
			if err := s.validator.Request(req); err != nil {
				t.Errorf("%s request by %v does not fit the schema: %v", actionNames[a], p.UID, err)
			}
		}
	}
}

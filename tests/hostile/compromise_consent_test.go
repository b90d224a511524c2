package hostile_test

import (
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestStolenKeyConsentRequestWithdrawn: MX releases to BR a bulletin A
// that needs MX's consent to forward. An intruder holding BR's node key
// file (BR's signing key K) asks MX, as BR, for consent to forward A to
// JM: MX lists the request, pending. BR's operators rotate its signing
// key and mark K compromised; BR's focal point then asks for consent to
// forward A to CA (signed by BR's new key). MX no longer lists the forged
// request and refuses to decide it (FailedPrecondition, rule
// receive.key_compromised); BR's genuine request is listed and decided (refused: CA has no node
// here to send a grant to).
func TestStolenKeyConsentRequestWithdrawn(t *testing.T) {
	t.Parallel()
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "BR"}})
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	br := nettest.Dial(t, nw, testenv.FocalPoint("BR"))
	draft := green("consent needed", "BR")
	draft.Caveats = []iantv1.Caveat{iantv1.Caveat_CAVEAT_ORIGINATOR_CONSENT_REQUIRED}
	a := nettest.Post(t, mx, draft).GetBulletin().GetId()
	nettest.WaitStored(t, br, a)

	stolen := newAttacker(t, nw, "BR")
	forged := bulletinOf(&iantv1.Bulletin{Marking: iantv1.Marking_MARKING_GREEN, Precedence: iantv1.Precedence_PRECEDENCE_FLASH,
		Category: iantv1.Category_CATEGORY_OTHER, Language: iantv1.Language_LANGUAGE_EN,
		Releasability: &iantv1.Releasability{States: []string{"MX"}},
		Consent:       &iantv1.Consent{Bulletin: &iantv1.BulletinRef{Origin: "MX", Id: a}, Forwarder: "BR", Target: "JM"}},
		ulid.Make().String(), "BR", time.Now().UTC().Truncate(time.Millisecond), "MX")
	forged.Revision = 1
	stolen.publish(t, "MX", forged.GetId(), sealMessage(t, nw, stolen.keys, "BR",
		message{b: forged, kind: seal.KindConsentRequest, revision: 1, ref: seal.Ref{Origin: "MX", ID: a}}, "MX"))
	pending := func() map[string]bool {
		t.Helper()
		list, err := mx.ListConsentRequests(t.Context(), &iantv1.ListConsentRequestsRequest{IncludeDecided: true})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, r := range list.GetRequests() {
			ids[r.GetId()] = r.GetDecision() == iantv1.ConsentDecision_CONSENT_DECISION_UNSPECIFIED
		}
		return ids
	}
	eventually(t, "MX lists the forged request, pending", func() bool { return pending()[forged.GetId()] })

	k := stolen.keys.Public().SignKeyID
	if err := nw.Node("BR").RotateSignKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := nw.Node("BR").MarkSignKeyCompromised(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	genuine, err := br.RequestForwardConsent(t.Context(), &iantv1.RequestForwardConsentRequest{Id: a, Origin: "MX", TargetState: "CA"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "MX withdraws the forged request and lists BR's genuine one", func() bool {
		ids := pending()
		_, listed := ids[forged.GetId()]
		return !listed && ids[genuine.GetRequest().GetId()]
	})
	_, err = mx.DecideConsent(t.Context(), &iantv1.DecideConsentRequest{RequestId: forged.GetId(),
		Decision: iantv1.ConsentDecision_CONSENT_DECISION_GRANTED})
	if status.Code(err) != codes.FailedPrecondition || nettest.ErrorField(err) != "receive.key_compromised" {
		t.Errorf("DecideConsent(forged request) at MX = %v, want FailedPrecondition (receive.key_compromised)", err)
	}
	if _, err := mx.DecideConsent(t.Context(), &iantv1.DecideConsentRequest{RequestId: genuine.GetRequest().GetId(),
		Decision: iantv1.ConsentDecision_CONSENT_DECISION_REFUSED}); err != nil {
		t.Errorf("DecideConsent(BR's genuine request) at MX = %v", err)
	}
}

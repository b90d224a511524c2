package hostile_test

import (
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestAuditHonoursRetiredSigningKeys: MX rotates its signing key 30
// minutes ago and publishes a version 2 directory entry keeping the old
// key as retired. The secretariat takes MX's posted receipt of a
// bulletin the old key signed before it was retired, and of one the new
// key signed; a header the old key signed for a time after its
// retirement is refused (receipt.header).
func TestAuditHonoursRetiredSigningKeys(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US")
	old := nettest.NodeKeys(t, nw, "MX")
	now := time.Now().UTC().Truncate(time.Millisecond)
	current, err := old.RotateSign(now.Add(-30 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	nettest.PublishEntry(t, nw, "MX", current)
	mx := nettest.NodeBackbone(t, nw, "MX")
	post := func(keys *seal.NodeKeys, created time.Time) string {
		id := ulid.Make().String()
		s, err := seal.Seal(seal.Header{ID: id, Origin: "MX", Signer: testenv.NodePrincipal("MX").ID(nw.TD).String(),
			Precedence: int32(bulletin.Priority), CreatedAt: created}, []byte("body"), []seal.PublicKeys{nettest.NodeKeys(t, nw, "US").Public()}, keys)
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.Attest()
		if err != nil {
			t.Fatal(err)
		}
		att, err := a.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		forge(t, nw, mx, "MX", audit.Event{Kind: audit.EventPosted, BulletinID: id, Origin: "MX",
			Actor: "spiffe://iant.test/state/MX/focal-point/focal", Precedence: bulletin.Priority, At: created}, audit.Evidence{Header: att})
		return id
	}
	beforeRetirement := post(old, now.Add(-time.Hour))
	withCurrent := post(current, now)
	afterRetirement := post(old, now.Add(-10*time.Minute))

	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	for _, id := range []string{beforeRetirement, withCurrent} {
		nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool { return r.GetPostTime() != nil })
	}
	waitRefusals(t, auditor, "MX", afterRetirement, "receipt.header")
}

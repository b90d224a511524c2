package taxii_test

import (
	"net/url"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/stix"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// objectsOfType returns the objects of type typ among objs.
func objectsOfType(objs []map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, o := range objs {
		if o["type"] == typ {
			out = append(out, o)
		}
	}
	return out
}

// TestLifecycleOverTAXII: MX revises a bulletin released to US and US
// replies with a sighting and a note. US's TAXII server serves the
// revision as a new version of the same report (a later modified; the
// versions endpoint lists both), the sighting as a STIX sighting of the
// report (its kind and place kept) and the note as a note; once MX
// revokes the bulletin, the report is served with revoked true and no
// content.
func TestLifecycleOverTAXII(t *testing.T) {
	nw := startNetwork(t)
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	draft := nettest.Draft("Courier on CM471", "US")
	draft.Marking = iantv1.Marking_MARKING_GREEN
	id := nettest.Post(t, mx, draft).GetBulletin().GetId()
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	nettest.WaitStored(t, us, id)
	nettest.Revise(t, mx, id, nettest.Redraft(draft, func(b *iantv1.Bulletin) { b.Title = "Courier on CM471, second leg CM472" }))
	nettest.WaitRevision(t, us, id, 2)
	sighting := nettest.Reply(t, us, &iantv1.ReplyToBulletinRequest{Id: id, Origin: "MX", Kind: iantv1.ReplyKind_REPLY_KIND_SIGHTING,
		Sighting: &iantv1.Sighting{Kind: iantv1.SightingKind_SIGHTING_KIND_FALSE_POSITIVE, SeenTime: timestamppb.New(time.Now().Add(-time.Hour)),
			Place: "Tocumen"}}).GetBulletin().GetId()
	note := nettest.Reply(t, us, &iantv1.ReplyToBulletinRequest{Id: id, Origin: "MX", Kind: iantv1.ReplyKind_REPLY_KIND_ANSWER,
		Body: "Known to our service."}).GetBulletin().GetId()

	c := newClient(t, nw, testenv.FocalPoint("US"), "US")
	root, cs := c.discover()
	all := collectionTitled(t, cs, "Bulletins released to US").ID
	report := stix.ReportID("MX", id)
	var versions struct {
		Versions []string `json:"versions"`
	}
	c.get(root+"collections/"+all+"/objects/"+report+"/versions/", &versions)
	if len(versions.Versions) != 2 || versions.Versions[0] >= versions.Versions[1] {
		t.Errorf("versions of the report = %v, want the first version and the revision, oldest first", versions.Versions)
	}
	objs, _ := c.walk(root, all, url.Values{})
	var reports []map[string]any
	for _, o := range objectsOfType(objs, "report") {
		if o["id"] == report {
			reports = append(reports, o)
		}
	}
	if len(reports) != 1 || reports[0]["name"] != "Courier on CM471, second leg CM472" || reports[0]["modified"] == reports[0]["created"] {
		t.Errorf("latest versions of %s = %v, want the revision (a later modified)", report, reports)
	}
	var gotSighting, gotNote bool
	for _, o := range objectsOfType(objs, "sighting") {
		if o["x_iant_reply_id"] == sighting {
			gotSighting = o["sighting_of_ref"] == report && o["x_iant_sighting_kind"] == "false-positive" && o["x_iant_place"] == "Tocumen"
		}
	}
	for _, o := range objectsOfType(objs, "note") {
		if o["x_iant_reply_id"] == note {
			gotNote = o["x_iant_reply_kind"] == "answer" && o["content"] == "Known to our service."
		}
	}
	if !gotSighting || !gotNote {
		t.Errorf("sighting served as a STIX sighting: %v; answer served as a note: %v; objects %v", gotSighting, gotNote, objs)
	}

	nettest.Revoke(t, mx, id, "source retracted")
	nettest.WaitRevoked(t, us, id)
	var env envelopeRes
	c.get(root+"collections/"+all+"/objects/"+report+"/", &env)
	if len(env.Objects) != 1 || env.Objects[0]["revoked"] != true || env.Objects[0]["name"] == "Courier on CM471, second leg CM472" {
		t.Errorf("the revoked report = %v, want one version, revoked true, without its content", env.Objects)
	}
}

package taxii_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/stix"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestRedNeverInAnAnalystsCollection posts a TLP:RED and an AMBER
// bulletin to the US and reads every collection, manifest, object and
// version as the US analyst: RED never appears; the US focal point sees
// it.
func TestRedNeverInAnAnalystsCollection(t *testing.T) {
	nw := startNetwork(t)
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	red := nettest.Draft("Named source in danger", "US")
	red.Marking = iantv1.Marking_MARKING_RED
	redID := nettest.Post(t, mx, red).GetBulletin().GetId()
	amberID := nettest.Post(t, mx, nettest.Draft("Courier on CM471", "US")).GetBulletin().GetId()
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	nettest.WaitStored(t, us, redID)
	nettest.WaitStored(t, us, amberID)
	redReport := stix.ReportID("MX", redID)

	analyst := newClient(t, nw, testenv.Analyst("US"), "US")
	root, cs := analyst.discover()
	if len(cs) != 1+4+12 {
		t.Errorf("%d collections, want 17 (all, 4 regions, 12 categories)", len(cs))
	}
	inAny := false
	for _, c := range cs {
		objs, _ := analyst.walk(root, c.ID, url.Values{"match[version]": {"all"}})
		reports := reportsOf(objs)
		if slices.Contains(reports, redID) {
			t.Errorf("collection %q shows the RED bulletin to an analyst", c.Title)
		}
		inAny = inAny || slices.Contains(reports, amberID)
		want := c.Title == "Bulletins released to US" || c.Title == "From North America" || c.Title == "Category foreign-terrorist-fighter"
		if got := slices.Contains(reports, amberID); got != want {
			t.Errorf("collection %q holds the AMBER bulletin: %v, want %v", c.Title, got, want)
		}
		var m manifestRes
		analyst.get(root+"collections/"+c.ID+"/manifest/", &m)
		for _, r := range m.Objects {
			if r.ID == redReport {
				t.Errorf("manifest of %q lists the RED report", c.Title)
			}
		}
		for _, path := range []string{"objects/" + redReport + "/", "objects/" + redReport + "/versions/"} {
			if r := analyst.do(http.MethodGet, root+"collections/"+c.ID+"/"+path, nil, nil); r.code != http.StatusNotFound {
				t.Errorf("GET %s in %q = %d, want 404", path, c.Title, r.code)
			}
		}
	}
	if !inAny {
		t.Error("the AMBER bulletin is in no collection")
	}

	focal := newClient(t, nw, testenv.FocalPoint("US"), "US")
	root, cs = focal.discover()
	all := collectionTitled(t, cs, "Bulletins released to US")
	if !all.CanWrite {
		t.Errorf("a focal point's collection %+v is not writable", all)
	}
	objs, _ := focal.walk(root, all.ID, url.Values{})
	if !slices.Contains(reportsOf(objs), redID) {
		t.Error("the US focal point does not see the RED bulletin")
	}
	var one envelopeRes
	focal.get(root+"collections/"+all.ID+"/objects/"+redReport+"/", &one)
	if len(one.Objects) != 1 || one.Objects[0]["object_marking_refs"].([]any)[0] != stix.MarkingID(bulletin.Red) {
		t.Errorf("GET the RED report = %+v", one)
	}
	var versions struct{ Versions []string }
	focal.get(root+"collections/"+all.ID+"/objects/"+redReport+"/versions/", &versions)
	if len(versions.Versions) != 1 {
		t.Errorf("versions of the RED report = %v, want one", versions.Versions)
	}

	// People of another state may not use the US node at all.
	other := newClient(t, nw, testenv.Analyst("MX"), "US")
	if r := other.do(http.MethodGet, "/taxii2/", nil, nil); r.code != http.StatusForbidden || !strings.Contains(string(r.body), "caller.own_state") {
		t.Errorf("an MX analyst at the US node = %d %s, want 403 naming caller.own_state", r.code, r.body)
	}
}

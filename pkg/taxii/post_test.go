package taxii_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/stix"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// draftFor is a bulletin a focal point of origin writes for TAXII.
func draftFor(origin, title string, marking bulletin.Marking, rel bulletin.Releasability) bulletin.Bulletin {
	return bulletin.Bulletin{ID: "01KAQZ7W3M4T3V9K6R5N0" + strings.ToUpper(title[:5]), Origin: origin,
		CreatedAt: time.Now().UTC(), Precedence: bulletin.Priority, Category: bulletin.TerrorismFinancing,
		Language: bulletin.Spanish, Marking: marking, Releasability: rel, Title: title, Body: "body of " + title,
		Indicators: []bulletin.Indicator{{Type: bulletin.IndicatorNetwork, Value: "203.0.113.5"}}}
}

// envelopeOf is a TAXII envelope of the objects of bulletins.
func envelopeOf(t *testing.T, bs ...bulletin.Bulletin) []byte {
	t.Helper()
	var objs []stix.Object
	for _, b := range bs {
		o, err := stix.Objects(stix.Version{Bulletin: b})
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o...)
	}
	data, err := json.Marshal(map[string]any{"objects": stix.NewBundle(objs).Objects})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// count is how many bulletins the node of state cc lists to its focal
// point.
func count(t *testing.T, nw *testenv.Network, cc string) int {
	t.Helper()
	resp, err := nettest.Dial(t, nw, testenv.FocalPoint(cc)).ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.GetBulletins())
}

func TestMediaTypesAndStatusCodes(t *testing.T) {
	nw := startNetwork(t)
	focal := newClient(t, nw, testenv.FocalPoint("MX"), "MX")
	analyst := newClient(t, nw, testenv.Analyst("MX"), "MX")
	root, cs := focal.discover()
	all := collectionTitled(t, cs, "Bulletins released to MX")
	objects := root + "collections/" + all.ID + "/objects/"
	good := envelopeOf(t, draftFor("MX", "Funds moved", bulletin.Amber, bulletin.Releasability{States: []string{"US"}}))
	huge := `{"objects":[` + strings.Repeat(`{"type":"note"},`, stix.MaxBundleBytes/16) + `{}]}`
	taxii := map[string]string{"Content-Type": mediaTAXII}
	tests := []struct {
		name           string
		c              *taxiiClient
		method, target string
		body           string
		header         map[string]string
		want           int
		wantDesc       string
	}{
		{name: "discovery", c: analyst, method: "GET", target: "/taxii2/", want: 200},
		{name: "accept without version", c: analyst, method: "GET", target: "/taxii2/", header: map[string]string{"Accept": "application/taxii+json"}, want: 200},
		{name: "no accept", c: analyst, method: "GET", target: "/taxii2/", header: map[string]string{"Accept": ""}, want: 406},
		{name: "accept JSON", c: analyst, method: "GET", target: "/taxii2/", header: map[string]string{"Accept": "application/json"}, want: 406},
		{name: "accept TAXII 2.0", c: analyst, method: "GET", target: root, header: map[string]string{"Accept": "application/taxii+json;version=2.0"}, want: 406},
		{name: "unknown path", c: analyst, method: "GET", target: "/nope/", want: 404},
		{name: "unknown collection", c: analyst, method: "GET", target: root + "collections/0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061/", want: 404},
		{name: "unknown status", c: analyst, method: "GET", target: root + "status/0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061/", want: 404},
		{name: "method not allowed", c: analyst, method: "PUT", target: root + "collections/", want: 405},
		{name: "limit zero", c: analyst, method: "GET", target: objects + "?limit=0", want: 400, wantDesc: "limit"},
		{name: "bad next", c: analyst, method: "GET", target: objects + "?next=bogus", want: 400, wantDesc: "next"},
		{name: "bad added_after", c: analyst, method: "GET", target: objects + "?added_after=yesterday", want: 400, wantDesc: "added_after"},
		{name: "bad match[version]", c: analyst, method: "GET", target: objects + "?match%5Bversion%5D=newest", want: 400, wantDesc: "match[version]"},
		{name: "unknown parameter", c: analyst, method: "GET", target: objects + "?sort=asc", want: 400, wantDesc: `"sort"`},
		{name: "spec_version 2.0", c: analyst, method: "GET", target: objects + "?match%5Bspec_version%5D=2.0", want: 200},
		{name: "delete", c: focal, method: "DELETE", target: objects + stix.ReportID("MX", "x") + "/", want: 403},
		{name: "analyst posts", c: analyst, method: "POST", target: objects, body: string(good), header: taxii, want: 403},
		{name: "post JSON", c: focal, method: "POST", target: objects, body: string(good), header: map[string]string{"Content-Type": "application/json"}, want: 415},
		{name: "post huge", c: focal, method: "POST", target: objects, body: huge, header: taxii, want: 413},
		{name: "post malformed", c: focal, method: "POST", target: objects, body: string(good[:len(good)/2]), header: taxii, want: 400},
		{name: "post duplicate key", c: focal, method: "POST", target: objects, header: taxii, want: 400, wantDesc: `objects[0].spec_version: key "spec_version" appears twice`,
			body: strings.Replace(string(good), `"spec_version":"2.1"`, `"spec_version":"2.1","spec_version":"2.1"`, 2)},
		{name: "post unknown type", c: focal, method: "POST", target: objects, header: taxii, want: 422, wantDesc: `objects[2].type: unknown object type "x-acme"`,
			body: strings.Replace(string(good), `"type":"indicator","spec_version":"2.1","id":"indicator--`, `"type":"x-acme","spec_version":"2.1","id":"x-acme--`, 1)},
		{name: "post TLP 1.0", c: focal, method: "POST", target: objects, header: taxii, want: 422, wantDesc: "is TLP 1.0 (TLP:WHITE)",
			body: strings.ReplaceAll(string(good), stix.MarkingID(bulletin.Amber), "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9")},
		{name: "post bad pattern", c: focal, method: "POST", target: objects, header: taxii, want: 422, wantDesc: "objects[2].pattern: at offset 17: operator LIKE",
			body: strings.Replace(string(good), `[ipv4-addr:value = '203.0.113.5']`, `[ipv4-addr:value LIKE '203.%']`, 1)},
		{name: "post another state's bulletin", c: focal, method: "POST", target: objects, header: taxii, want: 422, wantDesc: "objects[3].created_by_ref: this report was issued by US",
			body: string(envelopeOf(t, draftFor("US", "Not ours", bulletin.Amber, bulletin.Releasability{All: true})))},
		{name: "post invalid bulletin", c: focal, method: "POST", target: objects, header: taxii, want: 422, wantDesc: "objects[3].x_iant_releasability.states: unknown state code",
			body: strings.Replace(string(good), `"states":["US"]`, `"states":["FR"]`, 1)},
	}
	before := count(t, nw, "MX")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.do(tt.method, tt.target, []byte(tt.body), tt.header)
			if r.code != tt.want || r.header.Get("Content-Type") != mediaTAXII {
				t.Fatalf("%s %s = %d %q, want %d %s: %s", tt.method, tt.target, r.code, r.header.Get("Content-Type"), tt.want, mediaTAXII, r.body)
			}
			if tt.want >= 400 {
				var e errorRes
				if err := json.Unmarshal(r.body, &e); err != nil || e.Title == "" || e.HTTPStatus != strconv.Itoa(tt.want) {
					t.Errorf("error message %s, want a title and http_status %d", r.body, tt.want)
				}
				if !strings.Contains(e.Description, tt.wantDesc) {
					t.Errorf("description %q, want it to contain %q", e.Description, tt.wantDesc)
				}
			}
			if tt.want == 405 && r.header.Get("Allow") != "GET" {
				t.Errorf("Allow = %q, want GET", r.header.Get("Allow"))
			}
		})
	}
	if n := count(t, nw, "MX"); n != before {
		t.Errorf("refused requests posted: %d bulletins, then %d", before, n)
	}
}

// TestPostObjects posts through TAXII: a valid envelope becomes bulletins
// (202 and a complete status, readable later by its poster only); an
// envelope whose second bulletin the node refuses posts the first and
// says so per object.
func TestPostObjects(t *testing.T) {
	nw := startNetwork(t)
	focal := newClient(t, nw, testenv.FocalPoint("MX"), "MX")
	root, cs := focal.discover()
	objects := root + "collections/" + collectionTitled(t, cs, "Bulletins released to MX").ID + "/objects/"

	ok := draftFor("MX", "Funds moved", bulletin.Amber, bulletin.Releasability{States: []string{"US"}})
	r := focal.post(objects, envelopeOf(t, ok))
	var st statusRes
	if r.code != http.StatusAccepted || r.header.Get("Content-Type") != mediaTAXII || json.Unmarshal(r.body, &st) != nil {
		t.Fatalf("POST = %d %s: %s", r.code, r.header.Get("Content-Type"), r.body)
	}
	if st.Status != "complete" || st.TotalCount != 4 || st.SuccessCount != 4 || st.FailureCount != 0 || st.PendingCount != 0 {
		t.Errorf("status = %+v, want 4 objects all posted", st)
	}
	id := ""
	for _, s := range st.Successes {
		if s.ID == stix.ReportID(ok.Origin, ok.ID) {
			id = strings.TrimPrefix(s.Message, "posted as bulletin ")
		}
	}
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("US")), id)
	var again statusRes
	focal.get(root+"status/"+st.ID+"/", &again)
	if again.ID != st.ID || again.SuccessCount != 4 {
		t.Errorf("GET status = %+v", again)
	}
	other := newClient(t, nw, testenv.Analyst("MX"), "MX")
	if r := other.do(http.MethodGet, root+"status/"+st.ID+"/", nil, nil); r.code != http.StatusNotFound {
		t.Errorf("another person's GET status = %d, want 404", r.code)
	}

	// RED to a region: valid as a bulletin, refused by the post policy.
	refused := draftFor("MX", "Named source", bulletin.Red, bulletin.Releasability{Regions: []region.Region{region.Caribbean}})
	again2 := draftFor("MX", "Second move", bulletin.Green, bulletin.Releasability{States: []string{"JM"}})
	before := count(t, nw, "MX")
	r = focal.post(objects, envelopeOf(t, again2, refused))
	if r.code != http.StatusAccepted || json.Unmarshal(r.body, &st) != nil {
		t.Fatalf("POST = %d: %s", r.code, r.body)
	}
	if st.TotalCount != 7 || st.SuccessCount != 5 || st.FailureCount != 2 {
		t.Errorf("status = %+v, want 5 successes (the first bulletin's 4 objects, the RED marking definition) and the refused bulletin's 2 objects failed", st)
	}
	for _, f := range st.Failures {
		if !strings.Contains(f.Message, "not posted:") || !strings.Contains(f.Message, "(rule post-red-listed-states-only)") || f.Version == "" {
			t.Errorf("failure %+v, want the rule that refused", f)
		}
	}
	if n := count(t, nw, "MX"); n != before+1 {
		t.Errorf("%d bulletins posted, want 1", n-before)
	}
}

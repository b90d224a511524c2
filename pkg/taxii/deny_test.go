package taxii_test

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"strings"
	"testing"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/stix"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestDeniedIdentityRefusedOverTAXII: the secretariat denies US's focal
// point (iant admin deny SPIFFE_ID) after it has used US's TAXII server.
// Every TAXII endpoint — discovery, API root, collections, a collection,
// its manifest, objects (GET and POST of an envelope), an object and its
// versions — then answers 403 with a TAXII error saying the identity is
// denied (rule caller.denied), on the connection the focal point already
// had open as on a new one; nothing it posts is stored. US's analyst is
// untouched until it too is denied, by its certificate's serial number
// (the other form of deny entry). Each refusal is logged as the gRPC API logs a denied
// caller (WARN "denied identity refused" naming the peer) and counted in
// iant_refusals_total{rule="caller.denied"}.
func TestDeniedIdentityRefusedOverTAXII(t *testing.T) {
	logs := nettest.NewLogs(t)
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, TAXII: true, Logger: logs.Logger()})
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	id := nettest.Post(t, mx, nettest.Draft("Courier on CM471", "US")).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("US")), id)

	focal := newClient(t, nw, testenv.FocalPoint("US"), "US")
	root, cs := focal.discover()
	all := collectionTitled(t, cs, "Bulletins released to US").ID
	report := stix.ReportID("MX", id)
	var env envelopeRes
	focal.get(root+"collections/"+all+"/objects/"+report+"/", &env)

	denied := testenv.FocalPoint("US")
	resp, err := nettest.AdminClient(t, nw).Deny(t.Context(), &iantv1.DenyRequest{SpiffeId: denied.ID(nw.TD).String(), Reason: "laptop stolen"})
	if err != nil {
		t.Fatal(err)
	}
	nettest.WaitMembership(t, nw, 1, resp.GetDenyList().GetVersion(), "US")

	envelope := []byte(`{"objects":[{"type":"report","spec_version":"2.1","id":"report--6b3f0a4e-0c4f-4a8e-9a59-3a4c1f0f2f11",` +
		`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"QZDENIEDPOST","published":"2026-01-01T00:00:00.000Z",` +
		`"report_types":["threat-report"],"object_refs":["report--6b3f0a4e-0c4f-4a8e-9a59-3a4c1f0f2f11"]}]}`)
	requests := []struct{ method, target string }{
		{http.MethodGet, "/taxii2/"},
		{http.MethodGet, root},
		{http.MethodGet, root + "collections/"},
		{http.MethodGet, root + "collections/" + all + "/"},
		{http.MethodGet, root + "collections/" + all + "/manifest/"},
		{http.MethodGet, root + "collections/" + all + "/objects/"},
		{http.MethodPost, root + "collections/" + all + "/objects/"},
		{http.MethodGet, root + "collections/" + all + "/objects/" + report + "/"},
		{http.MethodGet, root + "collections/" + all + "/objects/" + report + "/versions/"},
	}
	fresh := newClient(t, nw, denied, "US") // a connection opened after the deny
	n := 0
	for _, c := range []*taxiiClient{focal, fresh} {
		for _, rq := range requests {
			var body []byte
			header := map[string]string{}
			if rq.method == http.MethodPost {
				body, header["Content-Type"] = envelope, mediaTAXII
			}
			r := c.do(rq.method, rq.target, body, header)
			n++
			if r.code != http.StatusForbidden || !strings.Contains(string(r.body), "denied network-wide") ||
				!strings.Contains(string(r.body), "caller.denied") || strings.Contains(string(r.body), "Courier") {
				t.Errorf("%s %s by the denied focal point = %d %s, want 403 naming caller.denied", rq.method, rq.target, r.code, r.body)
			}
		}
	}

	analyst := newClient(t, nw, testenv.Analyst("US"), "US")
	var got envelopeRes
	analyst.get(root+"collections/"+all+"/objects/"+report+"/", &got)
	if len(got.Objects) != 1 {
		t.Errorf("US's analyst reads %d versions of the report, want 1", len(got.Objects))
	}
	list, err := nettest.Dial(t, nw, testenv.Analyst("US")).SearchBulletins(t.Context(), &iantv1.SearchBulletinsRequest{Query: "qzdeniedpost"})
	if err != nil || len(list.GetBulletins()) != 0 {
		t.Errorf("search for the denied focal point's post = %v, %v; want nothing stored", list.GetBulletins(), err)
	}

	// Denied by the serial number of its certificate, the analyst is
	// refused the same way.
	e, _ := nw.PKI.Find(testenv.Analyst("US"))
	pemData, err := os.ReadFile(e.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemData)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = nettest.AdminClient(t, nw).Deny(t.Context(), &iantv1.DenyRequest{Serial: membership.SerialString(cert.SerialNumber), Reason: "token lost"})
	if err != nil {
		t.Fatal(err)
	}
	nettest.WaitMembership(t, nw, 1, resp.GetDenyList().GetVersion(), "US")
	if r := analyst.do(http.MethodGet, root+"collections/"+all+"/objects/", nil, nil); r.code != http.StatusForbidden || !strings.Contains(string(r.body), "caller.denied") {
		t.Errorf("GET objects by the analyst denied by serial = %d %s, want 403 naming caller.denied", r.code, r.body)
	}
	n++

	if got := logs.Count("level=WARN", "msg=denied identity refused", "peer="+denied.String()); got != n-1 {
		t.Errorf("%d WARN records \"denied identity refused\" of %s, want one for each of its %d TAXII requests", got, denied, n-1)
	}
	if got := logs.Count("level=WARN", "msg=denied identity refused", "peer="+testenv.Analyst("US").String()); got != 1 {
		t.Errorf("%d WARN records \"denied identity refused\" of the analyst, want 1", got)
	}
	if v, ok := nettest.MetricValue(t, nw.Registry(), "iant_refusals_total", map[string]string{"node": "US", "rule": "caller.denied"}); !ok || v != float64(n) {
		t.Errorf("iant_refusals_total{node=US,rule=caller.denied} = %v (found %v), want %d", v, ok, n)
	}
}

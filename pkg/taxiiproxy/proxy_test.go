package taxiiproxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/taxiiproxy"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// The client in this file is written from the TAXII 2.1 specification
// (OASIS, 10 June 2021: §1.6.8 media types, §3.6 errors, §3.7 envelope,
// §4.1 discovery, §4.2 API root, §5 collections and objects) and knows
// only URLs, headers, JSON and HTTP Basic auth, as a tool without a
// client certificate does.

const mediaTAXII = "application/taxii+json;version=2.1"

type basicClient struct {
	t          *testing.T
	http       *http.Client
	user, pass string
}

type answer struct {
	code   int
	header http.Header
	body   []byte
}

// do sends a request to target with Basic auth (unless pass is empty);
// edit may change the request before it goes.
func (c *basicClient) do(method, target string, edit func(*http.Request)) answer {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, target, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", mediaTAXII)
	if c.pass != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return answer{code: resp.StatusCode, header: resp.Header, body: body}
}

// get GETs target and decodes a 200 TAXII answer into v.
func (c *basicClient) get(target string, v any) {
	c.t.Helper()
	a := c.do(http.MethodGet, target, nil)
	if a.code != http.StatusOK || a.header.Get("Content-Type") != mediaTAXII {
		c.t.Fatalf("GET %s = %d %s: %s", target, a.code, a.header.Get("Content-Type"), a.body)
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		c.t.Fatalf("GET %s: %v in %s", target, err, a.body)
	}
}

type discovery struct {
	Default  string   `json:"default"`
	APIRoots []string `json:"api_roots"`
}

type apiRoot struct {
	Versions []string `json:"versions"`
}

type collection struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type envelope struct {
	More    bool             `json:"more"`
	Next    string           `json:"next"`
	Objects []map[string]any `json:"objects"`
}

// walk reads every page of a collection's objects and returns the
// bulletin ids of the reports among them.
func (c *basicClient) walk(root, id string) []string {
	c.t.Helper()
	var ids []string
	q := url.Values{"limit": {"2"}}
	for range 1000 {
		var e envelope
		c.get(root+"collections/"+id+"/objects/?"+q.Encode(), &e)
		for _, o := range e.Objects {
			if o["type"] == "report" {
				ids = append(ids, o["x_iant_bulletin_id"].(string))
			}
		}
		if !e.More {
			return ids
		}
		q.Set("next", e.Next)
	}
	c.t.Fatalf("collection %s: more than 1000 pages", id)
	return nil
}

// start runs a proxy for person p to state cc's node.
func start(t *testing.T, nw *testenv.Network, p identity.Principal, cc string) *taxiiproxy.Proxy {
	t.Helper()
	pr, err := taxiiproxy.Start(t.Context(), config(t, nw, p, cc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pr.Close(); err != nil {
			t.Errorf("close proxy: %v", err)
		}
	})
	return pr
}

func config(t *testing.T, nw *testenv.Network, p identity.Principal, cc string) taxiiproxy.Config {
	t.Helper()
	e, ok := nw.PKI.Find(p)
	if !ok {
		t.Fatalf("no SVID for %s", p)
	}
	src, err := identity.LoadFiles(nw.TD, e.CertFile, e.KeyFile, nw.PKI.BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	return taxiiproxy.Config{Upstream: nw.TAXIIURL(cc), NodeID: testenv.NodePrincipal(cc).ID(nw.TD), SVID: src, Bundle: src}
}

func client(t *testing.T, pr *taxiiproxy.Proxy) *basicClient {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &basicClient{t: t, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, user: "iant", pass: pr.Token()}
}

// TestAnalystWalksThroughProxy posts a TLP:RED and an AMBER bulletin to
// the US and walks discovery → API root → collections → objects through
// the US analyst's proxy: the API root names the proxy, the AMBER
// bulletin is there, the RED one never is.
func TestAnalystWalksThroughProxy(t *testing.T) {
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, TAXII: true})
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	red := nettest.Draft("Named source in danger", "US")
	red.Marking = iantv1.Marking_MARKING_RED
	redID := nettest.Post(t, mx, red).GetBulletin().GetId()
	amberID := nettest.Post(t, mx, nettest.Draft("Courier on CM471", "US")).GetBulletin().GetId()
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	nettest.WaitStored(t, us, redID)
	nettest.WaitStored(t, us, amberID)

	pr := start(t, nw, testenv.Analyst("US"), "US")
	c := client(t, pr)
	var d discovery
	c.get(pr.DiscoveryURL(), &d)
	if len(d.APIRoots) != 1 || d.Default != d.APIRoots[0] || !strings.HasPrefix(d.APIRoots[0], pr.BaseURL()+"/") {
		t.Fatalf("discovery through the proxy = %+v, want API roots at %s", d, pr.BaseURL())
	}
	root := d.APIRoots[0]
	var ar apiRoot
	c.get(root, &ar)
	if !slices.Contains(ar.Versions, mediaTAXII) {
		t.Errorf("API root versions = %v", ar.Versions)
	}
	var cs struct {
		Collections []collection `json:"collections"`
	}
	c.get(root+"collections/", &cs)
	if len(cs.Collections) == 0 {
		t.Fatal("no collections through the proxy")
	}
	var sawAmber bool
	for _, col := range cs.Collections {
		ids := c.walk(root, col.ID)
		if slices.Contains(ids, redID) {
			t.Errorf("collection %q shows the RED bulletin to the analyst through the proxy", col.Title)
		}
		sawAmber = sawAmber || slices.Contains(ids, amberID)
	}
	if !sawAmber {
		t.Error("the AMBER bulletin is in no collection through the proxy")
	}
	// The node decides by the person behind the proxy: the US focal
	// point's proxy shows the RED bulletin.
	fp := start(t, nw, testenv.FocalPoint("US"), "US")
	fc := client(t, fp)
	var fd discovery
	fc.get(fp.DiscoveryURL(), &fd)
	var fcs struct {
		Collections []collection `json:"collections"`
	}
	fc.get(fd.APIRoots[0]+"collections/", &fcs)
	var sawRed bool
	for _, col := range fcs.Collections {
		sawRed = sawRed || slices.Contains(fc.walk(fd.APIRoots[0], col.ID), redID)
	}
	if !sawRed {
		t.Error("the US focal point does not see the RED bulletin through the proxy")
	}
	// POST bodies reach the node and its decisions come back: an analyst
	// may not add objects (403), a focal point's malformed envelope is
	// read and refused (400).
	if a := c.do(http.MethodPost, root+"collections/"+cs.Collections[0].ID+"/objects/", withBody(`{"objects":[]}`)); a.code != http.StatusForbidden {
		t.Errorf("analyst's POST through the proxy = %d %s, want 403", a.code, a.body)
	}
	if a := fc.do(http.MethodPost, fd.APIRoots[0]+"collections/"+fcs.Collections[0].ID+"/objects/", withBody(`{"objects":[`)); a.code != http.StatusBadRequest || a.header.Get("Content-Type") != mediaTAXII {
		t.Errorf("focal point's malformed POST through the proxy = %d %s, want 400", a.code, a.body)
	}
	// The node's own answers pass unchanged: an unknown object is 404
	// with the TAXII media type, a bad Accept header 406.
	a := c.do(http.MethodGet, root+"collections/"+cs.Collections[0].ID+"/objects/report--00000000-0000-4000-8000-000000000000/", nil)
	if a.code != http.StatusNotFound || a.header.Get("Content-Type") != mediaTAXII {
		t.Errorf("GET an unknown object = %d %s, want 404 %s", a.code, a.header.Get("Content-Type"), mediaTAXII)
	}
	a = c.do(http.MethodGet, root, func(r *http.Request) { r.Header.Set("Accept", "text/html") })
	if a.code != http.StatusNotAcceptable {
		t.Errorf("GET the API root with Accept text/html = %d, want 406", a.code)
	}
}

// withBody sets a TAXII request body.
func withBody(body string) func(*http.Request) {
	return func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", mediaTAXII)
	}
}

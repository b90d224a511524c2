package taxii_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// This file is a TAXII 2.1 client written from the specification (OASIS
// TAXII Version 2.1, 10 June 2021: §1.6.8 media types, §3.4 filtering,
// §3.6 errors, §3.7 envelope, §4 discovery and API roots, §5 collections,
// objects and manifests), not from the server's code: it has its own
// types and constants and knows only URLs, headers and JSON.

const mediaTAXII = "application/taxii+json;version=2.1"

// taxiiClient talks to one TAXII server as one person, presenting the
// person's SVID and accepting only the server's node SPIFFE ID.
type taxiiClient struct {
	t    *testing.T
	http *http.Client
	host string // https://host:port
}

func newClient(t *testing.T, nw *testenv.Network, p identity.Principal, cc string) *taxiiClient {
	t.Helper()
	e, ok := nw.PKI.Find(p)
	if !ok {
		t.Fatalf("no SVID for %s", p)
	}
	src, err := identity.LoadFiles(nw.TD, e.CertFile, e.KeyFile, nw.PKI.BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	node := testenv.NodePrincipal(cc).ID(nw.TD)
	tr := &http.Transport{TLSClientConfig: tlsconfig.MTLSClientConfig(src, src, tlsconfig.AuthorizeID(node))}
	t.Cleanup(tr.CloseIdleConnections)
	u := nw.TAXIIURL(cc)
	if u == "" {
		t.Fatalf("no TAXII server at %s", cc)
	}
	return &taxiiClient{t: t, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, host: strings.TrimSuffix(u, "/taxii2/")}
}

// response is an HTTP answer, read whole.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// do sends a request; url is absolute or a path on the server.
func (c *taxiiClient) do(method, target string, body []byte, header map[string]string) response {
	c.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = c.host + target
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, target, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", mediaTAXII)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: data}
}

// get GETs target and decodes a 200 TAXII answer into v.
func (c *taxiiClient) get(target string, v any) response {
	c.t.Helper()
	r := c.do(http.MethodGet, target, nil, nil)
	if r.code != http.StatusOK || r.header.Get("Content-Type") != mediaTAXII {
		c.t.Fatalf("GET %s = %d %s: %s", target, r.code, r.header.Get("Content-Type"), r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		c.t.Fatalf("GET %s: %v in %s", target, err, r.body)
	}
	return r
}

// post POSTs an envelope of objects to a collection's objects URL.
func (c *taxiiClient) post(objectsURL string, envelope []byte) response {
	c.t.Helper()
	return c.do(http.MethodPost, objectsURL, envelope, map[string]string{"Content-Type": mediaTAXII})
}

// §4.1 discovery, §4.2 API root, §5.1 collections.
type discoveryRes struct {
	Title    string   `json:"title"`
	Default  string   `json:"default"`
	APIRoots []string `json:"api_roots"`
}

type apiRootRes struct {
	Title            string   `json:"title"`
	Versions         []string `json:"versions"`
	MaxContentLength int      `json:"max_content_length"`
}

type collectionRes struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	CanRead    bool     `json:"can_read"`
	CanWrite   bool     `json:"can_write"`
	MediaTypes []string `json:"media_types"`
}

type collectionsRes struct {
	Collections []collectionRes `json:"collections"`
}

// §3.7 envelope.
type envelopeRes struct {
	More    bool             `json:"more"`
	Next    string           `json:"next"`
	Objects []map[string]any `json:"objects"`
}

// §5.3 manifest.
type manifestRes struct {
	More    bool `json:"more"`
	Next    string
	Objects []struct {
		ID        string `json:"id"`
		DateAdded string `json:"date_added"`
		Version   string `json:"version"`
		MediaType string `json:"media_type"`
	} `json:"objects"`
}

// §4.3 status.
type statusRes struct {
	ID           string          `json:"id"`
	Status       string          `json:"status"`
	TotalCount   int             `json:"total_count"`
	SuccessCount int             `json:"success_count"`
	FailureCount int             `json:"failure_count"`
	PendingCount int             `json:"pending_count"`
	Successes    []statusDetails `json:"successes"`
	Failures     []statusDetails `json:"failures"`
}

type statusDetails struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message"`
}

// §3.6.1 error message.
type errorRes struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	HTTPStatus  string `json:"http_status"`
}

// discover walks discovery → API root → collections, as a client that
// knows only the discovery URL does, and returns the API root URL and the
// collections.
func (c *taxiiClient) discover() (string, []collectionRes) {
	c.t.Helper()
	var d discoveryRes
	c.get("/taxii2/", &d)
	if len(d.APIRoots) == 0 || d.Default != d.APIRoots[0] {
		c.t.Fatalf("discovery = %+v", d)
	}
	var root apiRootRes
	c.get(d.APIRoots[0], &root)
	if len(root.Versions) == 0 || root.Versions[0] != mediaTAXII || root.MaxContentLength <= 0 {
		c.t.Fatalf("API root = %+v", root)
	}
	var cs collectionsRes
	c.get(d.APIRoots[0]+"collections/", &cs)
	return d.APIRoots[0], cs.Collections
}

// page GETs one page of a collection's objects with the given query.
func (c *taxiiClient) page(root, collection string, q url.Values) (envelopeRes, response) {
	c.t.Helper()
	var env envelopeRes
	r := c.get(root+"collections/"+collection+"/objects/?"+q.Encode(), &env)
	return env, r
}

// walk follows next from q until more is false and returns every object
// and the X-TAXII-Date-Added-Last of the last page that had objects.
func (c *taxiiClient) walk(root, collection string, q url.Values) ([]map[string]any, string) {
	c.t.Helper()
	var all []map[string]any
	last := ""
	for {
		env, r := c.page(root, collection, q)
		all = append(all, env.Objects...)
		if len(env.Objects) > 0 {
			last = r.header.Get("X-TAXII-Date-Added-Last")
			if r.header.Get("X-TAXII-Date-Added-First") == "" || last == "" {
				c.t.Fatalf("a page with objects lacks the X-TAXII-Date-Added headers: %v", r.header)
			}
		}
		if !env.More {
			return all, last
		}
		if env.Next == "" {
			c.t.Fatalf("more is true but there is no next")
		}
		q.Set("next", env.Next)
	}
}

// collectionTitled returns the id of the collection with title.
func collectionTitled(t *testing.T, cs []collectionRes, title string) collectionRes {
	t.Helper()
	for _, c := range cs {
		if c.Title == title {
			return c
		}
	}
	t.Fatalf("no collection %q in %+v", title, cs)
	return collectionRes{}
}

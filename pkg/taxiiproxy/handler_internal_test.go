package taxiiproxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRewriteDropsCredentials checks that the local client's credentials
// and cookies never go to the node, and that the request goes to the
// node under the node's name.
func TestRewriteDropsCredentials(t *testing.T) {
	p := &Proxy{upstream: &url.URL{Scheme: "https", Host: "node.example:7443"}}
	in := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9/iant/collections/?limit=2", nil)
	in.SetBasicAuth("iant", "secret-token")
	in.Header.Set("Proxy-Authorization", "Basic eA==")
	in.Header.Set("Cookie", "a=b")
	in.Header.Set("Accept", "application/taxii+json;version=2.1")
	pr := &httputil.ProxyRequest{In: in, Out: in.Clone(in.Context())}
	p.rewrite(pr)
	for _, h := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		if v := pr.Out.Header.Get(h); v != "" {
			t.Errorf("%s forwarded: %q", h, v)
		}
	}
	if got, want := pr.Out.URL.String(), "https://node.example:7443/iant/collections/?limit=2"; got != want {
		t.Errorf("upstream URL %s, want %s", got, want)
	}
	if pr.Out.Host != "" {
		t.Errorf("Host %q forwarded, want the node's", pr.Out.Host)
	}
	if pr.Out.Header.Get("Accept") == "" {
		t.Error("Accept not forwarded")
	}

	disc := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9/taxii2/", nil)
	disc.Header.Set("Accept-Encoding", "gzip")
	pr = &httputil.ProxyRequest{In: disc, Out: disc.Clone(disc.Context())}
	p.rewrite(pr)
	if v := pr.Out.Header.Get("Accept-Encoding"); v != "" {
		t.Errorf("discovery: the client's Accept-Encoding %q forwarded; the proxy must read the body", v)
	}
}

func TestRewriteDiscovery(t *testing.T) {
	const from, to = "https://node:7443", "http://127.0.0.1:9"
	tests := []struct {
		name, in string
		want     map[string]any
		wantErr  bool
	}{
		{"node's roots", `{"title":"t","default":"https://node:7443/iant/","api_roots":["https://node:7443/iant/"]}`,
			map[string]any{"title": "t", "default": to + "/iant/", "api_roots": []any{to + "/iant/"}}, false},
		{"other origins kept", `{"api_roots":["https://other/iant/","https://node:74430/x/"]}`,
			map[string]any{"api_roots": []any{"https://other/iant/", "https://node:74430/x/"}}, false},
		{"no roots", `{"title":"t"}`, map[string]any{"title": "t"}, false},
		{"not JSON", `<html>`, nil, true},
		{"default not a string", `{"default":1}`, nil, true},
		{"api_roots not strings", `{"api_roots":[1]}`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := rewriteDiscovery([]byte(tc.in), from, to)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "taxiiproxy: discovery") {
					t.Errorf("error %q does not name the discovery resource", err)
				}
				return
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("rewritten (-want +got):\n%s", d)
			}
		})
	}
}

// FuzzRewriteDiscovery: any input either fails or gives JSON whose roots
// never still name the node.
func FuzzRewriteDiscovery(f *testing.F) {
	f.Add([]byte(`{"default":"https://node:7443/iant/","api_roots":["https://node:7443/iant/"]}`))
	f.Add([]byte(`{"api_roots":["https://node:7443"]}`))
	f.Add([]byte(`{"default":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := rewriteDiscovery(data, "https://node:7443", "http://127.0.0.1:9")
		if err != nil {
			return
		}
		var d struct {
			APIRoots []string `json:"api_roots"`
		}
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatalf("output is not a discovery resource: %v: %s", err, out)
		}
		for _, r := range d.APIRoots {
			if r == "https://node:7443" || strings.HasPrefix(r, "https://node:7443/") {
				t.Errorf("root %q still names the node", r)
			}
		}
	})
}

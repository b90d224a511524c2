package taxiiproxy_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/taxiiproxy"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestRefusals checks what the proxy refuses before the node sees
// anything (no or a wrong token, a foreign Host) and what it answers when
// the node cannot be reached or is not the node it must be.
func TestRefusals(t *testing.T) {
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, TAXII: true})
	pr := start(t, nw, testenv.Analyst("MX"), "MX")
	_, port, _ := strings.Cut(pr.Addr(), ":")
	tests := []struct {
		name string
		pass string
		host string
		want int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong token", "not-the-token", "", http.StatusUnauthorized},
		{"token with a character more", pr.Token() + "x", "", http.StatusUnauthorized},
		{"foreign Host (DNS rebinding)", pr.Token(), "evil.example:" + port, http.StatusMisdirectedRequest},
		{"foreign Host without token", "", "evil.example:" + port, http.StatusMisdirectedRequest},
		{"Host on another port", pr.Token(), "127.0.0.1:1", http.StatusMisdirectedRequest},
		{"localhost is this machine", pr.Token(), "localhost:" + port, http.StatusOK},
		{"the token", pr.Token(), "", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := client(t, pr)
			c.pass = tc.pass
			a := c.do(http.MethodGet, pr.DiscoveryURL(), func(r *http.Request) {
				if tc.host != "" {
					r.Host = tc.host
				}
			})
			if a.code != tc.want {
				t.Fatalf("GET discovery = %d %s, want %d", a.code, a.body, tc.want)
			}
			if a.header.Get("Content-Type") != mediaTAXII {
				t.Errorf("Content-Type %q, want %q", a.header.Get("Content-Type"), mediaTAXII)
			}
			if a.code == http.StatusUnauthorized && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge: %q", a.header.Get("WWW-Authenticate"))
			}
			if strings.Contains(string(a.body), pr.Token()) {
				t.Error("the answer carries the token")
			}
		})
	}

	t.Run("node with another SPIFFE ID is refused", func(t *testing.T) {
		cfg := config(t, nw, testenv.Analyst("MX"), "US") // US's server, but expect MX's ID
		cfg.NodeID = testenv.NodePrincipal("MX").ID(nw.TD)
		p, err := taxiiproxy.Start(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if a := client(t, p).do(http.MethodGet, p.DiscoveryURL(), nil); a.code != http.StatusBadGateway {
			t.Errorf("GET through a proxy to the wrong node = %d %s, want 502", a.code, a.body)
		}
	})
	t.Run("node down", func(t *testing.T) {
		cfg := config(t, nw, testenv.Analyst("MX"), "MX")
		cfg.Upstream = "https://" + pr.Addr() + "/taxii2/" // a port that speaks plain HTTP, not TLS
		p, err := taxiiproxy.Start(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if a := client(t, p).do(http.MethodGet, p.DiscoveryURL(), nil); a.code != http.StatusBadGateway {
			t.Errorf("GET through a proxy to no TAXII server = %d %s, want 502", a.code, a.body)
		}
	})
	t.Run("bad config", func(t *testing.T) { badConfig(t, config(t, nw, testenv.Analyst("MX"), "MX")) })
}

// badConfig starts proxies with one field of good broken each.
func badConfig(t *testing.T, good taxiiproxy.Config) {
	tests := []struct {
		name string
		edit func(*taxiiproxy.Config)
		want error
	}{
		{"listen on all interfaces", func(c *taxiiproxy.Config) { c.Listen = "0.0.0.0:0" }, taxiiproxy.ErrNotLoopback},
		{"listen on a public address", func(c *taxiiproxy.Config) { c.Listen = "192.0.2.1:0" }, taxiiproxy.ErrNotLoopback},
		{"listen on a name", func(c *taxiiproxy.Config) { c.Listen = "example.com:0" }, taxiiproxy.ErrNotLoopback},
		{"listen without port", func(c *taxiiproxy.Config) { c.Listen = "127.0.0.1" }, taxiiproxy.ErrConfig},
		{"no node ID", func(c *taxiiproxy.Config) { c.NodeID = spiffeid.ID{} }, taxiiproxy.ErrConfig},
		{"no SVID", func(c *taxiiproxy.Config) { c.SVID = nil }, taxiiproxy.ErrConfig},
		{"no upstream", func(c *taxiiproxy.Config) { c.Upstream = "" }, taxiiproxy.ErrConfig},
		{"plain http upstream", func(c *taxiiproxy.Config) { c.Upstream = "http://127.0.0.1:7443/taxii2/" }, taxiiproxy.ErrConfig},
		{"upstream with another path", func(c *taxiiproxy.Config) { c.Upstream = "https://127.0.0.1:7443/other/" }, taxiiproxy.ErrConfig},
		{"upstream with credentials", func(c *taxiiproxy.Config) { c.Upstream = "https://u:p@127.0.0.1:7443/taxii2/" }, taxiiproxy.ErrConfig},
		{"upstream with a query", func(c *taxiiproxy.Config) { c.Upstream = "https://127.0.0.1:7443/taxii2/?x=1" }, taxiiproxy.ErrConfig},
		{"upstream not a URL", func(c *taxiiproxy.Config) { c.Upstream = "https://[::1" }, taxiiproxy.ErrConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			p, err := taxiiproxy.Start(t.Context(), cfg)
			if err == nil {
				p.Close()
				t.Fatal("Start succeeded")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Start: %v, want %v", err, tc.want)
			}
		})
	}
}

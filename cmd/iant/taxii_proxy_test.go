package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/testenv"
)

var (
	proxyDiscovery = regexp.MustCompile(`discovery: (http://127\.0\.0\.1:\d+/taxii2/)`)
	proxyPassword  = regexp.MustCompile(`password:  ([A-Za-z0-9_-]{43})\n`)
)

func TestTaxiiProxyCommand(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX"}, TAXII: true})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	analyst := filepath.Join(dir, "contexts", "mx-analyst-analyst.yaml")
	auditor := filepath.Join(dir, "contexts", "secretariat-auditor-auditor.yaml")

	t.Run("bad flags are refused naming the problem", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--context", analyst, "taxii-proxy", "--listen", "0.0.0.0:0"}, "not loopback"},
			{[]string{"--context", analyst, "taxii-proxy", "--listen", "nonsense"}, "Listen"},
			{[]string{"--context", analyst, "taxii-proxy", "--url", "http://127.0.0.1:1/taxii2/"}, "https"},
			{[]string{"--context", analyst, "taxii-proxy", "extra"}, "unknown command"},
			{[]string{"--context", auditor, "taxii-proxy"}, "--url"},
			{[]string{"--context", filepath.Join(dir, "missing.yaml"), "taxii-proxy"}, "missing.yaml"},
		} {
			if _, errLine := iant(t, t.Context(), tc.args...); !strings.Contains(errLine, tc.want) {
				t.Errorf("iant %q: error %q, want it to say %q", tc.args, errLine, tc.want)
			}
		}
	})

	t.Run("a client with the printed token reads discovery", func(t *testing.T) {
		j := startJob(t.Context(), "--context", analyst, "taxii-proxy")
		defer j.stop()
		j.waitFor(t, "password: ")
		out := j.out.String()
		disc, pass := proxyDiscovery.FindStringSubmatch(out), proxyPassword.FindStringSubmatch(out)
		if disc == nil || pass == nil {
			t.Fatalf("no discovery URL or password in %q", out)
		}
		get := func(pw string) (int, []byte) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, disc[1], nil)
			req.Header.Set("Accept", "application/taxii+json;version=2.1")
			req.SetBasicAuth("misp", pw)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, body
		}
		code, body := get(pass[1])
		var d struct {
			APIRoots []string `json:"api_roots"`
		}
		if err := json.Unmarshal(body, &d); code != http.StatusOK || err != nil || len(d.APIRoots) != 1 ||
			!strings.HasPrefix(d.APIRoots[0], strings.TrimSuffix(disc[1], "/taxii2/")) {
			t.Errorf("discovery through the proxy = %d %s", code, body)
		}
		if code, _ := get("wrong"); code != http.StatusUnauthorized {
			t.Errorf("wrong token = %d, want 401", code)
		}
		if strings.Contains(j.errw.String(), pass[1]) {
			t.Error("the token is in the logs")
		}
		if err := j.stop(); err != nil {
			t.Errorf("taxii-proxy ended with %v", err)
		}
	})
}

package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/testenv"
)

var loginURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/login\?token=[A-Za-z0-9_-]+`)

// openConsole spends a login URL the way a browser does and returns the
// final page's path and body.
func openConsole(t *testing.T, url string) (string, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %s %s", url, resp.Status, body)
	}
	return resp.Request.URL.Path, string(body)
}

func TestConsoleCommand(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	ctxFile := func(name string) string { return filepath.Join(dir, "contexts", name+".yaml") }

	t.Run("bad flags are refused naming the problem", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--context", ctxFile("us-analyst-analyst"), "console", "--listen", "0.0.0.0:0"}, "not loopback"},
			{[]string{"--context", ctxFile("us-analyst-analyst"), "console", "--listen", "nonsense"}, "listen address"},
			{[]string{"--context", ctxFile("us-analyst-analyst"), "console", "extra"}, "unknown command"},
			{[]string{"--context", filepath.Join(dir, "missing.yaml"), "console"}, "missing.yaml"},
		} {
			if _, errLine := iant(t, t.Context(), tc.args...); !strings.Contains(errLine, tc.want) {
				t.Errorf("iant %q: error %q, want it to say %q", tc.args, errLine, tc.want)
			}
		}
	})

	for _, tc := range []struct{ person, page string }{
		{"us-analyst-analyst", "/"},
		{"mx-focal-point-focal", "/"},
		{"secretariat-auditor-auditor", "/secretariat"},
	} {
		t.Run(tc.person, func(t *testing.T) {
			j := startJob(t.Context(), "--context", ctxFile(tc.person), "console")
			j.waitFor(t, "open (once): ")
			url := loginURL.FindString(j.out.String())
			if url == "" {
				t.Fatalf("no login URL in %q", j.out.String())
			}
			path, body := openConsole(t, url)
			if path != tc.page || !strings.Contains(body, `name="csrf-token"`) {
				t.Errorf("login led to %s (%d bytes), want the %s page with its CSRF token", path, len(body), tc.page)
			}
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("second use of the login URL = %s, want 401", resp.Status)
			}
			if err := j.stop(); err != nil {
				t.Errorf("console ended with %v", err)
			}
		})
	}
}

func TestDemoPrintsConsoleURLs(t *testing.T) {
	j := startJob(t.Context(), "demo", "--dir", t.TempDir(), "--base-port", "0", "--states", "MX,US")
	defer j.stop()
	j.waitFor(t, "secretariat/auditor/auditor")
	out := j.out.String()
	for _, who := range []string{"MX/focal-point/focal", "US/analyst/analyst", "secretariat/auditor/auditor"} {
		line := ""
		for l := range strings.Lines(out) {
			if strings.Contains(l, who) && strings.Contains(l, "/login?token=") {
				line = l
			}
		}
		url := loginURL.FindString(line)
		if url == "" {
			t.Fatalf("no console URL for %s in the demo's output:\n%s", who, out)
		}
		if path, _ := openConsole(t, url); path == "" {
			t.Errorf("console of %s did not open", who)
		}
	}
}

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/testenv"
)

var loginURL = regexp.MustCompile(`http://127\.\d+\.\d+\.\d+:\d+/login#token=[A-Za-z0-9_-]+`)

// openConsole spends a login URL the way a browser does (the login page,
// then its script's POST of the fragment's token) and returns the first
// page's path and body, and the session key.
func openConsole(t *testing.T, loginURL string) (path, body, key string) {
	t.Helper()
	base, token, ok := strings.Cut(loginURL, "/login#token=")
	if !ok {
		t.Fatalf("login URL %q: want BASE/login#token=T", loginURL)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/api/login", strings.NewReader(`{"token":"`+token+`"}`))
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Key, Home string }
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("POST /api/login = %s (%v)", resp.Status, err)
	}
	resp, err = c.Get(base + out.Home)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %s %s", out.Home, resp.Status, b)
	}
	return resp.Request.URL.Path, string(b), out.Key
}

// spendAgain posts a login URL's token a second time.
func spendAgain(t *testing.T, loginURL string) int {
	t.Helper()
	base, token, _ := strings.Cut(loginURL, "/login#token=")
	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/api/login", strings.NewReader(`{"token":"`+token+`"}`))
	req.Header.Set("Origin", base)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
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
			{[]string{"--context", ctxFile("us-analyst-analyst"), "console", "--session", "0s"}, "--session 0s"},
			{[]string{"--context", ctxFile("us-analyst-analyst"), "console", "--session", "forever"}, "invalid argument"},
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
			path, body, key := openConsole(t, url)
			if path != tc.page || !strings.Contains(body, `id="logout"`) || key == "" || strings.Contains(body, key) {
				t.Errorf("login led to %s (%d bytes), want the %s page, a session key, and the key not in the page", path, len(body), tc.page)
			}
			if code := spendAgain(t, url); code != http.StatusUnauthorized {
				t.Errorf("second use of the login URL = %d, want 401", code)
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
			if strings.Contains(l, who) && strings.Contains(l, "/login#token=") {
				line = l
			}
		}
		url := loginURL.FindString(line)
		if url == "" {
			t.Fatalf("no console URL for %s in the demo's output:\n%s", who, out)
		}
		if path, _, _ := openConsole(t, url); path == "" {
			t.Errorf("console of %s did not open", who)
		}
	}
}

// TestOpenKeepsTheLoginURLOffTheCommandLine runs --open's browser start
// with a stand-in for the desktop's opener (outside the system) that
// records what it was given: a private file, never the URL itself.
func TestOpenKeepsTheLoginURLOffTheCommandLine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the opener stand-in is xdg-open")
	}
	bin, record := t.TempDir(), filepath.Join(t.TempDir(), "record")
	script := "#!/bin/sh\n{ echo \"$@\"; stat -c %a \"$1\"; stat -c %a \"$(dirname \"$1\")\"; cat \"$1\"; } > " + record + ".tmp && mv " + record + ".tmp " + record + "\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	const url = "http://127.0.0.1:4444/login#token=SECRETTOKEN&<x>"
	if err := openBrowser(url); err != nil {
		t.Fatalf("openBrowser: %v", err)
	}
	var got []byte
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(record); err == nil {
			got = b
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the opener was not run")
		}
	}
	lines := strings.SplitN(string(got), "\n", 4)
	if len(lines) < 4 {
		t.Fatalf("opener record %q", got)
	}
	if strings.Contains(lines[0], "SECRETTOKEN") || !strings.HasSuffix(lines[0], ".html") {
		t.Errorf("opener argv = %q, want a file path and no token", lines[0])
	}
	if lines[1] != "600" || lines[2] != "700" {
		t.Errorf("file mode %s in a directory of mode %s, want 600 in 700", lines[1], lines[2])
	}
	if !strings.Contains(lines[3], `url=http://127.0.0.1:4444/login#token=SECRETTOKEN&amp;&lt;x&gt;"`) {
		t.Errorf("the file does not send the browser on to the escaped URL:\n%s", lines[3])
	}
}

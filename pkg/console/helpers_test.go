package console_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/console"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// consoles is a real network of MX and US (and more states if given)
// with a console for an MX focal point, a US analyst and the
// secretariat's auditor.
type consoles struct {
	nw         *testenv.Network
	fp, an, au *console.Server
}

func startConsoles(t *testing.T, more ...string) *consoles {
	t.Helper()
	nw := nettest.StartStates(t, append([]string{"MX", "US"}, more...)...)
	return &consoles{nw: nw,
		fp: startConsole(t, nw, testenv.FocalPoint("MX")),
		an: startConsole(t, nw, testenv.Analyst("US")),
		au: startConsole(t, nw, testenv.Auditor()),
	}
}

// startConsole runs a console for person p over a real mTLS connection
// to p's node and closes it when the test ends.
func startConsole(t testing.TB, nw *testenv.Network, p identity.Principal) *console.Server {
	t.Helper()
	return startConsoleWith(t, nw, p, console.Config{})
}

// startConsoleWith is startConsole with cfg (its Person is set here).
func startConsoleWith(t testing.TB, nw *testenv.Network, p identity.Principal, cfg console.Config) *console.Server {
	t.Helper()
	c, err := nw.Context(p)
	if err != nil {
		t.Fatal(err)
	}
	conn, me, err := client.Dial(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	cfg.Person = me
	s, err := console.Start(t.Context(), conn, cfg)
	if err != nil {
		t.Fatalf("console.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// browser is a logged-in HTTP client of one console: its cookie jar and
// the session key its pages keep.
type browser struct {
	t   testing.TB
	s   *console.Server
	c   *http.Client
	key string
}

// keyHeader is the header carrying the session key on API requests.
const keyHeader = "X-IANT-Session-Key"

// tokenOf returns the one-time token in a login URL's fragment.
func tokenOf(t testing.TB, loginURL string) string {
	t.Helper()
	u, err := url.Parse(loginURL)
	if err != nil || u.Path != "/login" || !strings.HasPrefix(u.Fragment, "token=") || u.RawQuery != "" {
		t.Fatalf("login URL %q: want /login#token=T (the token never in the query)", loginURL)
	}
	return strings.TrimPrefix(u.Fragment, "token=")
}

// spendToken posts a login token as the login page's script does.
func spendToken(t testing.TB, c *http.Client, s *console.Server, token string, edit func(*http.Request)) (*http.Response, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"token": token})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.BaseURL()+"/api/login", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", s.BaseURL())
	req.Header.Set("Content-Type", "application/json")
	if edit != nil {
		edit(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp)
}

// login spends a login URL as a browser does: the login page, then its
// script's POST of the token; it keeps the cookie and the session key.
func login(t testing.TB, s *console.Server) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, s: s, c: &http.Client{Jar: jar}}
	resp, body := spendToken(t, b.c, s, tokenOf(t, s.LoginURL()), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s %s", resp.Status, body)
	}
	var out struct{ Key, Home string }
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.Key == "" {
		t.Fatalf("login answer %q: no session key (%v)", body, err)
	}
	b.key = out.Key
	return b
}

// do sends a request of the console's own page (the session key always,
// the Origin for POST), after edit if given.
func (b *browser) do(method, path, body string, edit func(*http.Request)) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), method, b.s.BaseURL()+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set(keyHeader, b.key)
	if method == http.MethodPost {
		req.Header.Set("Origin", b.s.BaseURL())
		req.Header.Set("Content-Type", "application/json")
	}
	if edit != nil {
		edit(req)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, readAll(b.t, resp)
}

// rpc makes one node call through the console; it fails the test unless
// the answer is 200.
func (b *browser) rpc(t testing.TB, method, body string) string {
	t.Helper()
	resp, out := b.do(http.MethodPost, "/api/rpc/"+method, body, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rpc %s(%s) = %s %s", method, body, resp.Status, out)
	}
	return out
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sse reads the server-sent events of an open response.
type sse struct{ r *bufio.Reader }

// next returns the data of the next event named event.
func (s *sse) next(t testing.TB, event string) string {
	t.Helper()
	var name, data string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && name != "":
			if name == event {
				return data
			}
			name, data = "", ""
		}
	}
}

func bufioReader(resp *http.Response) *bufio.Reader { return bufio.NewReader(resp.Body) }

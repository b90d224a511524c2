package console_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
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
	c, err := nw.Context(p)
	if err != nil {
		t.Fatal(err)
	}
	conn, me, err := client.Dial(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s, err := console.Start(t.Context(), conn, console.Config{Person: me})
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
// the CSRF token of its pages.
type browser struct {
	t    testing.TB
	s    *console.Server
	c    *http.Client
	csrf string
}

var csrfMeta = regexp.MustCompile(`name="csrf-token" content="([^"]+)"`)

// login spends a login URL and reads the CSRF token of the page it
// leads to.
func login(t testing.TB, s *console.Server) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, s: s, c: &http.Client{Jar: jar}}
	resp, err := b.c.Get(s.LoginURL())
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s %s", resp.Status, body)
	}
	m := csrfMeta.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("login: no CSRF token in the page:\n%s", body)
	}
	b.csrf = m[1]
	return b
}

// do sends a request of the console's own page (Origin and CSRF token
// set for POST), after edit if given.
func (b *browser) do(method, path, body string, edit func(*http.Request)) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), method, b.s.BaseURL()+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Origin", b.s.BaseURL())
		req.Header.Set("X-CSRF-Token", b.csrf)
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

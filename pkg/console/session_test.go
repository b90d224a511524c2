package console_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/console"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", "example.com:0", ":0", "nonsense"} {
		t.Run(addr, func(t *testing.T) {
			_, err := console.Start(t.Context(), nil, console.Config{Listen: addr})
			if err == nil {
				t.Fatalf("Start(Listen %q) = nil error, want a refusal", addr)
			}
			if addr != "nonsense" && !errors.Is(err, console.ErrNotLoopback) {
				t.Errorf("Start(Listen %q) = %v, want ErrNotLoopback", addr, err)
			}
		})
	}
}

// TestStartPicksUnpredictableOrigin: by default a console listens on a
// random address of 127.0.0.0/8. At an address another local user can
// predict (127.0.0.1 and a port), they could have served the browser a
// page to cache or a service worker while the console was not running
// there, and that page would then read the login token from the URL.
func TestStartPicksUnpredictableOrigin(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux is known to route all of 127.0.0.0/8 to loopback")
	}
	hosts := map[string]bool{}
	for range 3 {
		s, err := console.Start(t.Context(), nil, console.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		host, _, _ := net.SplitHostPort(s.Addr())
		ip := net.ParseIP(host).To4()
		if ip == nil || ip[0] != 127 || host == "127.0.0.1" {
			t.Errorf("console at %s, want a random address of 127.0.0.0/8, not 127.0.0.1", s.Addr())
		}
		if !strings.HasPrefix(s.LoginURL(), "http://"+s.Addr()+"/login#token=") {
			t.Errorf("login URL %q is not at the console's address %s", s.LoginURL(), s.Addr())
		}
		hosts[host] = true
	}
	if len(hosts) != 3 {
		t.Errorf("three consoles at %d addresses, want three random ones", len(hosts))
	}
}

// TestCloseWithSilentConnection: a connection that never sends a
// request (chromium preconnects; any local user can open one) neither
// makes Close fail nor keeps it waiting for its header timeout.
func TestCloseWithSilentConnection(t *testing.T) {
	s, err := console.Start(t.Context(), nil, console.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := s.Close(); err != nil {
		t.Errorf("Close with a silent connection open = %v, want nil", err)
	}
}

func TestSession(t *testing.T) {
	nw := nettest.StartStates(t, "MX", "US")
	s := startConsole(t, nw, testenv.Analyst("US"))

	t.Run("login token in the fragment, spent once for an HttpOnly SameSite=Strict cookie and a key", func(t *testing.T) {
		token := tokenOf(t, s.LoginURL())
		resp, page := (&browser{t: t, s: s, c: http.DefaultClient}).do("GET", "/login", "", nil)
		if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 0 || strings.Contains(page, token) {
			t.Fatalf("GET /login = %s with %d cookies, want 200, no cookie, no token", resp.Status, len(resp.Cookies()))
		}
		jar, _ := cookiejar.New(nil)
		resp, body := spendToken(t, &http.Client{Jar: jar}, s, token, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"key":"`) || !strings.Contains(body, `"home":"/"`) {
			t.Fatalf("POST /api/login = %s %s, want 200 with the key and home /", resp.Status, body)
		}
		cs := resp.Cookies()
		if len(cs) != 1 || cs[0].Name != cookieName(s) || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode || cs[0].Path != "/" || cs[0].MaxAge <= 0 {
			t.Fatalf("cookies = %+v, want one %s cookie, HttpOnly, SameSite=Strict, Path=/, with a Max-Age", cs, cookieName(s))
		}
		if strings.Contains(body, cs[0].Value) {
			t.Error("the login answer's body carries the cookie's value")
		}
		resp, body = spendToken(t, http.DefaultClient, s, token, nil)
		if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 || strings.Contains(body, `"key"`) {
			t.Errorf("second spend of the token = %s %s with %d cookies, want 401 and nothing", resp.Status, body, len(resp.Cookies()))
		}
	})

	t.Run("bad logins", func(t *testing.T) {
		for _, tc := range []struct {
			name, body string
			edit       func(*http.Request)
			want       int
			field      string
		}{
			{"empty token", `{"token":""}`, nil, 401, "token"},
			{"unknown token", `{"token":"nope"}`, nil, 401, "token"},
			{"token-shaped guess", `{"token":"` + strings.Repeat("A", 43) + `"}`, nil, 401, "token"},
			{"not JSON", `token=x`, nil, 400, "body"},
			{"too large", `{"token":"` + strings.Repeat("A", 2<<20) + `"}`, nil, 413, "body"},
			{"no Origin", `{"token":"x"}`, func(r *http.Request) { r.Header.Del("Origin") }, 403, "origin"},
			{"foreign Origin", `{"token":"x"}`, func(r *http.Request) { r.Header.Set("Origin", "http://127.0.0.1:1") }, 403, "origin"},
			{"foreign Host", `{"token":"x"}`, func(r *http.Request) { r.Host = "evil.example" }, 421, "host"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequestWithContext(t.Context(), "POST", s.BaseURL()+"/api/login", strings.NewReader(tc.body))
				req.Header.Set("Origin", s.BaseURL())
				if tc.edit != nil {
					tc.edit(req)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body := readAll(t, resp)
				if resp.StatusCode != tc.want || !strings.Contains(body, `"field":"`+tc.field+`"`) || len(resp.Cookies()) != 0 {
					t.Errorf("POST /api/login = %s %s, want %d naming %q and no cookie", resp.Status, body, tc.want, tc.field)
				}
			})
		}
	})

	t.Run("every route refuses a request without the session cookie", func(t *testing.T) {
		for _, cookie := range []string{"", "iant_console_1=forged", "forged"} {
			for _, r := range routes {
				req, _ := http.NewRequestWithContext(t.Context(), r.method, s.BaseURL()+r.path, strings.NewReader("{}"))
				req.Header.Set("Origin", s.BaseURL())
				if cookie != "" {
					req.Header.Set("Cookie", strings.Replace(cookie, "iant_console_1", cookieName(s), 1))
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s with cookie %q = %s, want 401", r.method, r.path, cookie, resp.Status)
				}
			}
		}
	})

	b := login(t, s)
	t.Run("Host must be the console's loopback address", func(t *testing.T) {
		host, port, _ := net.SplitHostPort(s.Addr())
		other := "127.0.0.2"
		if host == other {
			other = "127.0.0.3"
		}
		for _, tc := range []struct {
			host string
			want int
		}{
			{s.Addr(), http.StatusOK},
			// localhost is an origin another local user may hold (on ::1).
			{"localhost:" + port, http.StatusMisdirectedRequest},
			{"evil.example:" + port, http.StatusMisdirectedRequest},
			{host + ":1", http.StatusMisdirectedRequest},
			{other + ":" + port, http.StatusMisdirectedRequest},
			{"localhost", http.StatusMisdirectedRequest},
		} {
			// The client's jar keeps cookies by the Host header: set it here.
			cookie := b.c.Jar.Cookies(&url.URL{Scheme: "http", Host: s.Addr()})[0]
			resp, body := b.do("GET", "/api/me", "", func(r *http.Request) { r.Host = tc.host; r.AddCookie(cookie) })
			if resp.StatusCode != tc.want {
				t.Errorf("GET /api/me with Host %q = %s %s, want %d", tc.host, resp.Status, body, tc.want)
			}
		}
	})

	t.Run("POST needs the console's Origin and the session's key", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			edit      func(*http.Request)
			want      int
			wantField string
		}{
			{"both right", nil, http.StatusOK, ""},
			{"no Origin", func(r *http.Request) { r.Header.Del("Origin") }, http.StatusForbidden, "origin"},
			{"foreign Origin", func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, http.StatusForbidden, "origin"},
			{"null Origin", func(r *http.Request) { r.Header.Set("Origin", "null") }, http.StatusForbidden, "origin"},
			{"no key", func(r *http.Request) { r.Header.Del(keyHeader) }, http.StatusUnauthorized, "key"},
			{"wrong key", func(r *http.Request) { r.Header.Set(keyHeader, b.key+"x") }, http.StatusUnauthorized, "key"},
			{"key in the query of a POST", func(r *http.Request) {
				r.Header.Del(keyHeader)
				r.URL.RawQuery = "key=" + b.key
			}, http.StatusUnauthorized, "key"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := b.do("POST", "/api/rpc/ListBulletins", "{}", tc.edit)
				if resp.StatusCode != tc.want || tc.wantField != "" && !strings.Contains(body, `"field":"`+tc.wantField+`"`) {
					t.Errorf("POST = %s %s, want %d naming field %q", resp.Status, body, tc.want, tc.wantField)
				}
			})
		}
	})

	t.Run("another session's key is refused", func(t *testing.T) {
		other := login(t, s)
		resp, body := b.do("POST", "/api/rpc/ListBulletins", "{}", func(r *http.Request) { r.Header.Set(keyHeader, other.key) })
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST with another session's key = %s %s, want 401", resp.Status, body)
		}
	})

	// The attack the key stops: a browser sends its loopback cookies to
	// every port of the machine, so another local user's server (or a
	// page it serves) can hold this console's cookie. With it alone it
	// gets the pages, which carry no secret, and nothing of the API.
	t.Run("the session cookie alone opens no API route and its pages hold no secret", func(t *testing.T) {
		cookie := b.c.Jar.Cookies(&url.URL{Scheme: "http", Host: s.Addr()})
		if len(cookie) != 1 {
			t.Fatalf("jar holds %d cookies, want the session's", len(cookie))
		}
		for _, r := range routes {
			req, _ := http.NewRequestWithContext(t.Context(), r.method, s.BaseURL()+r.path, strings.NewReader("{}"))
			req.Header.Set("Origin", s.BaseURL())
			req.AddCookie(cookie[0])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if strings.Contains(body, b.key) {
				t.Errorf("%s %s with the cookie alone shows the session key", r.method, r.path)
			}
			if strings.HasPrefix(r.path, "/api/") && resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with the cookie alone = %s %s, want 401", r.method, r.path, resp.Status, body)
			}
		}
	})

	t.Run("event streams take the key in the query", func(t *testing.T) {
		for _, path := range []string{"/api/events?key=", "/api/events?key=wrong", "/api/escalations?key=" + b.key + "x"} {
			resp, body := b.do("GET", path, "", func(r *http.Request) { r.Header.Del(keyHeader) })
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET %s = %s %s, want 401", path, resp.Status, body)
			}
		}
	})

	t.Run("security headers on every answer", func(t *testing.T) {
		for _, path := range []string{"/", "/login", "/api/me", "/static/feed.js", "/nowhere"} {
			resp, _ := b.do("GET", path, "", nil)
			h := resp.Header
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
				t.Errorf("GET %s: CSP %q allows inline, eval or another origin", path, csp)
			}
			for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
				if h.Get(k) != v {
					t.Errorf("GET %s: %s = %q, want %q", path, k, h.Get(k), v)
				}
			}
		}
	})
}

// cookieName is the session cookie's name of s.
func cookieName(s *console.Server) string {
	_, port, _ := strings.Cut(s.Addr(), ":")
	return "iant_console_" + port
}

// routes are the console's routes that need a session.
var routes = []struct{ method, path string }{
	{"GET", "/"}, {"GET", "/bulletin?id=X"}, {"GET", "/post"}, {"GET", "/secretariat"},
	{"GET", "/api/me"}, {"GET", "/api/events"}, {"GET", "/api/escalations"}, {"POST", "/api/rpc/ListBulletins"},
	{"POST", "/api/rpc/PostBulletin"}, {"POST", "/api/verify"}, {"POST", "/api/logout"}, {"GET", "/nowhere"},
}

// clock is a test's clock: a fake is fine for something outside the system.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSessionEnds(t *testing.T) {
	nw := nettest.StartStates(t, "MX", "US")
	clk := &clock{t: time.Now()}
	s := startConsoleWith(t, nw, testenv.Analyst("US"), console.Config{SessionTTL: time.Hour, TokenTTL: time.Minute, Clock: clk.now})

	t.Run("a login token is worthless past its lifetime", func(t *testing.T) {
		token := tokenOf(t, s.LoginURL())
		clk.add(2 * time.Minute)
		if resp, body := spendToken(t, http.DefaultClient, s, token, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("spending a token 2 min old (lifetime 1 min) = %s %s, want 401", resp.Status, body)
		}
	})

	t.Run("logout ends the session and its open event stream", func(t *testing.T) {
		b := login(t, s)
		ctx, cancel := context.WithTimeout(t.Context(), nettest.Eventually)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", s.BaseURL()+"/api/events?key="+b.key, nil)
		stream, err := b.c.Do(req)
		if err != nil || stream.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/events = %v %v", stream, err)
		}
		defer stream.Body.Close()
		resp, body := b.do("POST", "/api/logout", "{}", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /api/logout = %s %s", resp.Status, body)
		}
		if cs := resp.Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
			t.Errorf("logout cookies = %+v, want the session cookie cleared", cs)
		}
		// The stream ends (EOF) well before the test's deadline.
		if _, err := io.Copy(io.Discard, stream.Body); err != nil {
			t.Errorf("the event stream did not end at logout: %v", err)
		}
		cookie := b.c.Jar.Cookies(&url.URL{Scheme: "http", Host: s.Addr()})
		old := &http.Cookie{Name: cookieName(s), Value: "x"}
		if len(cookie) == 1 {
			old = cookie[0]
		}
		for _, path := range []string{"/api/me", "/"} {
			resp, body := b.do("GET", path, "", func(r *http.Request) { r.AddCookie(old) })
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET %s after logout = %s %s, want 401", path, resp.Status, body)
			}
		}
	})

	t.Run("a session ends past its lifetime", func(t *testing.T) {
		b := login(t, s)
		if resp, body := b.do("GET", "/api/me", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/me = %s %s", resp.Status, body)
		}
		clk.add(59 * time.Minute)
		if resp, body := b.do("GET", "/api/me", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/me at 59 min of 60 = %s %s, want 200", resp.Status, body)
		}
		clk.add(2 * time.Minute)
		for _, path := range []string{"/api/me", "/"} {
			if resp, body := b.do("GET", path, "", nil); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET %s at 61 min of 60 = %s %s, want 401", path, resp.Status, body)
			}
		}
	})
}

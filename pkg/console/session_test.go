package console_test

import (
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

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

func TestSession(t *testing.T) {
	nw := nettest.StartStates(t, "MX", "US")
	s := startConsole(t, nw, testenv.Analyst("US"))
	noRedirect := func(jar http.CookieJar) *http.Client {
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}

	t.Run("login token for an HttpOnly SameSite=Strict cookie, once", func(t *testing.T) {
		url := s.LoginURL()
		jar, _ := cookiejar.New(nil)
		resp, err := noRedirect(jar).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("GET login = %s to %q, want 303 to /", resp.Status, resp.Header.Get("Location"))
		}
		cs := resp.Cookies()
		if len(cs) != 1 || !strings.HasPrefix(cs[0].Name, "iant_console_") || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode || cs[0].Path != "/" {
			t.Fatalf("cookies = %+v, want one iant_console_PORT cookie, HttpOnly, SameSite=Strict, Path=/", cs)
		}
		resp, err = noRedirect(nil).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
			t.Errorf("second GET of the login URL = %s with %d cookies, want 401 and none", resp.Status, len(resp.Cookies()))
		}
	})

	t.Run("bad tokens", func(t *testing.T) {
		for _, q := range []string{"", "?token=", "?token=nope", "?token=" + strings.Repeat("A", 43)} {
			resp, err := noRedirect(nil).Get(s.BaseURL() + "/login" + q)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET /login%s = %s, want 401", q, resp.Status)
			}
		}
	})

	t.Run("every route refuses a request without the session cookie", func(t *testing.T) {
		routes := []struct{ method, path string }{
			{"GET", "/"}, {"GET", "/bulletin?id=X"}, {"GET", "/post"}, {"GET", "/secretariat"},
			{"GET", "/static/common.js"}, {"GET", "/static/style.css"}, {"GET", "/api/me"}, {"GET", "/api/events"},
			{"GET", "/api/escalations"}, {"POST", "/api/rpc/ListBulletins"}, {"POST", "/api/rpc/PostBulletin"},
			{"POST", "/api/verify"}, {"GET", "/nowhere"},
		}
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
		_, port, _ := strings.Cut(s.Addr(), ":")
		for _, tc := range []struct {
			host string
			want int
		}{
			{s.Addr(), http.StatusOK},
			{"localhost:" + port, http.StatusOK},
			{"evil.example:" + port, http.StatusMisdirectedRequest},
			{"127.0.0.1:1", http.StatusMisdirectedRequest},
			{"127.0.0.2:" + port, http.StatusMisdirectedRequest},
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

	t.Run("POST needs the console's Origin and the session's CSRF token", func(t *testing.T) {
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
			{"no CSRF token", func(r *http.Request) { r.Header.Del("X-CSRF-Token") }, http.StatusForbidden, "csrf"},
			{"wrong CSRF token", func(r *http.Request) { r.Header.Set("X-CSRF-Token", b.csrf+"x") }, http.StatusForbidden, "csrf"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := b.do("POST", "/api/rpc/ListBulletins", "{}", tc.edit)
				if resp.StatusCode != tc.want || tc.wantField != "" && !strings.Contains(body, `"field":"`+tc.wantField+`"`) {
					t.Errorf("POST = %s %s, want %d naming field %q", resp.Status, body, tc.want, tc.wantField)
				}
			})
		}
	})

	t.Run("another session's CSRF token is refused", func(t *testing.T) {
		other := login(t, s)
		resp, body := b.do("POST", "/api/rpc/ListBulletins", "{}", func(r *http.Request) { r.Header.Set("X-CSRF-Token", other.csrf) })
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST with another session's token = %s %s, want 403", resp.Status, body)
		}
	})

	t.Run("security headers on every answer", func(t *testing.T) {
		for _, path := range []string{"/", "/api/me", "/static/feed.js", "/nowhere"} {
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

package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"
)

// cookieName is the session cookie's name: iant_console_PORT. Browsers
// keep cookies by host, not by port, so consoles of several people on
// one machine (iant demo runs three) must not share a name.
func (s *Server) cookieName() string {
	_, port, _ := net.SplitHostPort(s.Addr())
	return "iant_console_" + port
}

// csrfHeader carries the session's CSRF token on every POST.
const csrfHeader = "X-CSRF-Token"

// sessions holds the unspent login tokens and the live sessions, both by
// the SHA-256 of their secret (a map lookup then leaks nothing useful
// about the secret's bytes).
type sessions struct {
	ttl time.Duration

	mu      sync.Mutex
	tokens  map[[32]byte]time.Time // unspent token -> expiry
	byToken map[[32]byte]*session  // session cookie -> session
}

// session is one browser's session.
type session struct {
	csrf string
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, tokens: map[[32]byte]time.Time{}, byToken: map[[32]byte]*session{}}
}

// secret returns 32 random bytes, base64url without padding.
func secret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (ss *sessions) newToken() string {
	t := secret()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.tokens[sha256.Sum256([]byte(t))] = time.Now().Add(ss.ttl)
	return t
}

// spend exchanges a login token, once, for a new session cookie value.
func (ss *sessions) spend(token string) (cookie string, ok bool) {
	k := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	exp, found := ss.tokens[k]
	delete(ss.tokens, k)
	if !found || time.Now().After(exp) {
		return "", false
	}
	cookie = secret()
	ss.byToken[sha256.Sum256([]byte(cookie))] = &session{csrf: secret()}
	return cookie, true
}

// lookup returns the session of a request's cookie.
func (ss *sessions) lookup(r *http.Request, name string) (*session, bool) {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return nil, false
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byToken[sha256.Sum256([]byte(c.Value))]
	return s, ok
}

// validCSRF reports whether the request carries the session's CSRF token.
func (s *session) validCSRF(r *http.Request) bool {
	got := r.Header.Get(csrfHeader)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

// hostAllowed reports whether the Host header names the address the
// console listens on: its IP or, for 127.0.0.1 and ::1, localhost, with
// its port. A DNS-rebinding page reaches the server under its own name
// and is refused here.
func (s *Server) hostAllowed(host string) bool {
	lh, port, err := net.SplitHostPort(s.Addr())
	if err != nil {
		return false
	}
	h, p, err := net.SplitHostPort(host)
	if err != nil || p != port {
		return false
	}
	return h == lh || h == "localhost" && net.ParseIP(lh).IsLoopback()
}

// originAllowed reports whether a state-changing request comes from a
// page of the console itself.
func (s *Server) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o != "" && o == "http://"+r.Host
}

// setSecurityHeaders sets the headers of every response.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// guard wraps every route but /login: the Host check, the session cookie,
// and for POST the Origin and the CSRF token.
func (s *Server) guard(next func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			writeError(w, http.StatusMisdirectedRequest, "PermissionDenied", "host", "the console answers only at its loopback address")
			return
		}
		sess, ok := s.sessions.lookup(r, s.cookieName())
		if !ok {
			writeError(w, http.StatusUnauthorized, "Unauthenticated", "", "no console session: open the URL iant console printed")
			return
		}
		if r.Method == http.MethodPost {
			if !s.originAllowed(r) {
				writeError(w, http.StatusForbidden, "PermissionDenied", "origin", "the request does not come from the console's own pages")
				return
			}
			if !sess.validCSRF(r) {
				writeError(w, http.StatusForbidden, "PermissionDenied", "csrf", "missing or wrong CSRF token: reload the page")
				return
			}
		}
		next(w, r, sess)
	}
}

// login spends the one-time token for a session cookie and redirects to
// the console's first page.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.hostAllowed(r.Host) {
		writeError(w, http.StatusMisdirectedRequest, "PermissionDenied", "host", "the console answers only at its loopback address")
		return
	}
	cookie, ok := s.sessions.spend(r.URL.Query().Get("token"))
	if !ok {
		writeError(w, http.StatusUnauthorized, "Unauthenticated", "token", "the login token is unknown, spent or expired: run iant console again")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, s.home(), http.StatusSeeOther)
}

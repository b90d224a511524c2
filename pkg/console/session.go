package console

import (
	"context"
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

// keyHeader carries the session key on every API request. The cookie
// alone is not enough: a browser sends loopback cookies to every port of
// the machine, so another local user's server could collect it. The key
// lives in the page's localStorage, which a browser keeps per origin
// (scheme, host and port): only the console's own pages can send it.
const keyHeader = "X-IANT-Session-Key"

// keyParam carries the session key on the event streams' URLs: a
// browser's EventSource cannot set a header.
const keyParam = "key"

// sessions holds the unspent login tokens and the live sessions, both by
// the SHA-256 of their secret (a map lookup then leaks nothing useful
// about the secret's bytes).
type sessions struct {
	tokenTTL, sessionTTL time.Duration
	now                  func() time.Time

	mu       sync.Mutex
	tokens   map[[32]byte]time.Time // unspent token -> expiry
	byCookie map[[32]byte]*session  // session cookie -> session
}

// session is one browser's session: its key, its end, and the context
// its requests and event streams run under (ended by logout, by the end
// of its lifetime, or by the server's Close).
type session struct {
	key     string
	expires time.Time
	ctx     context.Context
	cancel  context.CancelFunc
}

func newSessions(tokenTTL, sessionTTL time.Duration, now func() time.Time) *sessions {
	return &sessions{tokenTTL: tokenTTL, sessionTTL: sessionTTL, now: now,
		tokens: map[[32]byte]time.Time{}, byCookie: map[[32]byte]*session{}}
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
	ss.tokens[sha256.Sum256([]byte(t))] = ss.now().Add(ss.tokenTTL)
	return t
}

// spend exchanges a login token, once, for a new session: its cookie
// value and the session. base is the context its requests run under.
func (ss *sessions) spend(base context.Context, token string) (cookie string, _ *session, ok bool) {
	k := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	exp, found := ss.tokens[k]
	delete(ss.tokens, k)
	now := ss.now()
	if !found || now.After(exp) {
		return "", nil, false
	}
	ss.sweep(now)
	cookie = secret()
	sess := &session{key: secret(), expires: now.Add(ss.sessionTTL)}
	sess.ctx, sess.cancel = context.WithCancel(base)
	ss.byCookie[sha256.Sum256([]byte(cookie))] = sess
	return cookie, sess, true
}

// sweep drops expired tokens and sessions. ss.mu is held.
func (ss *sessions) sweep(now time.Time) {
	for k, exp := range ss.tokens {
		if now.After(exp) {
			delete(ss.tokens, k)
		}
	}
	for k, s := range ss.byCookie {
		if now.After(s.expires) {
			s.cancel()
			delete(ss.byCookie, k)
		}
	}
}

// lookup returns the live session of a request's cookie; an expired one
// is ended here.
func (ss *sessions) lookup(r *http.Request, name string) (*session, bool) {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return nil, false
	}
	k := sha256.Sum256([]byte(c.Value))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byCookie[k]
	if !ok {
		return nil, false
	}
	if ss.now().After(s.expires) {
		s.cancel()
		delete(ss.byCookie, k)
		return nil, false
	}
	return s, true
}

// end ends the session of a request's cookie (logout): its event streams
// stop and its cookie and key are worthless from now on.
func (ss *sessions) end(r *http.Request, name string) {
	c, err := r.Cookie(name)
	if err != nil {
		return
	}
	k := sha256.Sum256([]byte(c.Value))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s, ok := ss.byCookie[k]; ok {
		s.cancel()
		delete(ss.byCookie, k)
	}
}

// validKey reports whether the request carries the session's key: in
// the header, or for an event stream (GET) in the query.
func (s *session) validKey(r *http.Request) bool {
	got := r.Header.Get(keyHeader)
	if got == "" && r.Method == http.MethodGet {
		got = r.URL.Query().Get(keyParam)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.key)) == 1
}

// hostAllowed reports whether the Host header names the address the
// console listens on: its IP and port, exactly as its URLs print it. A
// DNS-rebinding page reaches the server under its own name and is
// refused here; so is localhost, an origin whose port another local user
// may hold on another loopback address (::1 beside 127.0.0.1), where a
// page of theirs would share the console pages' storage.
func (s *Server) hostAllowed(host string) bool {
	return host == s.Addr()
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

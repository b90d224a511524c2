package console

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// handler is a route's handler once its request passed a guard.
type handler func(http.ResponseWriter, *http.Request, *session)

// refuseHost answers a request whose Host is not the console's loopback
// address, and reports whether it did.
func (s *Server) refuseHost(w http.ResponseWriter, r *http.Request) bool {
	if s.hostAllowed(r.Host) {
		return false
	}
	writeError(w, http.StatusMisdirectedRequest, "PermissionDenied", "host", "the console answers only at its loopback address")
	return true
}

// public guards what needs no session (the login page, the embedded
// scripts and styles): the Host check only.
func (s *Server) public(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.refuseHost(w, r) {
			next(w, r)
		}
	}
}

// page guards the HTML pages: the Host check and a live session cookie.
// A page holds no secret and nothing of any bulletin (its scripts fetch
// everything through the API), so the cookie, which the browser also
// sends to other ports of this machine, is enough here.
func (s *Server) page(next handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if sess, ok := s.session(w, r); ok {
			next(w, r, sess)
		}
	}
}

// session returns the live session of a request at the console's own
// address, answering the refusal itself when there is none.
func (s *Server) session(w http.ResponseWriter, r *http.Request) (*session, bool) {
	if s.refuseHost(w, r) {
		return nil, false
	}
	sess, ok := s.sessions.lookup(r, s.cookieName())
	if !ok {
		writeError(w, http.StatusUnauthorized, "Unauthenticated", "", "no console session: open the URL iant console printed")
	}
	return sess, ok
}

// api guards every API route: the Host check, a live session cookie, for
// POST an Origin of the console itself, and the session's key. The
// request then runs under the session: logging out or the end of its
// lifetime stops it (an event stream too).
func (s *Server) api(next handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok := s.session(w, r)
		if !ok {
			return
		}
		if r.Method == http.MethodPost && !s.originAllowed(r) {
			writeError(w, http.StatusForbidden, "PermissionDenied", "origin", "the request does not come from the console's own pages")
			return
		}
		if !sess.validKey(r) {
			writeError(w, http.StatusUnauthorized, "Unauthenticated", "key", "missing or wrong session key: open the URL iant console printed")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), sess.expires.Sub(s.cfg.Clock()))
		defer cancel()
		stop := context.AfterFunc(sess.ctx, cancel)
		defer stop()
		next(w, r.WithContext(ctx), sess)
	}
}

// loginPage serves the page a login URL opens. Its token is in the URL's
// fragment, which the browser never sends: the page's script posts it
// to /api/login and keeps the session key it gets back.
func (s *Server) loginPage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, "login.html", nil); err != nil {
		s.log.Error("console: render page", "page", "login.html", "err", err)
	}
}

// loginRequest is the body of POST /api/login.
type loginRequest struct {
	Token string `json:"token"`
}

// loginResponse is the answer of POST /api/login: the session key the
// page keeps (in localStorage, of this origin only), where to go, and
// when the session ends.
type loginResponse struct {
	Key     string    `json:"key"`
	Home    string    `json:"home"`
	Expires time.Time `json:"expires"`
}

// login spends a one-time token for a session: the HttpOnly,
// SameSite=Strict cookie and the key in the answer.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		writeError(w, http.StatusForbidden, "PermissionDenied", "origin", "the request does not come from the console's own pages")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		return
	}
	var req loginRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidArgument", "body", "the body is not {\"token\": \"...\"}")
		return
	}
	cookie, sess, ok := s.sessions.spend(s.baseCtx, req.Token)
	if !ok {
		writeError(w, http.StatusUnauthorized, "Unauthenticated", "token", "the login token is unknown, spent or expired: run iant console again")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: cookie, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.cfg.SessionTTL / time.Second)})
	writeJSON(w, http.StatusOK, loginResponse{Key: sess.key, Home: s.home(), Expires: sess.expires.UTC()})
}

// logout ends the session: its event streams stop, its cookie is
// cleared and its key is worthless.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, _ *session) {
	s.sessions.end(r, s.cookieName())
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	writeJSON(w, http.StatusOK, struct{}{})
}

package console

import (
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

//go:embed web
var webFS embed.FS

// pages are the console's HTML pages; each has the same data (pageData).
var pages = template.Must(template.ParseFS(webFS, "web/*.html"))

// pageData is what a page template sees: the role and state the
// console acts for (which pages its menu offers), nothing secret and
// nothing of any bulletin.
type pageData struct {
	Role  string
	State string
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFS, "web/static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.HandleFunc("GET /login", s.public(s.loginPage))
	mux.HandleFunc("POST /api/login", s.public(s.login))
	mux.HandleFunc("GET /static/", s.public(files.ServeHTTP))
	mux.HandleFunc("GET /{$}", s.page(s.render("feed.html")))
	mux.HandleFunc("GET /bulletin", s.page(s.render("bulletin.html")))
	mux.HandleFunc("GET /post", s.page(s.render("post.html")))
	mux.HandleFunc("GET /secretariat", s.page(s.render("secretariat.html")))
	mux.HandleFunc("GET /api/me", s.api(s.me))
	mux.HandleFunc("POST /api/logout", s.api(s.logout))
	mux.HandleFunc("POST /api/rpc/{method}", s.api(s.rpc))
	mux.HandleFunc("GET /api/events", s.api(s.events))
	mux.HandleFunc("GET /api/escalations", s.api(s.escalations))
	mux.HandleFunc("POST /api/verify", s.api(s.verifyLog))
	mux.HandleFunc("/", s.page(func(w http.ResponseWriter, r *http.Request, _ *session) {
		writeError(w, http.StatusNotFound, "NotFound", "path", "no such page")
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		mux.ServeHTTP(w, r)
	})
}

// home is the first page for the console's person.
func (s *Server) home() string {
	if s.cfg.Person.Role.IsSecretariat() {
		return "/secretariat"
	}
	return "/"
}

// render renders one of the static pages.
func (s *Server) render(name string) handler {
	return func(w http.ResponseWriter, _ *http.Request, _ *session) {
		p := s.cfg.Person
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err := pages.ExecuteTemplate(w, name, pageData{Role: p.Role.Segment(), State: p.State})
		if err != nil {
			s.log.Error("console: render page", "page", name, "err", err)
		}
	}
}

// personLabel names a person for the page header, e.g. "MX/focal-point/focal".
func personLabel(p identity.Principal) string { return p.String() }

// meResponse is /api/me: who the console acts for and the member states
// by region (for the post form's releasability).
type meResponse struct {
	Person  string      `json:"person"`
	Role    string      `json:"role"`
	State   string      `json:"state"`
	Regions []regionDTO `json:"regions"`
}

type regionDTO struct {
	Enum   string     `json:"enum"` // the wire enum name, e.g. REGION_CARIBBEAN
	Name   string     `json:"name"`
	States []stateDTO `json:"states"`
}

type stateDTO struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func (s *Server) me(w http.ResponseWriter, _ *http.Request, _ *session) {
	p := s.cfg.Person
	out := meResponse{Person: personLabel(p), Role: p.Role.Segment(), State: p.State}
	for _, r := range region.All() {
		rd := regionDTO{Enum: regionEnum(r), Name: r.Title()}
		for _, st := range region.States() {
			if st.Region == r {
				rd.States = append(rd.States, stateDTO{Code: st.Code, Name: st.Name})
			}
		}
		out.Regions = append(out.Regions, rd)
	}
	writeJSON(w, http.StatusOK, out)
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// apiError is the JSON body of every error answer.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Rule    string `json:"rule,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, field, msg string) {
	writeJSON(w, status, apiError{Code: code, Message: msg, Field: field})
}

package taxii

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/stix"
)

// APIRoot is the path of the server's one API root.
const APIRoot = "/iant/"

// Config is what a TAXII server needs. Source, Authenticate and State are
// required.
type Config struct {
	// Source lists, gets and posts bulletins for a person.
	Source Source
	// Authenticate returns the person making r, from the verified client
	// certificate of its TLS connection, or a *problem.Error
	// (unauthenticated, or permission for a person who may not use this
	// node).
	Authenticate func(r *http.Request) (identity.Principal, error)
	// State is the ISO code of the node's state, for titles.
	State string
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is a TAXII 2.1 server; it is an http.Handler.
type Server struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
	statuses statusStore
	index    objectIndex
}

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Source == nil:
		return nil, errors.New("taxii: config: Source is required")
	case cfg.Authenticate == nil:
		return nil, errors.New("taxii: config: Authenticate is required")
	case !region.IsMember(cfg.State):
		return nil, errors.New("taxii: config: State must be a member state")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.index.init()
	s.routes()
	return s, nil
}

// handler is one endpoint: it runs after authentication and content
// negotiation, for the methods it is registered with.
type handler func(w http.ResponseWriter, r *http.Request, p identity.Principal)

func (s *Server) routes() {
	s.handle("/taxii2/{$}", map[string]handler{http.MethodGet: s.discovery})
	s.handle(APIRoot+"{$}", map[string]handler{http.MethodGet: s.apiRoot})
	s.handle(APIRoot+"status/{sid}/{$}", map[string]handler{http.MethodGet: s.status})
	s.handle(APIRoot+"collections/{$}", map[string]handler{http.MethodGet: s.collections})
	s.handle(APIRoot+"collections/{cid}/{$}", map[string]handler{http.MethodGet: s.collection})
	s.handle(APIRoot+"collections/{cid}/manifest/{$}", map[string]handler{http.MethodGet: s.manifest})
	s.handle(APIRoot+"collections/{cid}/objects/{$}", map[string]handler{http.MethodGet: s.objects, http.MethodPost: s.addObjects})
	s.handle(APIRoot+"collections/{cid}/objects/{oid}/{$}", map[string]handler{http.MethodGet: s.object, http.MethodDelete: s.deleteObject})
	s.handle(APIRoot+"collections/{cid}/objects/{oid}/versions/{$}", map[string]handler{http.MethodGet: s.versions})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no TAXII endpoint at this path (the discovery endpoint is /taxii2/)")
	})
}

// handle registers the handlers of pattern by method: a method not listed
// is answered 405 with Allow; a request that does not accept TAXII 2.1 is
// answered 406; then the person is authenticated.
func (s *Server) handle(pattern string, byMethod map[string]handler) {
	var allow []string
	for m := range byMethod {
		allow = append(allow, m)
	}
	slices.Sort(allow)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		h, ok := byMethod[r.Method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here")
			return
		}
		p, err := s.cfg.Authenticate(r)
		if err != nil {
			writeProblem(w, s.log, r, err)
			return
		}
		if !acceptsTAXII(r.Header.Get("Accept")) {
			writeError(w, http.StatusNotAcceptable, "the Accept header must include "+MediaTAXII)
			return
		}
		h(w, r, p)
	})
}

// ServeHTTP serves the TAXII API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// baseURL is the server's URL as the client reached it.
func baseURL(r *http.Request) string { return "https://" + r.Host }

func (s *Server) discovery(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	root := baseURL(r) + APIRoot
	writeJSON(w, http.StatusOK, map[string]any{
		"title":       "IANT TAXII 2.1 server of " + s.cfg.State,
		"description": "Bulletins of the Inter-American Network against Terrorism held by the node of " + s.cfg.State + ", as STIX 2.1.",
		"default":     root,
		"api_roots":   []string{root},
	})
}

func (s *Server) apiRoot(w http.ResponseWriter, _ *http.Request, _ identity.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{
		"title":              "IANT bulletins at " + s.cfg.State,
		"description":        "Collections of the bulletins you may read at this node; focal points add bulletins to the first.",
		"versions":           []string{MediaTAXII},
		"max_content_length": stix.MaxBundleBytes,
	})
}

// statusStore keeps the status resources of recent POSTs, oldest
// dropped first.
type statusStore struct {
	mu    sync.Mutex
	order []string
	byID  map[string]storedStatus
}

type storedStatus struct {
	owner  identity.Principal
	status statusResource
}

// maxStatuses bounds the status resources kept.
const maxStatuses = 1000

func (st *statusStore) put(owner identity.Principal, s statusResource) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byID == nil {
		st.byID = map[string]storedStatus{}
	}
	if len(st.order) == maxStatuses {
		delete(st.byID, st.order[0])
		st.order = st.order[1:]
	}
	st.order = append(st.order, s.ID)
	st.byID[s.ID] = storedStatus{owner: owner, status: s}
}

func (st *statusStore) get(owner identity.Principal, id string) (statusResource, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	got, ok := st.byID[id]
	return got.status, ok && got.owner == owner
}

func (s *Server) status(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	st, ok := s.statuses.get(p, r.PathValue("sid"))
	if !ok {
		writeError(w, http.StatusNotFound, "no status with this id for you")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

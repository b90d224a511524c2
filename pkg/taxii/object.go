package taxii

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/stix"
)

// objectIndex maps STIX ids to the bulletins (origin and IANT id: two
// origins may use one id) whose objects have them (ids are UUIDv5, not
// reversible). It learns from
// every listing; a miss scans the collection. It only saves work: every
// bulletin found through it is read again through the source, with the
// reader's read decision.
type objectIndex struct {
	mu   sync.Mutex
	byID map[string][]bulletinRef
}

// bulletinRef names a stored bulletin.
type bulletinRef struct{ origin, id string }

// maxIndexed bounds the ids indexed; beyond, the index starts over.
const maxIndexed = 200000

func (x *objectIndex) init() { x.byID = map[string][]bulletinRef{} }

func (x *objectIndex) add(objectID string, b bulletinRef) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.byID) >= maxIndexed {
		x.byID = map[string][]bulletinRef{}
	}
	if !slices.Contains(x.byID[objectID], b) {
		x.byID[objectID] = append(x.byID[objectID], b)
	}
}

func (x *objectIndex) lookup(objectID string) []bulletinRef {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.byID[objectID])
}

// versionsOf returns every version of object oid in collection c that p
// may read, oldest first.
func (s *Server) versionsOf(ctx context.Context, p identity.Principal, c collection, oid string) ([]item, error) {
	var out []item
	for i, o := range shared(c) {
		if o.ObjectID() == oid {
			out = append(out, item{obj: o, added: o.ObjectVersion(), pos: position{0, i}})
		}
	}
	refs := s.index.lookup(oid)
	if len(refs) == 0 && len(out) == 0 {
		if err := s.scanFor(ctx, p, c, oid); err != nil {
			return nil, err
		}
		refs = s.index.lookup(oid)
	}
	for _, ref := range refs {
		e, err := s.cfg.Source.Get(ctx, p, ref.origin, ref.id)
		switch k := problem.KindOf(err); {
		case err == nil:
		case k == problem.KindNotFound || k == problem.KindPermission:
			continue // not visible to p: as if absent
		default:
			return nil, err
		}
		if !inCollection(c, e) {
			continue
		}
		for _, v := range append(e.Earlier, e) {
			for i, o := range s.objectsOf(v) {
				if o.ObjectID() == oid {
					out = append(out, item{obj: o, added: v.Added, pos: position{v.Cursor, i}, entry: &v})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b item) int { return a.obj.ObjectVersion().Compare(b.obj.ObjectVersion()) })
	return out, nil
}

// scanFor walks the whole collection so that the index learns where oid
// is.
func (s *Server) scanFor(ctx context.Context, p identity.Principal, c collection, oid string) error {
	f := filter{limit: maxLimit, ids: map[string]bool{oid: true}, specOK: true, versions: versionMatch{all: true}}
	for {
		_, next, more, err := s.walk(ctx, p, c, f)
		if err != nil || !more {
			return err
		}
		f.next = next.String()
	}
}

func inCollection(c collection, e Entry) bool {
	st, _ := region.Lookup(e.Bulletin.Origin)
	return (len(c.regions) == 0 || slices.Contains(c.regions, st.Region)) &&
		(len(c.categories) == 0 || slices.Contains(c.categories, e.Bulletin.Category))
}

// oneObject answers the versions of the object of the request that pass
// its filter, a page of them, or 404 when there are none.
func (s *Server) oneObject(w http.ResponseWriter, r *http.Request, p identity.Principal, params ...string) (page []item, more bool, next string, ok bool) {
	c, found := s.find(w, r, p)
	if !found {
		return nil, false, "", false
	}
	f, err := parseFilter(r.URL.Query(), params...)
	if err != nil {
		writeProblem(w, s.log, r, err)
		return nil, false, "", false
	}
	all, err := s.versionsOf(r.Context(), p, c, r.PathValue("oid"))
	if err != nil {
		writeProblem(w, s.log, r, err)
		return nil, false, "", false
	}
	if len(all) == 0 {
		writeError(w, http.StatusNotFound, "no object with this id in this collection for you")
		return nil, false, "", false
	}
	var kept []item
	for _, it := range all {
		if f.match(it) {
			kept = append(kept, it)
		}
	}
	from := 0
	if f.next != "" {
		if from, err = strconv.Atoi(f.next); err != nil || from < 0 || from > len(kept) {
			writeProblem(w, s.log, r, problem.Invalid("next", "next %q is not a token this server gave", f.next))
			return nil, false, "", false
		}
	}
	to := min(from+f.limit, len(kept))
	if to < len(kept) {
		more, next = true, strconv.Itoa(to)
	}
	page = kept[from:to]
	dateRange(w.Header(), page)
	return page, more, next, true
}

func (s *Server) object(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	page, more, next, ok := s.oneObject(w, r, p, "limit", "next", "added_after", "match[version]", "match[spec_version]")
	if !ok {
		return
	}
	env := envelope{More: more, Next: next}
	for _, it := range page {
		env.Objects = append(env.Objects, it.obj)
	}
	writeJSON(w, http.StatusOK, env)
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	q := r.URL.Query()
	q.Set("match[version]", "all")
	r.URL.RawQuery = q.Encode()
	page, more, next, ok := s.oneObject(w, r, p, "limit", "next", "added_after", "match[spec_version]", "match[version]")
	if !ok {
		return
	}
	res := struct {
		More     bool     `json:"more"`
		Next     string   `json:"next,omitempty"`
		Versions []string `json:"versions,omitempty"`
	}{More: more, Next: next}
	for _, it := range page {
		res.Versions = append(res.Versions, stix.At(it.obj.ObjectVersion()).String())
	}
	writeJSON(w, http.StatusOK, res)
}

// deleteObject refuses: IANT bulletins are revoked, never deleted.
func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if _, ok := s.find(w, r, p); ok {
		writeError(w, http.StatusForbidden, "bulletins are not deleted: the origin state revokes them")
	}
}

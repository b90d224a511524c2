package taxii

import (
	"context"
	"net/http"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/stix"
)

// Bounds of one listing request's work: stored bulletins asked of the
// source at a time, and how many bulletins the reader may read a request
// looks at without filling its page before it answers what it has, with
// more and next. Only bulletins the reader may read count towards the
// budget, and next then names the position after the last of them: a
// budget counting every stored bulletin would end the walk, and set next,
// after bulletins the reader may not read — more and next would count
// them (a listing matching nothing, started at any crafted next, would
// tell how many of a collection's bulletins the reader is refused, and
// where they lie). The read decision filters them, as ListBulletins does
// (statenode readablePage), and the answer depends only on what the
// reader may read. (Variables so that a test can make them small.)
var (
	scanBatch  = 200
	scanBudget = 2000
)

// walk lists the objects of collection c that p may read and that pass f,
// from the position f.next names (the start when empty), up to f.limit.
// It returns them, and where the next page starts when there may be more.
func (s *Server) walk(ctx context.Context, p identity.Principal, c collection, f filter) (items []item, next position, more bool, err error) {
	pos := position{}
	if f.next != "" {
		var ok bool
		if pos, ok = parsePosition(f.next); !ok {
			return nil, pos, false, problem.Invalid("next", "next %q is not a token this server gave", f.next)
		}
	}
	if pos.cursor == 0 {
		sh := shared(c)
		for i := pos.index; i < len(sh); i++ {
			it := item{obj: sh[i], added: sh[i].ObjectVersion(), pos: position{0, i}}
			if !f.match(it) {
				continue
			}
			if len(items) == f.limit {
				return items, it.pos, true, nil
			}
			items = append(items, it)
		}
		pos = position{1, 0}
	}
	readable, lastReadable := 0, uint64(0)
	for {
		page, err := s.cfg.Source.List(ctx, p, Query{After: pos.cursor - 1, Limit: scanBatch,
			Regions: c.regions, Categories: c.categories, AddedAfter: f.addedAfter})
		if err != nil {
			return nil, pos, false, err
		}
		for _, e := range page.Entries {
			objs := s.objectsOf(e)
			start := 0
			if e.Cursor == pos.cursor {
				start = pos.index
			}
			for i := start; i < len(objs); i++ {
				it := item{obj: objs[i], added: e.Added, pos: position{e.Cursor, i}, entry: &e}
				if !f.match(it) {
					continue
				}
				if len(items) == f.limit {
					return items, it.pos, true, nil
				}
				items = append(items, it)
			}
		}
		if !page.More {
			return items, position{}, false, nil
		}
		pos = position{page.Scanned + 1, 0}
		if page.Readable > 0 {
			readable, lastReadable = readable+page.Readable, page.LastReadable
		}
		if readable >= scanBudget {
			return items, position{lastReadable + 1, 0}, true, nil
		}
	}
}

// objectsOf returns the STIX objects of entry e and records their ids in
// the index. A bulletin the mapping refuses (a broken invariant: the node
// stored it) is logged and served as nothing.
func (s *Server) objectsOf(e Entry) []stix.Object {
	objs, err := entryObjects(e)
	if err != nil {
		s.log.Error("bulletin not mapped to STIX", "bulletin_id", e.Bulletin.ID, "err", err)
		return nil
	}
	for _, o := range objs {
		s.index.add(o.ObjectID(), bulletinRef{origin: e.Bulletin.Origin, id: e.Bulletin.ID})
	}
	return objs
}

// entryObjects maps entry e: a reply to its sighting or note, a bulletin
// (a version of it) to its report and indicators.
func entryObjects(e Entry) ([]stix.Object, error) {
	if e.Bulletin.Reply != nil {
		r, err := stix.ReplyOf(e.Bulletin)
		if err != nil {
			return nil, err
		}
		o, err := stix.ReplyObject(r)
		if err != nil {
			return nil, err
		}
		return []stix.Object{o}, nil
	}
	v := stix.Version{Bulletin: e.Bulletin, First: e.First, FirstCreated: e.FirstCreated, Modified: e.Modified}
	if v.First == "" {
		v.First = e.Bulletin.ID // lineage not given: its own first version
	}
	return stix.BulletinObjects(v)
}

// envelope is the TAXII envelope (§3.7).
type envelope struct {
	More    bool          `json:"more"`
	Next    string        `json:"next,omitempty"`
	Objects []stix.Object `json:"objects,omitempty"`
}

// manifestRecord is one line of a manifest (§5.3).
type manifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type"`
}

type manifestResource struct {
	More    bool             `json:"more"`
	Next    string           `json:"next,omitempty"`
	Objects []manifestRecord `json:"objects,omitempty"`
}

// listing parses the request, finds the collection and walks it.
func (s *Server) listing(w http.ResponseWriter, r *http.Request, p identity.Principal) (items []item, next string, more, ok bool) {
	c, found := s.find(w, r, p)
	if !found {
		return nil, "", false, false
	}
	f, err := parseFilter(r.URL.Query(), "limit", "next", "added_after", "match[id]", "match[type]", "match[version]", "match[spec_version]")
	if err != nil {
		writeProblem(w, s.log, r, err)
		return nil, "", false, false
	}
	items, pos, more, err := s.walk(r.Context(), p, c, f)
	if err != nil {
		writeProblem(w, s.log, r, err)
		return nil, "", false, false
	}
	if more {
		next = pos.String()
	}
	dateRange(w.Header(), items)
	return items, next, more, true
}

func (s *Server) objects(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	items, next, more, ok := s.listing(w, r, p)
	if !ok {
		return
	}
	env := envelope{More: more, Next: next}
	for _, it := range items {
		env.Objects = append(env.Objects, it.obj)
	}
	writeJSON(w, http.StatusOK, env)
}

func (s *Server) manifest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	items, next, more, ok := s.listing(w, r, p)
	if !ok {
		return
	}
	m := manifestResource{More: more, Next: next}
	for _, it := range items {
		m.Objects = append(m.Objects, manifestRecord{ID: it.obj.ObjectID(), DateAdded: stix.At(it.added).String(),
			Version: stix.At(it.obj.ObjectVersion()).String(), MediaType: MediaSTIX})
	}
	writeJSON(w, http.StatusOK, m)
}

package taxii

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/stix"
)

// Page sizes of the listing endpoints.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// position is where a listing resumes: the object index within the
// bulletin at a store cursor. Cursor 0 holds the shared objects.
type position struct {
	cursor uint64
	index  int
}

// String writes p as a next token: "cursor-index".
func (p position) String() string {
	return strconv.FormatUint(p.cursor, 10) + "-" + strconv.Itoa(p.index)
}

func parsePosition(s string) (position, bool) {
	c, i, ok := strings.Cut(s, "-")
	cursor, err1 := strconv.ParseUint(c, 10, 64)
	index, err2 := strconv.Atoi(i)
	if !ok || err1 != nil || err2 != nil || index < 0 || index > 1<<20 {
		return position{}, false
	}
	return position{cursor, index}, true
}

// filter is the query of a listing request (TAXII 2.1 §3.4).
type filter struct {
	limit      int
	next       string // as given
	addedAfter time.Time
	ids, types map[string]bool // nil: any
	specOK     bool            // match[spec_version] admits 2.1
	versions   versionMatch
}

// versionMatch is match[version]: last (the default), first, all, or
// given versions.
type versionMatch struct {
	all, first, last bool
	at               []time.Time
}

// parseFilter reads the query of r; params lists the parameters the
// endpoint takes. Anything else, or a bad value, is a *problem.Error
// naming the parameter.
func parseFilter(q url.Values, params ...string) (filter, error) {
	f := filter{limit: defaultLimit, specOK: true, versions: versionMatch{last: true}}
	for k := range q {
		ok := false
		for _, p := range params {
			ok = ok || k == p
		}
		if !ok {
			return f, problem.Invalid(k, "query parameter %q is not supported here (supported: %s)", k, strings.Join(params, ", "))
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, problem.Invalid("limit", "limit %q must be a positive whole number", v)
		}
		f.limit = min(n, maxLimit)
	}
	f.next = q.Get("next")
	if v := q.Get("added_after"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return f, problem.Invalid("added_after", "added_after %q is not a timestamp such as 2026-01-02T15:04:05.000Z", v)
		}
		f.addedAfter = t
	}
	f.ids, f.types = set(q.Get("match[id]")), set(q.Get("match[type]"))
	if v := q.Get("match[spec_version]"); v != "" {
		f.specOK = set(v)[stix.SpecVersion]
	}
	if v := q.Get("match[version]"); v != "" {
		f.versions = versionMatch{}
		for _, x := range strings.Split(v, ",") {
			switch x = strings.TrimSpace(x); x {
			case "all":
				f.versions.all = true
			case "first":
				f.versions.first = true
			case "last":
				f.versions.last = true
			default:
				t, err := time.Parse(time.RFC3339Nano, x)
				if err != nil {
					return f, problem.Invalid("match[version]", "match[version] %q is neither last, first, all nor a timestamp", x)
				}
				f.versions.at = append(f.versions.at, t)
			}
		}
	}
	return f, nil
}

func set(v string) map[string]bool {
	if v == "" {
		return nil
	}
	m := map[string]bool{}
	for _, x := range strings.Split(v, ",") {
		m[strings.TrimSpace(x)] = true
	}
	return m
}

// item is one object of a collection with what filters and envelopes
// need of it.
type item struct {
	obj   stix.Object
	added time.Time
	pos   position
	entry *Entry // nil for a shared object
}

// match reports whether it passes f.
func (f filter) match(it item) bool {
	switch {
	case !f.specOK,
		!f.addedAfter.IsZero() && !it.added.After(f.addedAfter),
		f.ids != nil && !f.ids[it.obj.ObjectID()],
		f.types != nil && !f.types[it.obj.ObjectType()]:
		return false
	}
	return f.versions.match(it)
}

func (v versionMatch) match(it item) bool {
	if v.all {
		return true
	}
	e := it.entry
	if v.last && (e == nil || !e.Superseded) {
		return true
	}
	if v.first && (e == nil || e.First == "" || e.First == e.Bulletin.ID && e.Bulletin.RevisionNumber() <= 1 && !e.Bulletin.Revoked) {
		return true
	}
	for _, t := range v.at {
		if t.Equal(it.obj.ObjectVersion()) {
			return true
		}
	}
	return false
}

// dateRange sets the X-TAXII-Date-Added-First and -Last headers of items.
func dateRange(h interface{ Set(k, v string) }, items []item) {
	if len(items) == 0 {
		return
	}
	first, last := items[0].added, items[0].added
	for _, it := range items {
		if it.added.Before(first) {
			first = it.added
		}
		if it.added.After(last) {
			last = it.added
		}
	}
	h.Set("X-TAXII-Date-Added-First", stix.At(first).String())
	h.Set("X-TAXII-Date-Added-Last", stix.At(last).String())
}

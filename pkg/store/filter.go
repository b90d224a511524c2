package store

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// Page sizes of List and Search.
const (
	DefaultLimit = 100  // used when Filter.Limit is 0
	MaxLimit     = 1000 // larger limits are lowered to this
)

// MaxFilterValues is how many values one field of a Filter may list (there
// are 35 states, 12 categories); more is refused, not silently cut.
const MaxFilterValues = 64

// Filter selects records. Fields combine with AND; the values listed in one
// field combine with OR; an empty field or zero value does not restrict.
type Filter struct {
	// Origins and Regions keep bulletins of these origin states or of
	// their regions, and the replies to their bulletins.
	Origins     []string        // origin state codes
	Regions     []region.Region // regions of the origin state
	Categories  []bulletin.Category
	Precedences []bulletin.Precedence
	Markings    []bulletin.Marking

	// Since and Until bound Bulletin.CreatedAt: Since <= CreatedAt < Until.
	// Zero leaves that side open.
	Since, Until time.Time

	// AfterCursor keeps only records with Cursor > AfterCursor: the resume
	// point of a subscription or the next page of an ascending list.
	AfterCursor uint64
	// BeforeCursor, when not 0, keeps only records with Cursor <
	// BeforeCursor: the next page of a descending list.
	BeforeCursor uint64

	// Limit caps the number of records returned by List and Search: 0 means
	// DefaultLimit, more than MaxLimit means MaxLimit; negative is invalid.
	// Match ignores it.
	Limit int
	// Descending returns newest (highest cursor) first; the default is
	// ascending cursor order, as subscriptions need. Match ignores it.
	Descending bool

	// IncludeRevoked keeps the tombstones of revoked bulletins (a
	// subscription delivers them as revocations); by default they are
	// left out. Search never finds them: they carry no text.
	IncludeRevoked bool
	// ActiveAt, when not zero, leaves out the bulletins expired at that
	// time (ExpiresAt not after it).
	ActiveAt time.Time
}

// Match reports whether r passes f, with the same semantics as the query
// List runs, so a live push and a later List agree. Limit and Descending do
// not apply to a single record.
func (f Filter) Match(r Record) bool {
	b := &r.Bulletin
	var replyOrigin string
	if b.Reply != nil && !b.Revoked {
		replyOrigin = b.Reply.InReplyTo.Origin
	}
	switch {
	case len(f.Origins) > 0 && !slices.Contains(f.Origins, b.Origin) && (replyOrigin == "" || !slices.Contains(f.Origins, replyOrigin)),
		len(f.Regions) > 0 && !slices.Contains(f.Regions, originRegion(b.Origin)) && (replyOrigin == "" || !slices.Contains(f.Regions, originRegion(replyOrigin))),
		r.Withdrawn(),
		b.Revoked && !f.IncludeRevoked,
		!f.ActiveAt.IsZero() && !b.ExpiresAt.IsZero() && !b.ExpiresAt.After(f.ActiveAt),
		len(f.Categories) > 0 && !slices.Contains(f.Categories, b.Category),
		len(f.Precedences) > 0 && !slices.Contains(f.Precedences, b.Precedence),
		len(f.Markings) > 0 && !slices.Contains(f.Markings, b.Marking),
		!f.Since.IsZero() && b.CreatedAt.Before(f.Since),
		!f.Until.IsZero() && !b.CreatedAt.Before(f.Until),
		r.Cursor <= f.AfterCursor,
		f.BeforeCursor != 0 && r.Cursor >= f.BeforeCursor:
		return false
	}
	return true
}

// check refuses a filter the query cannot express exactly. Fields that
// list values are named as the API's filter names them.
func (f Filter) check() error {
	if f.Limit < 0 {
		return problem.Invalid("limit", "limit must not be negative")
	}
	for _, c := range []struct {
		field string
		n     int
	}{
		{"filter.origins", len(f.Origins)}, {"filter.regions", len(f.Regions)}, {"filter.categories", len(f.Categories)},
		{"filter.precedences", len(f.Precedences)}, {"filter.markings", len(f.Markings)},
	} {
		if c.n > MaxFilterValues {
			return problem.Invalid(c.field, "%s lists %d values, the limit is %d", c.field, c.n, MaxFilterValues)
		}
	}
	if err := checkTime("since", f.Since, false); err != nil {
		return err
	}
	if err := checkTime("active_at", f.ActiveAt, false); err != nil {
		return err
	}
	return checkTime("until", f.Until, false)
}

func (f Filter) limit() int {
	switch {
	case f.Limit == 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	}
	return f.Limit
}

// where is a WHERE clause under construction; conditions are ANDed.
type where struct {
	conds []string
	args  []any
}

func (q *where) add(cond string, args ...any) {
	q.conds = append(q.conds, cond)
	q.args = append(q.args, args...)
}

// in adds "col IN (?, ...)" for a non-empty vals.
func in[T any](q *where, col string, vals []T) {
	if len(vals) == 0 {
		return
	}
	marks := strings.Repeat("?, ", len(vals))
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	q.add(col+" IN ("+marks[:len(marks)-2]+")", args...)
}

// either adds "(col IN (...) OR alt IN (...))" for a non-empty vals.
func either[T any](q *where, col, alt string, vals []T) {
	if len(vals) == 0 {
		return
	}
	var a, b where
	in(&a, col, vals)
	in(&b, alt, vals)
	q.add("("+a.conds[0]+" OR "+b.conds[0]+")", append(a.args, b.args...)...)
}

// clause renders the conditions of f on table alias t; cursors above the
// int64 range that SQLite stores are clamped, which keeps Match's meaning.
func (f Filter) clause(t string) where {
	q := where{conds: []string{t + ".withdrawn_at IS NULL"}} // withdrawn rows are never listed
	either(&q, t+".origin", t+".reply_to_origin", f.Origins)
	either(&q, t+".origin_region", t+".reply_to_region", f.Regions)
	if !f.IncludeRevoked {
		q.add(t + ".revoked_at IS NULL")
	}
	if !f.ActiveAt.IsZero() {
		q.add("("+t+".expires_at IS NULL OR "+t+".expires_at > ?)", f.ActiveAt.UnixNano())
	}
	in(&q, t+".category", f.Categories)
	in(&q, t+".precedence", f.Precedences)
	in(&q, t+".marking", f.Markings)
	if !f.Since.IsZero() {
		q.add(t+".created_at >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		q.add(t+".created_at < ?", f.Until.UnixNano())
	}
	if f.AfterCursor > 0 {
		q.add(t+".cursor > ?", int64(min(f.AfterCursor, math.MaxInt64)))
	}
	if f.BeforeCursor > 0 && f.BeforeCursor <= math.MaxInt64 {
		q.add(t+".cursor < ?", int64(f.BeforeCursor))
	}
	return q
}

// tail renders " WHERE ... ORDER BY ... LIMIT n" for q and f.
func (q where) tail(t string, f Filter) string {
	var sb strings.Builder
	if len(q.conds) > 0 {
		sb.WriteString(" WHERE " + strings.Join(q.conds, " AND "))
	}
	sb.WriteString(" ORDER BY " + t + ".cursor")
	if f.Descending {
		sb.WriteString(" DESC")
	}
	sb.WriteString(" LIMIT " + strconv.Itoa(f.limit()))
	return sb.String()
}

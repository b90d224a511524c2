package audit

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// Page sizes of [Log.Recent].
const (
	DefaultRecentLimit = 20
	MaxRecentLimit     = 100
)

// RecentQuery selects a page of [Log.Recent].
type RecentQuery struct {
	// Origin, when set, keeps only the bulletins of that member state.
	Origin string
	// Limit is how many reports at most: 0 means DefaultRecentLimit;
	// negative or more than MaxRecentLimit is invalid.
	Limit int
	// After, when set, keeps only the bulletins after it in the order of
	// Recent (older ones): the next page after the one it ended.
	After *ReportKey
}

// ReportKey is a bulletin's place in the order of [Log.Recent]: its
// signed creation time, then its origin and id, each descending.
type ReportKey struct {
	CreatedAt  time.Time
	Origin, ID string
}

// Key returns r's place in the order of [Log.Recent].
func (r *BulletinReport) Key() ReportKey {
	return ReportKey{CreatedAt: r.CreatedAt, Origin: r.Origin, ID: r.ID}
}

// Recent returns the reports of the most recent bulletins, newest first
// by the creation time their origin signed (then origin and id,
// descending, so that a page ends at a definite place): the rows of a
// delivery matrix. Only messages of kind bulletin are listed; the replies
// and consents about a bulletin are in its report's Thread. A bulletin
// whose row is in the log with a creation time older than the last page
// shown is found only on a later page — the order is by signed creation
// time, not by when the log learned of it. A bad query gives a
// *problem.Error of kind Invalid naming the field ("page_size", "origin");
// after Close, [ErrClosed].
func (l *Log) Recent(ctx context.Context, q RecentQuery) ([]BulletinReport, error) {
	if err := q.check(); err != nil {
		return nil, fmt.Errorf("audit: recent reports: %w", err)
	}
	out, err := l.recent(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("audit: recent reports: %w", err)
	}
	return out, nil
}

func (q *RecentQuery) check() error {
	switch {
	case q.Limit < 0 || q.Limit > MaxRecentLimit:
		return problem.Invalid("page_size", "page size %d is not between 0 (the default, %d) and %d", q.Limit, DefaultRecentLimit, MaxRecentLimit)
	case q.Origin != "" && !region.IsMember(q.Origin):
		return problem.Invalid("origin", "origin %q is not a member state (want an upper-case ISO code)", q.Origin)
	}
	return nil
}

func (l *Log) recent(ctx context.Context, q RecentQuery) ([]BulletinReport, error) {
	leave, err := l.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	tx, err := l.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	defer rollback(tx)
	keys, err := recentKeys(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	cq := cachedQuerier{c: l.stmts, tx: tx}
	out := make([]BulletinReport, 0, len(keys))
	for _, k := range keys {
		r, err := readReport(ctx, cq, k.Origin, k.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// recentKeys selects the page's bulletins through the index on clock_at.
func recentKeys(ctx context.Context, tx *sql.Tx, q RecentQuery) ([]ReportKey, error) {
	limit := q.Limit
	if limit == 0 {
		limit = DefaultRecentLimit
	}
	stmt := `SELECT clock_at, origin, bulletin_id FROM bulletins WHERE kind = ?`
	args := []any{int64(bulletin.KindBulletin)}
	if q.Origin != "" {
		stmt += ` AND origin = ?`
		args = append(args, q.Origin)
	}
	if a := q.After; a != nil {
		stmt += ` AND (clock_at, origin, bulletin_id) < (?, ?, ?)`
		args = append(args, a.CreatedAt.UnixNano(), a.Origin, a.ID)
	}
	stmt += ` ORDER BY clock_at DESC, origin DESC, bulletin_id DESC LIMIT ?`
	rows, err := tx.QueryContext(ctx, stmt, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("read recent bulletins: %w", err)
	}
	defer rows.Close()
	var keys []ReportKey
	for rows.Next() {
		var k ReportKey
		var clock int64
		if err := rows.Scan(&clock, &k.Origin, &k.ID); err != nil {
			return nil, fmt.Errorf("read recent bulletin: %w", err)
		}
		k.CreatedAt = time.Unix(0, clock).UTC()
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recent bulletins: %w", err)
	}
	return keys, nil
}

// reportTokenVersion starts every report page token, so that a later
// form can be told apart.
const reportTokenVersion = "r1"

// Token returns k as an opaque page token: base64url (no padding) of
// "r1.<creation time, Unix nanoseconds>.<origin>.<id>". [ParseReportToken]
// reads it back.
func (k ReportKey) Token() string {
	raw := reportTokenVersion + "." + strconv.FormatInt(k.CreatedAt.UnixNano(), 10) + "." + k.Origin + "." + k.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseReportToken reads a page token made by [ReportKey.Token]. Anything
// else — another encoding, a time outside the log's range, an origin that
// is not a member state, a bad id, a form Token would not make — gives a
// *problem.Error of kind Invalid naming "page_token".
func ParseReportToken(tok string) (ReportKey, error) {
	bad := problem.Invalid("page_token", "page token is not one the secretariat issued")
	if len(tok) > 4*MaxBulletinIDBytes {
		return ReportKey{}, bad
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil {
		return ReportKey{}, bad
	}
	parts := strings.SplitN(string(raw), ".", 4)
	if len(parts) != 4 || parts[0] != reportTokenVersion {
		return ReportKey{}, bad
	}
	nanos, err := strconv.ParseInt(parts[1], 10, 64)
	k := ReportKey{CreatedAt: time.Unix(0, nanos).UTC(), Origin: parts[2], ID: parts[3]}
	switch {
	case err != nil || nanos < 0 || strconv.FormatInt(nanos, 10) != parts[1],
		!region.IsMember(k.Origin),
		k.ID == "" || len(k.ID) > MaxBulletinIDBytes || !token(k.ID),
		k.Token() != tok:
		return ReportKey{}, bad
	}
	return k, nil
}

package membership

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/oas-cicte/iant/pkg/region"
)

// The text of the signed documents (the body of a signed note). The first
// line names the document, so that a deny list is never read as a table
// nor the other way round; every document has exactly one encoding (a
// parser re-encodes what it read and refuses any other bytes), one field a
// line, times in UTC to the second:
//
//	iant membership table v1
//	network iant.test
//	version 3
//	issued 2026-11-20T10:00:00Z
//	member CA north-america suspended 2026-11-20T10:00:00Z node "dues unpaid"
//	member MX north-america active 2026-11-01T08:00:00Z - "genesis"
//
//	iant deny list v1
//	network iant.test
//	version 2
//	issued 2026-11-20T10:05:00Z
//	id spiffe://iant.test/state/MX/focal-point/ana 2026-11-20T10:05:00Z spiffe://iant.test/secretariat/admin/eva "laptop stolen"
//	serial 3fa011 2026-11-20T10:04:00Z spiffe://iant.test/secretariat/admin/eva "key leaked"
//
// A member's fields are its code, region, status, since, node names (comma
// separated, "-" for none) and reason (a Go-quoted string, possibly "").
const (
	tableHeader = "iant membership table v1"
	denyHeader  = "iant deny list v1"
	timeLayout  = "2006-01-02T15:04:05Z"
)

// Kind tells the two signed documents apart.
type Kind int

// The documents.
const (
	KindUnknown Kind = iota
	KindTable
	KindDenyList
)

// String returns "membership table" or "deny list".
func (k Kind) String() string {
	switch k {
	case KindTable:
		return "membership table"
	case KindDenyList:
		return "deny list"
	}
	return "unknown document"
}

// kindOf returns the kind a document's text announces on its first line.
func kindOf(text string) Kind {
	first, _, _ := strings.Cut(text, "\n")
	switch first {
	case tableHeader:
		return KindTable
	case denyHeader:
		return KindDenyList
	}
	return KindUnknown
}

// marshalTable returns the text of a checked table.
func marshalTable(t *Table) string {
	var b strings.Builder
	writeHead(&b, tableHeader, t.Network, t.Version, t.Issued)
	for _, m := range t.Members {
		nodes := "-"
		if len(m.Nodes) > 0 {
			nodes = strings.Join(m.Nodes, ",")
		}
		fmt.Fprintf(&b, "member %s %s %s %s %s %s\n", m.State, m.Region, m.Status, m.Since.Format(timeLayout), nodes, strconv.Quote(m.Reason))
	}
	return b.String()
}

// marshalDenyList returns the text of a checked deny list.
func marshalDenyList(l *DenyList) string {
	var b strings.Builder
	writeHead(&b, denyHeader, l.Network, l.Version, l.Issued)
	for _, e := range l.Entries {
		kind := "id"
		if e.Serial != "" {
			kind = "serial"
		}
		fmt.Fprintf(&b, "%s %s %s %s %s\n", kind, e.Target(), e.At.Format(timeLayout), e.By, strconv.Quote(e.Reason))
	}
	return b.String()
}

func writeHead(b *strings.Builder, header, network string, version uint64, issued time.Time) {
	fmt.Fprintf(b, "%s\nnetwork %s\nversion %d\nissued %s\n", header, network, version, issued.Format(timeLayout))
}

// parseTable reads the text of a table, checks its rules and that the text
// is the table's one encoding. Errors wrap [ErrMalformed].
func parseTable(text string) (Table, error) {
	lines, head, err := parseHead(text, tableHeader)
	if err != nil {
		return Table{}, err
	}
	t := Table{Network: head.network, Version: head.version, Issued: head.issued}
	for i, line := range lines {
		m, err := parseMember(line)
		if err != nil {
			return Table{}, fmt.Errorf("%w: line %d: %v", ErrMalformed, i+5, err)
		}
		t.Members = append(t.Members, m)
	}
	if err := t.check(); err != nil {
		return Table{}, err
	}
	if marshalTable(&t) != text {
		return Table{}, fmt.Errorf("%w: table not in its canonical encoding", ErrMalformed)
	}
	return t, nil
}

// parseMember reads one "member ..." line.
func parseMember(line string) (Member, error) {
	f, reason, err := fieldsAndReason(line, "member", 6)
	if err != nil {
		return Member{}, err
	}
	var m Member
	var ok bool
	m.State, m.Reason = f[0], reason
	if m.Region, err = region.Parse(f[1]); err != nil || m.Region.String() != f[1] {
		return Member{}, fmt.Errorf("region %q", f[1])
	}
	if m.Status, ok = parseStatus(f[2]); !ok {
		return Member{}, fmt.Errorf("status %q", f[2])
	}
	if m.Since, err = parseTime(f[3]); err != nil {
		return Member{}, err
	}
	if f[4] != "-" {
		m.Nodes = strings.Split(f[4], ",")
	}
	return m, nil
}

// parseDenyList reads the text of a deny list like parseTable.
func parseDenyList(text string) (DenyList, error) {
	lines, head, err := parseHead(text, denyHeader)
	if err != nil {
		return DenyList{}, err
	}
	l := DenyList{Network: head.network, Version: head.version, Issued: head.issued}
	for i, line := range lines {
		e, err := parseDenyEntry(line)
		if err != nil {
			return DenyList{}, fmt.Errorf("%w: line %d: %v", ErrMalformed, i+5, err)
		}
		l.Entries = append(l.Entries, e)
	}
	if err := l.check(); err != nil {
		return DenyList{}, err
	}
	if marshalDenyList(&l) != text {
		return DenyList{}, fmt.Errorf("%w: deny list not in its canonical encoding", ErrMalformed)
	}
	return l, nil
}

// parseDenyEntry reads one "id ..." or "serial ..." line.
func parseDenyEntry(line string) (DenyEntry, error) {
	kind, _, _ := strings.Cut(line, " ")
	if kind != "id" && kind != "serial" {
		return DenyEntry{}, fmt.Errorf("entry kind %q, want id or serial", kind)
	}
	f, reason, err := fieldsAndReason(line, kind, 4)
	if err != nil {
		return DenyEntry{}, err
	}
	e := DenyEntry{Reason: reason, By: f[2]}
	if kind == "id" {
		e.ID = f[0]
	} else {
		e.Serial = f[0]
	}
	if e.At, err = parseTime(f[1]); err != nil {
		return DenyEntry{}, err
	}
	return e, nil
}

// head is the common head of both documents.
type head struct {
	network string
	version uint64
	issued  time.Time
}

// parseHead checks the document's size and header and reads its head; it
// returns the lines after it.
func parseHead(text, header string) ([]string, head, error) {
	var h head
	switch {
	case len(text) > MaxDocumentBytes:
		return nil, h, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(text), MaxDocumentBytes)
	case !utf8.ValidString(text):
		return nil, h, fmt.Errorf("%w: not UTF-8", ErrMalformed)
	case !strings.HasSuffix(text, "\n"):
		return nil, h, fmt.Errorf("%w: does not end with a newline", ErrMalformed)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 4 || lines[0] != header {
		return nil, h, fmt.Errorf("%w: want a %q header, network, version and issued lines", ErrMalformed, header)
	}
	var ok bool
	var err error
	if h.network, ok = strings.CutPrefix(lines[1], "network "); !ok {
		return nil, h, fmt.Errorf("%w: line 2: want network <trust domain>", ErrMalformed)
	}
	v, ok := strings.CutPrefix(lines[2], "version ")
	if h.version, err = strconv.ParseUint(v, 10, 64); !ok || err != nil || strconv.FormatUint(h.version, 10) != v {
		return nil, h, fmt.Errorf("%w: line 3: want version <number>", ErrMalformed)
	}
	is, ok := strings.CutPrefix(lines[3], "issued ")
	if h.issued, err = parseTime(is); !ok || err != nil {
		return nil, h, fmt.Errorf("%w: line 4: want issued <UTC time>", ErrMalformed)
	}
	return lines[4:], h, nil
}

// fieldsAndReason splits "<kind> f1 ... fn <quoted reason>".
func fieldsAndReason(line, kind string, n int) ([]string, string, error) {
	rest, ok := strings.CutPrefix(line, kind+" ")
	if !ok {
		return nil, "", fmt.Errorf("want %q", kind+" ...")
	}
	f := make([]string, 0, n-1)
	for range n - 1 {
		var tok string
		if tok, rest, ok = strings.Cut(rest, " "); !ok || tok == "" {
			return nil, "", fmt.Errorf("%s: want %d fields", kind, n)
		}
		f = append(f, tok)
	}
	reason, err := strconv.Unquote(rest)
	if err != nil || !strings.HasPrefix(rest, `"`) {
		return nil, "", fmt.Errorf("%s: reason %q is not a quoted string", kind, rest)
	}
	return f, reason, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want %s", s, timeLayout)
	}
	return t, checkTime(t)
}

// wireTime is t as the documents keep it: UTC, to the second.
func wireTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// checkTime accepts times of years 2000 to 9999, to the second.
func checkTime(t time.Time) error {
	if t.Year() < 2000 || t.Year() > 9999 || !t.Equal(wireTime(t)) {
		return fmt.Errorf("%w: time %s out of range (years 2000 to 9999, to the second)", ErrMalformed, t)
	}
	return nil
}

// checkReason accepts up to MaxReasonBytes of printable UTF-8: no control
// or format characters (bidirectional overrides among them).
func checkReason(s string) error {
	if len(s) > MaxReasonBytes {
		return fmt.Errorf("reason is %d bytes, at most %d", len(s), MaxReasonBytes)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("reason is not UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || !unicode.IsPrint(r) {
			return fmt.Errorf("reason holds the unprintable character %U", r)
		}
	}
	return nil
}

// compare orders state codes.
func compare(a, b string) int { return strings.Compare(a, b) }

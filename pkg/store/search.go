package store

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/oas-cicte/iant/pkg/problem"
)

// Search returns the records whose title, body or indicators contain every
// word of text and that pass f, in cursor order like [Store.List] (not
// ranked by relevance). Words match whole tokens, case and diacritics
// folded ("transito" finds "Tránsito"); a word ending in '*' matches as a
// prefix. Everything else in text is taken literally, so no input is a
// query syntax error. Errors: kind Invalid for a text without words or a
// bad filter; [ErrClosed].
func (s *Store) Search(ctx context.Context, text string, f Filter) ([]Record, error) {
	match, err := ftsQuery(text)
	if err == nil {
		err = f.check()
	}
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	q := f.clause("b")
	q.conds = append([]string{"bulletins_fts MATCH ?"}, q.conds...)
	q.args = append([]any{match}, q.args...)
	recs, err := s.query(ctx, `SELECT `+recordCols+
		` FROM bulletins_fts JOIN bulletins AS b ON b.cursor = bulletins_fts.rowid`+q.tail("b", f), q.args)
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	return recs, nil
}

// ftsQuery turns the words of text into an FTS5 query that ANDs them, each
// quoted as a string so that operators, column filters and quotes in text
// have no effect. Words without a letter or digit are dropped.
func ftsQuery(text string) (string, error) {
	var terms []string
	// NUL would end the query string inside SQLite: treat it as a space.
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return unicode.IsSpace(r) || r == 0 }) {
		prefix := strings.HasSuffix(w, "*")
		w = strings.TrimRight(w, "*")
		if !strings.ContainsFunc(w, isTokenChar) {
			continue // a word the tokenizer drops would match nothing
		}
		t := `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
		if prefix {
			t += "*"
		}
		terms = append(terms, t)
	}
	if len(terms) == 0 {
		return "", problem.Invalid("query", "search text has no words")
	}
	return strings.Join(terms, " AND "), nil
}

// isTokenChar reports whether FTS5's unicode61 tokenizer keeps r in a token:
// letters, numbers and private-use characters.
func isTokenChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

package statenode

import (
	"math"
	"strconv"
	"strings"

	"github.com/oas-cicte/iant/pkg/problem"
)

// newestFirstToken starts the page token of a newest-first listing of
// ListBulletins, so that it cannot be taken for an oldest-first one: the
// same cursor means "after" in one order and "before" in the other, and a
// token used in the wrong order would silently skip or repeat bulletins.
const newestFirstToken = "n"

// listPageToken is the token of the ListBulletins page after the one whose
// last record has cursor c: the decimal cursor (oldest first, the form
// tokens always had), or newestFirstToken and the decimal cursor.
func listPageToken(c uint64, newestFirst bool) string {
	if newestFirst {
		return newestFirstToken + strconv.FormatUint(c, 10)
	}
	return strconv.FormatUint(c, 10)
}

// parseListPageToken returns the cursor of a ListBulletins page token made
// by listPageToken for a listing in the order newestFirst says; "" gives 0
// (the first page). Any other token, including one of the other order, is
// refused naming page_token. The token itself is not repeated in the
// message: it is the caller's input, and short messages serve better.
func parseListPageToken(tok string, newestFirst bool) (uint64, error) {
	if tok == "" {
		return 0, nil
	}
	digits, isNewest := strings.CutPrefix(tok, newestFirstToken)
	switch {
	case isNewest && !newestFirst:
		return 0, problem.Invalid("page_token", "page token is of a newest-first listing: send it with newest_first, or list again without a token")
	case !isNewest && newestFirst && decimal(digits):
		return 0, problem.Invalid("page_token", "page token is of an oldest-first listing: send it without newest_first, or list again without a token")
	}
	c, err := strconv.ParseUint(digits, 10, 64)
	switch {
	case err != nil || !decimal(digits) || strconv.FormatUint(c, 10) != digits:
		return 0, problem.Invalid("page_token", "page token is not one this node issued")
	case newestFirst && (c == 0 || c > math.MaxInt64):
		// A newest-first page ends before a stored cursor, never 0: 0
		// would mean "no bound" and start over.
		return 0, problem.Invalid("page_token", "page token is not one this node issued")
	}
	return c, nil
}

// decimal reports whether s is a non-empty run of ASCII digits.
func decimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

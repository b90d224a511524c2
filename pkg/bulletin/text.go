package bulletin

import (
	"strings"
	"unicode/utf8"

	"github.com/oas-cicte/iant/pkg/escape"
	"github.com/oas-cicte/iant/pkg/problem"
)

// CheckLine refuses one-line text (a title, an indicator value, a caveat
// or attribute) that is not valid UTF-8 or holds a character that
// [escape.Printable] refuses: control characters (C0, DEL, C1, and so ANSI
// and OSC escape sequences), newlines and tabs, bidirectional overrides and
// isolates, other format characters, line separators and private-use or
// unassigned code points. The error is a *problem.Error of kind invalid
// naming field, and it never contains the refused character itself.
func CheckLine(field, s string) error { return checkText(field, s, false) }

// CheckBlock is [CheckLine] for multi-line text (a body, policy
// conditions): newlines and tabs are allowed.
func CheckBlock(field, s string) error { return checkText(field, s, true) }

func checkText(field, s string, block bool) error {
	if !utf8.ValidString(s) {
		return problem.Invalid(field, "%s is not valid UTF-8", field)
	}
	for i, r := range s {
		if escape.Printable(r) || block && (r == '\n' || r == '\t') {
			continue
		}
		return problem.Invalid(field, "%s holds %s at byte %d; control and formatting characters (escape sequences, bidirectional overrides) are refused", field, escape.Describe(r), i)
	}
	return nil
}

// checkRequiredLine is [CheckLine] for a required field of at most max
// bytes that must hold more than white space.
func checkRequiredLine(field, s string, max int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return problem.Invalid(field, "%s is required", field)
	case len(s) > max:
		return problem.Invalid(field, "%s is %d bytes, the limit is %d", field, len(s), max)
	}
	return CheckLine(field, s)
}

// isULID reports whether s is a ULID in its canonical form: 26 characters
// of Crockford's base32, upper-case, the first at most 7.
func isULID(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789ABCDEFGHJKMNPQRSTVWXYZ", rune(s[i])) {
			return false
		}
	}
	return true
}

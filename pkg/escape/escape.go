// Package escape makes text written by another state safe to print on a
// terminal. Titles, bodies and indicators of bulletins come from other
// member states and are hostile input: an ANSI or OSC escape sequence, a C0
// or C1 control character or a bidirectional override could clear or
// recolour the screen, set the window title, hide text or reorder what the
// reader sees. Every human output of the CLI passes such text through Line
// (one-line cells) or Block (bodies); JSON output needs nothing, since its
// encoder escapes.
//
//	fmt.Fprintf(w, "%s\n", escape.Line(b.Title))
//	fmt.Fprintf(w, "%s\n", escape.Block(b.Body))
//	out := escape.NewWriter(os.Stdout) // a safety net under all human output
//	defer out.Flush()
//
// The bulletin rules refuse the same characters when a bulletin is posted
// or received ([Printable] is the one definition both use), so escaping
// shows only what was stored before those rules.
//
// The functions are pure and safe for concurrent use, and so is a Writer.
package escape

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable reports whether r is shown as itself: a graphic character
// (letter, mark, number, punctuation, symbol or a space separator such as
// U+0020 or U+00A0). It is false for C0 and C1 control characters, DEL,
// format characters (among them the bidirectional overrides and isolates
// U+202A–U+202E and U+2066–U+2069, zero-width characters and tag
// characters), line and paragraph separators, private-use, surrogate and
// unassigned code points, and for newline and tab, which only [Block]
// keeps.
func Printable(r rune) bool {
	return r != utf8.RuneError && unicode.IsGraphic(r)
}

// Line returns s with every character that [Printable] refuses written as
// a visible Go-style escape (\n, \t, \r, \x1b, \u202e, \U000e0001), and
// every byte that is not valid UTF-8 as \xNN. The result is one line of
// printable text; text that is already printable comes back unchanged.
func Line(s string) string { return escape(s, false) }

// Block is [Line] for multi-line text such as a bulletin's body: it keeps
// newlines and tabs and escapes everything else that Line escapes,
// including carriage returns, which could overwrite a line on screen.
func Block(s string) string { return escape(s, true) }

func escape(s string, block bool) string {
	if isClean(s, block) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&sb, `\x%02x`, s[i])
		case r == utf8.RuneError: // a genuine U+FFFD is printable
			sb.WriteRune(r)
		case Printable(r), block && (r == '\n' || r == '\t'):
			sb.WriteRune(r)
		default:
			sb.WriteString(quote(r))
		}
		i += size
	}
	return sb.String()
}

// isClean reports whether escape would return s unchanged.
func isClean(s string, block bool) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return false
			}
			continue
		}
		if !Printable(r) && !(block && (r == '\n' || r == '\t')) {
			return false
		}
	}
	return true
}

// quote writes one refused rune as an escape.
func quote(r rune) string {
	switch r {
	case '\n':
		return `\n`
	case '\t':
		return `\t`
	case '\r':
		return `\r`
	}
	switch {
	case r < 0x80:
		return fmt.Sprintf(`\x%02x`, r)
	case r <= 0xFFFF:
		return fmt.Sprintf(`\u%04x`, r)
	}
	return fmt.Sprintf(`\U%08x`, r)
}

// Describe names a refused rune for an error message, e.g. "U+001B (a
// control character)" or "U+202E (a format character such as a
// bidirectional override)". It never writes the rune itself.
func Describe(r rune) string {
	kind := "a character that is not shown"
	switch {
	case r == '\n' || r == '\r':
		kind = "a line break"
	case r == '\t':
		kind = "a tab"
	case unicode.Is(unicode.Cc, r):
		kind = "a control character"
	case unicode.Is(unicode.Cf, r):
		kind = "a format character such as a bidirectional override"
	case unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		kind = "a line or paragraph separator"
	case unicode.Is(unicode.Co, r):
		kind = "a private-use character"
	}
	return fmt.Sprintf("U+%04X (%s)", r, kind)
}

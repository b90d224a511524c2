package escape_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oas-cicte/iant/pkg/escape"
)

func TestLineAndBlock(t *testing.T) {
	tests := []struct {
		name, in, line, block string
	}{
		{"plain", "Suspected MANPADS shipment", "Suspected MANPADS shipment", "Suspected MANPADS shipment"},
		{"accents and scripts", "Tránsito – São Paulo, Québec ¿qué? 北京 ✈", "Tránsito – São Paulo, Québec ¿qué? 北京 ✈", "Tránsito – São Paulo, Québec ¿qué? 北京 ✈"},
		{"no-break space", "a\u00a0b", "a\u00a0b", "a\u00a0b"},
		{"replacement character", "a\ufffdb", "a\ufffdb", "a\ufffdb"},
		{"CSI colour", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`, `\x1b[31mred\x1b[0m`},
		{"clear screen", "\x1b[2J", `\x1b[2J`, `\x1b[2J`},
		{"OSC window title", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`, `\x1b]0;pwned\x07`},
		{"C1 CSI", "\u009b31m", `\u009b31m`, `\u009b31m`},
		{"DEL", "a\x7fb", `a\x7fb`, `a\x7fb`},
		{"bidi override", "abc\u202Egpj.exe", `abc\u202egpj.exe`, `abc\u202egpj.exe`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`, `\u2066x\u2069`},
		{"zero width", "a\u200bb", `a\u200bb`, `a\u200bb`},
		{"tag character", "a\U000E0041", `a\U000e0041`, `a\U000e0041`},
		{"newline and tab", "a\nb\tc", `a\nb\tc`, "a\nb\tc"},
		{"carriage return", "ok\rfake", `ok\rfake`, `ok\rfake`},
		{"line separator", "a\u2028b", `a\u2028b`, `a\u2028b`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`, `a\xffb\xc3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escape.Line(tt.in); got != tt.line {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.line)
			}
			if got := escape.Block(tt.in); got != tt.block {
				t.Errorf("Block(%q) = %q, want %q", tt.in, got, tt.block)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		r    rune
		want string
	}{
		{0x1b, "U+001B (a control character)"},
		{0x9b, "U+009B (a control character)"},
		{'\n', "U+000A (a line break)"},
		{'\t', "U+0009 (a tab)"},
		{0x202e, "U+202E (a format character such as a bidirectional override)"},
		{0x2029, "U+2029 (a line or paragraph separator)"},
		{0xe000, "U+E000 (a private-use character)"},
	}
	for _, tt := range tests {
		if got := escape.Describe(tt.r); got != tt.want {
			t.Errorf("Describe(%U) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

// dangerous reports whether r must never reach a terminal raw: a C0 or C1
// control character, DEL, or a bidirectional formatting character.
func dangerous(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31m", "\x1b]0;t\x07", "\u009b2J", "a\u202eb", "\u2067", "\xff\xfe", "a\nb\tc\r", "\U000E0001", "\\x1b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line, block := escape.Line(s), escape.Block(s)
		for name, out := range map[string]string{"Line": line, "Block": block} {
			if !utf8.ValidString(out) {
				t.Fatalf("%s(%q) = %q, not valid UTF-8", name, s, out)
			}
			for _, r := range out {
				if dangerous(r) && !(name == "Block" && (r == '\n' || r == '\t')) {
					t.Fatalf("%s(%q) = %q holds %U", name, s, out, r)
				}
				if !escape.Printable(r) && !(name == "Block" && (r == '\n' || r == '\t')) {
					t.Fatalf("%s(%q) = %q holds unprintable %U", name, s, out, r)
				}
			}
		}
		if strings.ContainsAny(line, "\n\r") {
			t.Fatalf("Line(%q) = %q spans lines", s, line)
		}
		clean := utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !escape.Printable(r) }) < 0
		if clean && (line != s || block != s) {
			t.Fatalf("printable %q changed: Line %q, Block %q", s, line, block)
		}
		if !clean && line == s {
			t.Fatalf("Line(%q) left unprintable text unchanged", s)
		}
	})
}

// FuzzWriter writes s in chunks of the given sizes: whatever the split,
// the output is Block(s) (a character split across writes is escaped as
// one), and never holds a control character other than newline and tab.
func FuzzWriter(f *testing.F) {
	f.Add("plain text\n", uint8(3))
	f.Add("Tránsito\u202e\x1b[2J北京\n", uint8(1))
	f.Add("a\xe5\x8c", uint8(2))
	f.Add("\xf0\x9f\x98\x80 ok", uint8(1))
	f.Fuzz(func(t *testing.T, s string, chunk uint8) {
		n := int(chunk%7) + 1
		var out strings.Builder
		w := escape.NewWriter(&out)
		for i := 0; i < len(s); i += n {
			if _, err := w.Write([]byte(s[i:min(i+n, len(s))])); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got, want := out.String(), escape.Block(s); got != want {
			t.Fatalf("Writer in chunks of %d wrote %q, want Block = %q", n, got, want)
		}
	})
}

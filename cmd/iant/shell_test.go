package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// This file is a small interpreter of the shell the documentation writes,
// so that the docs' walk-throughs run as written: `iant ARGS` (the CLI's
// run function), `NAME=value` and `NAME=$(iant ...)`, `$NAME` expansion
// with quotes, a trailing `&` (a background job) and `kill %N`, `cat > FILE
// <<'EOF'` here-documents, and comments. What it does not know fails the
// test, naming the line. Expectations are written in the docs themselves:
//
//	iant ... post ...
//	# -> posted … to 8 states: ...        a line the command prints ("…" stands for anything)
//	iant ... get $ID   # NotFound: ...    the command fails with this error line
//
// Like a person at a terminal, it waits for what happens on its own: after
// a post it waits until every background tail printed the new bulletin,
// and a command (other than a post) whose outcome is not yet the expected
// one is run again until it is, or a minute has passed.

// docLine is one logical line of a block (continuations joined).
type docLine struct {
	n    int    // line number in the file, for messages
	text string // without the trailing comment
	note string // the trailing comment, without "#"
	want string // the "# -> " line that follows it, if any
}

// parseBlock splits a block's text into logical lines, attaching "# -> "
// lines to the command before them and here-documents to their cat line.
func parseBlock(text string, first int) []docLine {
	var out []docLine
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		n, l := first+i, lines[i]
		trimmed := strings.TrimSpace(l)
		switch {
		case trimmed == "":
			continue
		case strings.HasPrefix(trimmed, "# -> ") && len(out) > 0:
			out[len(out)-1].want = strings.TrimPrefix(trimmed, "# -> ")
			continue
		case strings.HasPrefix(trimmed, "#"):
			continue
		}
		if m := heredoc.FindStringSubmatch(trimmed); m != nil {
			body := []string{}
			for i++; i < len(lines) && lines[i] != m[2]; i++ {
				body = append(body, lines[i])
			}
			out = append(out, docLine{n: n, text: trimmed, note: strings.Join(body, "\n") + "\n"})
			continue
		}
		for strings.HasSuffix(l, `\`) && i+1 < len(lines) {
			i++
			l = strings.TrimSuffix(l, `\`) + " " + strings.TrimSpace(lines[i])
		}
		code, note := splitComment(l)
		out = append(out, docLine{n: n, text: strings.TrimSpace(code), note: note})
	}
	return out
}

var heredoc = regexp.MustCompile(`^cat > (\S+) <<'(\w+)'$`)

// splitComment cuts a line at its first " #" outside quotes.
func splitComment(l string) (code, comment string) {
	quote := rune(0)
	for i, r := range l {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || l[i-1] == ' '):
			return l[:i], strings.TrimSpace(l[i+1:])
		}
	}
	return l, ""
}

// words splits a command into words as sh would: quotes, backslashes, and
// $NAME or ${NAME} expanded from vars (unquoted expansions split at white
// space). Operators it does not run are an error.
func words(s string, vars map[string]string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			out = append(out, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unclosed ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord, i = true, i+1+j
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unclosed \" in %q", s)
			}
			cur.WriteString(expand(s[i+1:i+1+j], vars))
			inWord, i = true, i+1+j
		case c == '$':
			name, n := varName(s[i+1:])
			if name == "" {
				return nil, fmt.Errorf("unsupported $ in %q", s)
			}
			for _, r := range vars[name] {
				if r == ' ' {
					flush()
					continue
				}
				cur.WriteRune(r)
				inWord = true
			}
			i += n
		case strings.IndexByte("|;<>`()", c) >= 0 || c == '&' && i+1 < len(s) && s[i+1] == '&':
			return nil, fmt.Errorf("the docs test does not run %q (in %q)", c, s)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return out, nil
}

// varName reads NAME or {NAME} at the start of s; n is how much it used.
func varName(s string) (name string, n int) {
	if strings.HasPrefix(s, "{") {
		if j := strings.IndexByte(s, '}'); j > 0 {
			return s[1:j], j + 1
		}
		return "", 0
	}
	m := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`).FindString(s)
	return m, len(m)
}

// expand replaces $NAME and ${NAME} in double-quoted text.
func expand(s string, vars map[string]string) string {
	return regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`).ReplaceAllStringFunc(s, func(m string) string {
		name, _ := varName(m[1:])
		return vars[name]
	})
}

// pattern turns a documented output line into a regexp: "…" stands for
// anything (an id, a number, the rest of a message).
func pattern(doc string) *regexp.Regexp {
	parts := strings.Split(doc, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `.*`) + `$`)
}

// errorCode matches a trailing comment that documents an expected error.
var errorCode = regexp.MustCompile(`^(InvalidArgument|PermissionDenied|NotFound|AlreadyExists|Unavailable|Unauthenticated|FailedPrecondition|Internal):`)

// ulid finds a bulletin id in a command's output.
var ulid = regexp.MustCompile(`\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b`)

// outcome is what one run of a command gave.
type outcome struct{ out, errLine string }

// lines lists what the person saw: stdout's lines and the error line as
// main prints it.
func (o outcome) lines() []string {
	ls := strings.Split(strings.TrimRight(o.out, "\n"), "\n")
	if o.errLine != "" {
		ls = append(ls, "iant: "+o.errLine)
	}
	return ls
}

// failing reports whether l documents an error: a trailing comment such
// as "# NotFound: ...", or a "# -> iant: ..." line.
func (l docLine) failing() bool {
	return errorCode.MatchString(l.note) || strings.HasPrefix(l.want, "iant: ")
}

// check says why o is not what l documents, or "".
func (l docLine) check(o outcome) string {
	switch {
	case errorCode.MatchString(l.note):
		if !pattern(l.note).MatchString(o.errLine) {
			return fmt.Sprintf("want the error %q, got %q (stdout %q)", l.note, o.errLine, o.out)
		}
	case o.errLine != "" && !l.failing():
		return "failed: " + o.errLine
	case o.errLine == "" && l.failing():
		return fmt.Sprintf("want an error, got stdout %q", o.out)
	}
	if l.want == "" {
		return ""
	}
	re := pattern(l.want)
	for _, s := range o.lines() {
		if re.MatchString(s) {
			return ""
		}
	}
	return fmt.Sprintf("want a line %q, got %q", l.want, o.lines())
}

// writeHeredoc writes a here-document's body to its file.
func writeHeredoc(t *testing.T, l docLine) {
	t.Helper()
	m := heredoc.FindStringSubmatch(l.text)
	if err := os.WriteFile(m[1], []byte(l.note), 0o600); err != nil {
		t.Fatalf("line %d: %v", l.n, err)
	}
}

// retryFor is how long a command may take to reach its documented outcome.
const retryFor = time.Minute

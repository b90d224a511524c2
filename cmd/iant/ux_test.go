package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/store"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// safeOnTerminal reports the first character of out a terminal could act
// on: a C0 control other than newline and tab, DEL, a C1 control, or a
// bidirectional formatting character.
func safeOnTerminal(out string) (rune, bool) {
	for _, r := range out {
		switch {
		case r == '\n' || r == '\t':
		case r < 0x20, r >= 0x7f && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
			return r, false
		}
	}
	return 0, true
}

// hostile is text another state could have stored before the bulletin
// rules refused it: colours, a screen clear, a window title (OSC), a C1
// CSI, a bidi override, a carriage return.
const hostile = "\x1b[31mRED\x1b[0m \x1b[2J \x1b]0;pwned\x07 \u009b6n x\u202Egpj.exe ok\rFORGED"

// TestHostileTextIsRefusedAndEscaped: control and formatting characters
// are refused at post, naming the flag or the file's field; a bulletin
// stored before that rule (put straight into the node's store) is printed
// escaped by list, get and tail, while -o json stays JSON.
func TestHostileTextIsRefusedAndEscaped(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	fpMX, anUS := ctxPath(dir, "mx-focal-point-focal"), ctxPath(dir, "us-analyst-analyst")
	file := filepath.Join(dir, "hostile.yaml")
	writeFile(t, file, "title: \"ok\"\nbody: \"line one\\n\\e]0;pwned\\a\"\nrelease: [US]\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"CSI in --title", []string{"--title", "\x1b[31mALERT", "--body", "b"}, "InvalidArgument: --title holds U+001B (a control character) at byte 0"},
		{"bidi override in --title", []string{"--title", "abc\u202Eexe", "--body", "b"}, "InvalidArgument: --title holds U+202E"},
		{"C1 in --body", []string{"--title", "t", "--body", "a\u009bb"}, "InvalidArgument: --body holds U+009B"},
		{"OSC in the file's body", []string{"-f", file}, "InvalidArgument: " + file + ": body holds U+001B"},
		{"newline in --title", []string{"--title", "a\nb", "--body", "b"}, "InvalidArgument: --title holds U+000A (a line break)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--context", fpMX, "post", "--release", "US"}, tt.args...)
			_, errLine := iant(t, t.Context(), args...)
			if !strings.HasPrefix(errLine, tt.want) {
				t.Errorf("post %q = %q, want %q", tt.args, errLine, tt.want)
			}
			if r, ok := safeOnTerminal(errLine); !ok {
				t.Errorf("the error line holds %U", r)
			}
		})
	}

	id := putHostile(t, filepath.Join(dir, "data", "us", "node.db"))
	for _, args := range [][]string{{"list"}, {"get", id}, {"tail", "--from-start", "--count", "1"}} {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		out, errLine := iant(t, ctx, append([]string{"--context", anUS}, args...)...)
		cancel()
		if errLine != "" || !strings.Contains(out, `\x1b[31mRED`) {
			t.Errorf("%v = %q, %q; want the title escaped", args, out, errLine)
		}
		if r, ok := safeOnTerminal(out); !ok {
			t.Errorf("%v printed %U raw:\n%q", args, r, out)
		}
	}
	out, errLine := iant(t, t.Context(), "--context", anUS, "get", id, "-o", "json")
	if errLine != "" || !strings.Contains(out, `\u001b[31mRED`) || strings.ContainsRune(out, 0x1b) {
		t.Errorf("get -o json = %q, %q; want JSON with the escape sequence as \\u001b", out, errLine)
	}
}

// putHostile stores, as the node's store would have before the rules, a
// bulletin from MX to US with hostile title, body and indicator.
func putHostile(t *testing.T, path string) string {
	t.Helper()
	st, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	b := bulletin.Bulletin{
		ID: "01K00000000000000000000BAD", Origin: "MX", Author: "spiffe://iant.test/state/MX/focal-point/focal\x1b[8m",
		CreatedAt: now, Precedence: bulletin.Flash, Category: bulletin.CBRN, Language: bulletin.English, Marking: bulletin.Amber,
		Releasability: bulletin.Releasability{States: []string{"US"}}, Recipients: []string{"US"},
		Title: hostile, Body: "body\n" + hostile, Indicators: []bulletin.Indicator{{Type: bulletin.IndicatorFlight, Value: hostile, Description: hostile}},
	}
	if _, _, err := st.Put(t.Context(), b, store.Received, now); err != nil {
		t.Fatal(err)
	}
	return b.ID
}

func ctxPath(dir, stem string) string { return filepath.Join(dir, "contexts", stem+".yaml") }

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPostErrorsNameTheFlagOrField covers what a new user met: every
// error is one line naming the flag, or the file and its field.
func TestPostErrorsNameTheFlagOrField(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	fpMX := ctxPath(dir, "mx-focal-point-focal")
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, body)
		return p
	}
	badBody := file("bad-body.txt", "caf\xe9\n")
	unknown := file("unknown.yaml", "title: t\nbody: b\nrelease: [US]\nfoo: 1\nbar: 2\n")
	twoDocs := file("two.yaml", "title: t\nbody: b\nrelease: [US]\n---\ntitle: second\n")
	prec := file("prec.yaml", "title: t\nbody: b\nrelease: [US]\nprecedence: urgent\n")
	notList := file("notlist.yaml", "title: t\nbody: b\nrelease: US\n")
	spaces := file("spaces.yaml", "title: t\nbody: b\nrelease: [US]\nindicators:\n  - {type: flight, value: \"   \"}\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"only its own state", []string{"--title", "t", "--body", "b", "--release", "MX"}, "InvalidArgument: releasability reaches no state but your own (MX): release to at least one other state (field releasability)"},
		{"invalid UTF-8 in --title", []string{"--title", "caf\xe9", "--body", "b", "--release", "US"}, "InvalidArgument: --title is not valid UTF-8"},
		{"invalid UTF-8 in --body-file", []string{"--title", "t", "--body-file", badBody, "--release", "US"}, "InvalidArgument: --body-file is not valid UTF-8"},
		{"--body and --body-file", []string{"--title", "t", "--body", "b", "--body-file", badBody, "--release", "US"}, "InvalidArgument: --body and --body-file: give one of them, not both"},
		{"unknown fields in the file", []string{"-f", unknown}, "InvalidArgument: -f " + unknown + `: line 4: unknown field "foo"; line 5: unknown field "bar"`},
		{"a second document", []string{"-f", twoDocs}, "InvalidArgument: -f " + twoDocs + ": line 5: a second YAML document (after ---) is not read"},
		{"the file's precedence", []string{"-f", prec}, "InvalidArgument: " + prec + `: precedence: unknown precedence "urgent"`},
		{"the flag's precedence", []string{"-f", prec, "--precedence", "soon"}, `InvalidArgument: --precedence: unknown precedence "soon"`},
		{"release not a list", []string{"-f", notList}, "InvalidArgument: -f " + notList + `: line 3: want a list, got "US"`},
		{"indicator value of only spaces", []string{"-f", spaces}, "InvalidArgument: indicators[0].value is required (field indicators[0].value)"},
		{"bad --expires", []string{"--title", "t", "--body", "b", "--release", "US", "--expires", "soon"}, `InvalidArgument: --expires "soon": want an RFC 3339 time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errLine := iant(t, t.Context(), append([]string{"--context", fpMX, "post"}, tt.args...)...)
			if !strings.HasPrefix(errLine, tt.want) || strings.Contains(errLine, "\n") || strings.Contains(errLine, "main.") {
				t.Errorf("post %q = %q, %q; want one line starting %q", tt.args, out, errLine, tt.want)
			}
		})
	}
	out, errLine := iant(t, t.Context(), "--context", fpMX, "post", "--title", "t", "--body", "b", "--release", "US,MX", "--expires", "7d")
	if errLine != "" || !strings.HasPrefix(out, "posted ") || !strings.HasSuffix(out, " to 1 state: US\n") {
		t.Errorf("post to US = %q, %q; want \"posted ID to 1 state: US\"", out, errLine)
	}
}

// TestReadErrorsNameTheFlagOrField: filters, cursors and times.
func TestReadErrorsNameTheFlagOrField(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	anUS, auditor := ctxPath(dir, "us-analyst-analyst"), ctxPath(dir, "secretariat-auditor-auditor")
	many := strings.TrimSuffix(strings.Repeat("MX,", 100_000), ",")
	tests := []struct {
		name string
		args []string
		want string // "" for success
	}{
		{"100k origins", []string{"--context", anUS, "list", "--origin", many}, "InvalidArgument: filter.origins lists 100000 values, the limit is 64 (field filter.origins)"},
		{"unknown origin", []string{"--context", anUS, "list", "--origin", "FR"}, `InvalidArgument: --origin: "FR" is not an OAS member state code`},
		{"list --since a date", []string{"--context", anUS, "list", "--since", "2026-01-01"}, ""},
		{"list --since days", []string{"--context", anUS, "list", "--since", "7d"}, ""},
		{"list --since bad", []string{"--context", anUS, "list", "--since", "yesterday"}, `InvalidArgument: --since "yesterday": want an RFC 3339 time`},
		{"stats --since days", []string{"--context", auditor, "audit", "stats", "--since", "7d"}, ""},
		{"stats --since a time", []string{"--context", auditor, "audit", "stats", "--since", "2026-01-01T00:00:00Z"}, ""},
		{"stats --since bad", []string{"--context", auditor, "audit", "stats", "--since", "yesterday"}, `InvalidArgument: --since "yesterday": want an RFC 3339 time`},
		{"tail --after beyond", []string{"--context", anUS, "tail", "--after", "999999"}, "InvalidArgument: cursor 999999 is beyond the newest bulletin this node holds (cursor 0)"},
		{"get of a bad id", []string{"--context", anUS, "get", "caf\xe9"}, `InvalidArgument: ID "caf\xe9" is not a bulletin id`},
		{"ack of a bad id", []string{"--context", anUS, "ack", "01K\x1b[2J"}, `InvalidArgument: ID "01K\x1b[2J" is not a bulletin id`},
		{"forward to a bad state", []string{"--context", anUS, "forward", "01K00000000000000000000000", "--to", "FR"}, `InvalidArgument: --to: "FR" is not an OAS member state code`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			_, errLine := iant(t, ctx, tt.args...)
			if tt.want == "" && errLine != "" || !strings.HasPrefix(errLine, tt.want) || strings.Contains(errLine, "\n") {
				t.Errorf("iant %.80q = %q, want %q", tt.args, errLine, tt.want)
			}
		})
	}
}

// TestLifecycleLinksAreRefused: supersedes and revises are not relayed
// unchecked; until the lifecycle defines them, a post that sets one is
// refused naming the field.
func TestLifecycleLinksAreRefused(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	c, err := client.LoadContext(ctxPath(dir, "mx-focal-point-focal"))
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := client.Dial(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, field := range []string{"supersedes", "revises"} {
		b := &iantv1.Bulletin{Title: "t", Body: "b", Precedence: iantv1.Precedence_PRECEDENCE_ROUTINE, Category: iantv1.Category_CATEGORY_OTHER,
			Marking: iantv1.Marking_MARKING_GREEN, Language: iantv1.Language_LANGUAGE_EN, Releasability: &iantv1.Releasability{States: []string{"US"}}}
		if field == "supersedes" {
			b.Supersedes = "01K00000000000000000000000"
		} else {
			b.Revises = "01K00000000000000000000000"
		}
		_, err := bulletinClient(conn).PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: b})
		if got := errorLine(err); !strings.HasPrefix(got, "InvalidArgument: "+field+" is not supported yet") || !strings.HasSuffix(got, "(field "+field+")") {
			t.Errorf("post with %s = %q, want InvalidArgument naming %s", field, got, field)
		}
	}
}

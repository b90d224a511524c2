package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/testenv"
)

// TestCLIConfidentialTranslated: MX posts from a file, in Spanish with
// English and Portuguese translations, to BR and JM with a confidential
// audience. JM's analyst sees JM alone as recipient and the text in the
// language asked (--language, else the context file's), told which
// language is shown and which others exist; bad translations in the file
// are refused naming the field.
func TestCLIConfidentialTranslated(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "BR", "JM"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	ctxFile := func(name string) string { return filepath.Join(dir, "contexts", name+".yaml") }
	file := filepath.Join(dir, "b.yaml")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`title: Traslado de armas
body: Dos sistemas portátiles en tránsito.
language: es
release: [BR, JM]
category: arms-trafficking
confidential_audience: true
translations:
  - {language: en, title: Arms in transit, body: Two portable systems in transit.}
  - {language: pt, title: Armas em trânsito, body: Dois sistemas portáteis em trânsito.}
`)
	id, errLine := iant(t, t.Context(), "--context", ctxFile("mx-focal-point-focal"), "post", "-f", file, "--quiet")
	if errLine != "" {
		t.Fatalf("post: %s", errLine)
	}
	id = strings.TrimSpace(id)
	jm := ctxFile("jm-analyst-analyst")
	waitFor(t, func() bool {
		out, _ := iant(t, t.Context(), "--context", jm, "list")
		return strings.Contains(out, id)
	})
	out, errLine := iant(t, t.Context(), "--context", jm, "--language", "pt", "get", id)
	for _, want := range []string{"Armas em trânsito", "Dois sistemas", "pt, translation by MX (also es original, en)", "Recipients:   JM\n", "confidential"} {
		if errLine != "" || !strings.Contains(out, want) {
			t.Errorf("get --language pt = %q, %q; want %q in it", out, errLine, want)
		}
	}
	if strings.Contains(out, "BR") {
		t.Errorf("JM's get names BR: %q", out)
	}
	ctx, err := os.ReadFile(jm)
	if err != nil {
		t.Fatal(err)
	}
	en := filepath.Join(dir, "contexts", "jm-en.yaml")
	if err := os.WriteFile(en, append(ctx, []byte("language: en\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errLine = iant(t, t.Context(), "--context", en, "get", id)
	if errLine != "" || !strings.Contains(out, "Arms in transit") || !strings.Contains(out, "en, translation by MX (also es original, pt)") {
		t.Errorf("get with a context in English = %q, %q", out, errLine)
	}
	out, errLine = iant(t, t.Context(), "--context", en, "list")
	if errLine != "" || !strings.Contains(out, "[en; also es,pt] Arms in transit") {
		t.Errorf("list with a context in English = %q, %q", out, errLine)
	}
	out, errLine = iant(t, t.Context(), "--context", jm, "get", id)
	if errLine != "" || !strings.Contains(out, "Traslado de armas") || !strings.Contains(out, "es, original (also en, pt)") {
		t.Errorf("get without a preference = %q, %q", out, errLine)
	}

	// BR adds a French translation; JM, which did not learn of BR (the
	// audience is confidential), does not get it; MX does.
	fr := filepath.Join(dir, "fr.yaml")
	if err := os.WriteFile(fr, []byte("title: Armes en transit\nbody: Deux systèmes portatifs.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errLine = iant(t, t.Context(), "--context", ctxFile("br-focal-point-focal"), "translate", id, "--lang", "fr", "-f", fr)
	if errLine != "" || !strings.Contains(out, "translated "+id+" into fr") {
		t.Fatalf("translate = %q, %q", out, errLine)
	}
	mx := ctxFile("mx-focal-point-focal")
	waitFor(t, func() bool {
		out, _ := iant(t, t.Context(), "--context", mx, "--language", "fr", "get", id)
		return strings.Contains(out, "fr, translation by BR")
	})
	_, errLine = iant(t, t.Context(), "--context", ctxFile("br-focal-point-focal"), "translate", id, "--lang", "de", "-f", fr)
	if !strings.Contains(errLine, "--lang") {
		t.Errorf("translate --lang de = %q, want an error naming --lang", errLine)
	}

	for _, tt := range []struct{ name, translation, want string }{
		{"escape in title", `{language: pt, title: "a\e[2Jb", body: x}`, "translations[0].title"},
		{"unknown language", `{language: de, title: a, body: b}`, "translations[0].language"},
		{"original's language", `{language: es, title: a, body: b}`, "translations[0].language"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			write("title: T\nbody: B\nlanguage: es\nrelease: [BR]\ntranslations:\n  - " + tt.translation + "\n")
			_, errLine := iant(t, t.Context(), "--context", ctxFile("mx-focal-point-focal"), "post", "-f", file)
			if !strings.HasPrefix(errLine, "InvalidArgument: ") || !strings.Contains(errLine, tt.want) {
				t.Errorf("post = %q, want InvalidArgument naming %s", errLine, tt.want)
			}
		})
	}
}

// waitFor polls ok until it holds, failing t after a deadline.
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

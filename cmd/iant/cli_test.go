package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/testenv"
)

// iant runs the CLI in-process and returns stdout and the error line.
func iant(t *testing.T, ctx context.Context, args ...string) (string, string) {
	t.Helper()
	var out, errw bytes.Buffer
	err := run(ctx, args, &out, &errw)
	if err != nil {
		return out.String(), errorLine(err)
	}
	return out.String(), ""
}

func TestCLIPostGetListTailAck(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US", "JM"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	ctxFile := func(name string) string { return filepath.Join(dir, "contexts", name+".yaml") }
	fpMX, anUS, fpUS, anJM := ctxFile("mx-focal-point-focal"), ctxFile("us-analyst-analyst"), ctxFile("us-focal-point-focal"), ctxFile("jm-analyst-analyst")

	out, errLine := iant(t, t.Context(), "--context", fpMX, "post", "-o", "json",
		"--title", "Suspected MANPADS shipment", "--body", "Container MSCU1234567 flagged.",
		"--release", "us,jm", "--precedence", "FLASH", "--category", "arms-trafficking",
		"--marking", "amber+strict", "--grading", "b2", "--caveat", "no-onward-sharing")
	if errLine != "" {
		t.Fatalf("post: %s", errLine)
	}
	var posted struct {
		Bulletin struct {
			ID         string   `json:"id"`
			Recipients []string `json:"recipients"`
		} `json:"bulletin"`
	}
	if err := json.Unmarshal([]byte(out), &posted); err != nil {
		t.Fatalf("post -o json printed %q: %v", out, err)
	}
	id := posted.Bulletin.ID
	if id == "" || !strings.Contains(strings.Join(posted.Bulletin.Recipients, ","), "JM") || !strings.Contains(strings.Join(posted.Bulletin.Recipients, ","), "US") {
		t.Fatalf("posted id %q recipients %v, want an id and JM, US among recipients", id, posted.Bulletin.Recipients)
	}

	// tail from the start sees it at US and JM (both released).
	for _, c := range []string{anUS, anJM} {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		out, errLine = iant(t, ctx, "--context", c, "tail", "--from-start", "--count", "1")
		cancel()
		if errLine != "" || !strings.Contains(out, id) || !strings.Contains(out, "TLP:AMBER+STRICT") {
			t.Errorf("tail at %s = %q, %q; want a line with %s", filepath.Base(c), out, errLine, id)
		}
	}
	out, errLine = iant(t, t.Context(), "--context", anUS, "get", id)
	if errLine != "" || !strings.Contains(out, "Suspected MANPADS shipment") || !strings.Contains(out, "B2") {
		t.Errorf("get = %q, %q", out, errLine)
	}
	out, errLine = iant(t, t.Context(), "--context", anUS, "list", "--precedence", "flash", "--origin", "MX")
	if errLine != "" || !strings.Contains(out, id) {
		t.Errorf("list = %q, %q", out, errLine)
	}
	out, errLine = iant(t, t.Context(), "--context", anUS, "list", "--category", "cbrn")
	if errLine != "" || strings.Contains(out, id) {
		t.Errorf("list --category cbrn = %q, %q; want no %s", out, errLine, id)
	}
	out, errLine = iant(t, t.Context(), "--context", fpUS, "ack", id)
	if errLine != "" || !strings.Contains(out, "acknowledged "+id) {
		t.Errorf("ack = %q, %q", out, errLine)
	}
	_, errLine = iant(t, t.Context(), "--context", fpUS, "forward", id, "--to", "ca")
	if !strings.Contains(errLine, "PermissionDenied:") || !strings.Contains(errLine, "(rule forward-") {
		t.Errorf("forward of AMBER+STRICT = %q, want PermissionDenied naming a forward policy", errLine)
	}
	out, errLine = iant(t, t.Context(), "--context", fpUS, "policy", "explain", "--as", "spiffe://iant.test/state/US/analyst/analyst", id)
	if errLine != "" || !strings.HasPrefix(out, "may read: decided by read-analyst") {
		t.Errorf("policy explain = %q, %q", out, errLine)
	}
	out, errLine = iant(t, t.Context(), "--context", anUS, "states")
	if errLine != "" || !strings.Contains(out, "Jamaica") || !strings.Contains(out, "caribbean") {
		t.Errorf("states = %q, %q", out, errLine)
	}
}

func TestCLIErrorsAreOneLineNamingTheProblem(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"CA", "US"}, Joining: []string{"JM"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	fpCA := filepath.Join(dir, "contexts", "ca-focal-point-focal.yaml")
	anCA := filepath.Join(dir, "contexts", "ca-analyst-analyst.yaml")
	// JM joins, but its node does not start: a member that never
	// published its keys.
	admin := filepath.Join(dir, "contexts", "secretariat-admin-admin.yaml")
	if _, errLine := iant(t, t.Context(), "--context", admin, "admin", "state", "add", "JM", "--region", "caribbean"); errLine != "" {
		t.Fatal(errLine)
	}
	until := time.Now().Add(30 * time.Second)
	for tv, _ := nw.Node("CA").Membership().Versions(); tv < 2 && time.Now().Before(until); tv, _ = nw.Node("CA").Membership().Versions() {
		time.Sleep(10 * time.Millisecond)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no context", []string{"list"}, "InvalidArgument: no context"},
		{"analyst posts", []string{"--context", anCA, "post", "--title", "t", "--body", "b", "--release", "US"}, "PermissionDenied:"},
		{"unknown precedence", []string{"--context", fpCA, "post", "--title", "t", "--body", "b", "--release", "US", "--precedence", "urgent"}, `unknown precedence "urgent"`},
		{"unknown state", []string{"--context", fpCA, "post", "--title", "t", "--body", "b", "--release", "FR"}, `InvalidArgument: unknown state code "FR"`},
		{"unknown region", []string{"--context", fpCA, "post", "--title", "t", "--body", "b", "--release", "europe"}, `"europe" is neither`},
		{"member without a node", []string{"--context", fpCA, "post", "--title", "t", "--body", "b", "--release", "caribbean"}, "Unavailable: bulletin not sealed: no node of JM has published its keys"},
		{"region without members", []string{"--context", fpCA, "post", "--title", "t", "--body", "b", "--release", "south-america"},
			"InvalidArgument: releasability reaches no state but your own (CA): release to at least one other state (field releasability)"},
		{"not a member", []string{"--context", fpCA, "post", "--title", "t", "--body", "b", "--release", "BR"},
			"InvalidArgument: BR is not a member of the network: it receives no bulletin (field releasability.states)"},
		{"missing title", []string{"--context", fpCA, "post", "--body", "b", "--release", "US"}, "InvalidArgument: title is required (field title)"},
		{"unknown bulletin", []string{"--context", anCA, "get", "01J00000000000000000000000"}, "NotFound:"},
		{"bad output", []string{"--context", anCA, "list", "-o", "xml"}, `unknown output format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errLine := iant(t, t.Context(), tt.args...)
			if !strings.Contains(errLine, tt.want) || strings.Contains(errLine, "\n") {
				t.Errorf("iant %v error = %q, want one line containing %q", tt.args, errLine, tt.want)
			}
		})
	}
}

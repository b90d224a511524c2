package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/testenv"
)

// postID posts with the args given and returns the new bulletin's id.
func postID(t *testing.T, args ...string) string {
	t.Helper()
	out, errLine := iant(t, t.Context(), append(args, "--quiet")...)
	if errLine != "" {
		t.Fatalf("post: %s", errLine)
	}
	return strings.TrimSpace(out)
}

// TestCLILifecycle walks a bulletin's life through the CLI: post, revise
// (the history shows the first version), replies from two states (the
// origin sees the thread), search, revoke (the recipients show the
// tombstone, the report every confirmation).
func TestCLILifecycle(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US", "CA"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	ctxFile := func(name string) string { return filepath.Join(dir, "contexts", name+".yaml") }
	fpMX, fpUS, anUS, fpCA := ctxFile("mx-focal-point-focal"), ctxFile("us-focal-point-focal"), ctxFile("us-analyst-analyst"), ctxFile("ca-focal-point-focal")
	auditor := ctxFile("secretariat-auditor-auditor")

	id := postID(t, "--context", fpMX, "post", "--title", "Container flagged", "--body", "Container MSCU1234567 at Manzanillo.",
		"--release", "US,CA", "--marking", "green", "--precedence", "immediate")
	eventually(t, func(_, e string) bool { return e == "" }, "--context", anUS, "get", id)

	out, errLine := iant(t, t.Context(), "--context", fpMX, "revise", id, "--body", "Container MSCU7654321 at Manzanillo (number corrected).")
	if errLine != "" || !strings.Contains(out, "revised "+id+": revision 2") {
		t.Fatalf("revise = %q, %q", out, errLine)
	}
	out = eventually(t, func(o, e string) bool { return e == "" && strings.Contains(o, "MSCU7654321") },
		"--context", anUS, "get", id, "--history")
	if !strings.Contains(out, "Revision:") || !strings.Contains(out, "revision 1") || !strings.Contains(out, "MSCU1234567") {
		t.Errorf("get --history =\n%s\nwant revision 2 and the first version in the history", out)
	}
	if _, errLine = iant(t, t.Context(), "--context", fpUS, "revise", id, "--body", "x"); !strings.HasPrefix(errLine, "PermissionDenied:") ||
		!strings.Contains(errLine, "(rule ") {
		t.Errorf("revise by US = %q, want PermissionDenied naming the rule", errLine)
	}

	if out, errLine = iant(t, t.Context(), "--context", anUS, "reply", id, "--kind", "sighting", "--seen-at", "1h", "--place", "Port of Houston"); errLine != "" {
		t.Fatalf("reply sighting = %q, %q", out, errLine)
	}
	if out, errLine = iant(t, t.Context(), "--context", fpCA, "reply", id, "--kind", "rfi", "--body", "Which vessel?", "--to", "recipients"); errLine != "" {
		t.Fatalf("reply rfi = %q, %q", out, errLine)
	}
	if _, errLine = iant(t, t.Context(), "--context", fpCA, "reply", id, "--kind", "rumour", "--body", "x"); !strings.Contains(errLine, "--kind") {
		t.Errorf("reply --kind rumour = %q, want the flag named", errLine)
	}
	if _, errLine = iant(t, t.Context(), "--context", fpCA, "reply", id, "--kind", "note", "--body", "x", "--marking", "clear"); !strings.Contains(errLine, "PermissionDenied:") {
		t.Errorf("reply looser than the bulletin = %q, want PermissionDenied", errLine)
	}
	out = eventually(t, func(o, e string) bool { return e == "" && strings.Contains(o, "Thread (2 replies)") }, "--context", fpMX, "get", id)
	if !strings.Contains(out, "sighting") || !strings.Contains(out, "Port of Houston") || !strings.Contains(out, "rfi") {
		t.Errorf("get at the origin =\n%s\nwant both replies in the thread", out)
	}
	eventually(t, func(o, e string) bool { return e == "" && strings.Contains(o, "rfi") }, "--context", fpUS, "get", id)

	if out, errLine = iant(t, t.Context(), "--context", anUS, "search", "mscu7654321"); errLine != "" || !strings.Contains(out, id) {
		t.Errorf("search = %q, %q; want %s", out, errLine, id)
	}

	if _, errLine = iant(t, t.Context(), "--context", fpMX, "revoke", id); !strings.Contains(errLine, "--reason is required") {
		t.Errorf("revoke without --reason = %q", errLine)
	}
	out, errLine = iant(t, t.Context(), "--context", fpMX, "revoke", id, "--reason", "source retracted")
	if errLine != "" || !strings.Contains(out, "revoked "+id) || !strings.Contains(out, "told 2 states: CA,US") {
		t.Fatalf("revoke = %q, %q", out, errLine)
	}
	out = eventually(t, func(o, e string) bool { return e == "" && strings.Contains(o, "REVOKED at") }, "--context", anUS, "get", id)
	if strings.Contains(out, "MSCU") || !strings.Contains(out, "source retracted") {
		t.Errorf("get of the revoked bulletin =\n%s\nwant the tombstone only", out)
	}
	if out, _ = iant(t, t.Context(), "--context", anUS, "search", "mscu7654321"); strings.Contains(out, id) {
		t.Errorf("search finds the revoked bulletin:\n%s", out)
	}
	eventually(t, func(o, e string) bool {
		return e == "" && strings.Contains(o, "US confirmed the revocation") && strings.Contains(o, "CA confirmed the revocation") &&
			strings.Contains(o, "US sighting at") && strings.Contains(o, "CA rfi at")
	}, "--context", auditor, "audit", "report", id)
}

// TestCLIForwardConsent: US asks MX for consent to forward an
// originator-consent-required bulletin to CA; MX grants it; the forward
// passes once, and a second one is refused.
func TestCLIForwardConsent(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US", "CA", "JM"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	ctxFile := func(name string) string { return filepath.Join(dir, "contexts", name+".yaml") }
	fpMX, fpUS, anCA := ctxFile("mx-focal-point-focal"), ctxFile("us-focal-point-focal"), ctxFile("ca-analyst-analyst")

	id := postID(t, "--context", fpMX, "post", "--title", "Consent needed", "--body", "b", "--release", "US",
		"--marking", "green", "--caveat", "originator-consent-required")
	eventually(t, func(_, e string) bool { return e == "" }, "--context", fpUS, "get", id)
	if _, errLine := iant(t, t.Context(), "--context", fpUS, "forward", id, "--to", "CA"); !strings.Contains(errLine, "PermissionDenied:") {
		t.Fatalf("forward without consent = %q, want PermissionDenied", errLine)
	}
	out, errLine := iant(t, t.Context(), "--context", fpUS, "forward", id, "--to", "CA", "--request-consent", "--reason", "joint operation", "-o", "json")
	if errLine != "" {
		t.Fatalf("request consent: %s", errLine)
	}
	var req struct {
		Request struct {
			ID string `json:"id"`
		} `json:"request"`
	}
	if err := json.Unmarshal([]byte(out), &req); err != nil || req.Request.ID == "" {
		t.Fatalf("request consent printed %q: %v", out, err)
	}
	out = eventually(t, func(o, e string) bool { return e == "" && strings.Contains(o, req.Request.ID) }, "--context", fpMX, "consent", "list")
	if !strings.Contains(out, "joint operation") || !strings.Contains(out, "pending") {
		t.Errorf("consent list =\n%s", out)
	}
	if out, errLine = iant(t, t.Context(), "--context", fpUS, "consent", "grant", req.Request.ID); errLine == "" {
		t.Errorf("grant by the requester = %q, want refused", out)
	}
	if out, errLine = iant(t, t.Context(), "--context", fpMX, "consent", "grant", req.Request.ID); errLine != "" || !strings.Contains(out, "granted request") {
		t.Fatalf("grant = %q, %q", out, errLine)
	}
	out = eventually(t, func(o, e string) bool { return e == "" && strings.Contains(o, "forwarded "+id+" to CA") },
		"--context", fpUS, "forward", id, "--to", "CA")
	eventually(t, func(_, e string) bool { return e == "" }, "--context", anCA, "get", id)
	if _, errLine = iant(t, t.Context(), "--context", fpUS, "forward", id, "--to", "JM"); !strings.Contains(errLine, "PermissionDenied:") {
		t.Errorf("second forward under a used grant = %q, want PermissionDenied", errLine)
	}
}

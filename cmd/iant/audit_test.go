package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/testenv"
)

// eventually runs the CLI until check accepts its output, for state the
// audit log reaches asynchronously.
func eventually(t *testing.T, check func(out, errLine string) bool, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, errLine := iant(t, t.Context(), args...)
		if check(out, errLine) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("iant %v = %q, %q; not accepted within 30s", args, out, errLine)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCLIAudit(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	ctxFile := func(name string) string { return filepath.Join(dir, "contexts", name+".yaml") }
	auditor, fpMX, fpUS, anUS := ctxFile("secretariat-auditor-auditor"), ctxFile("mx-focal-point-focal"), ctxFile("us-focal-point-focal"), ctxFile("us-analyst-analyst")

	// A checkpoint saved before anything happened.
	saved := filepath.Join(t.TempDir(), "audit.cp")
	out, errLine := iant(t, t.Context(), "--context", auditor, "audit", "checkpoint", "--save", saved)
	if errLine != "" || !strings.Contains(out, "origin:  iant.test/audit") {
		t.Fatalf("audit checkpoint = %q, %q", out, errLine)
	}
	if _, err := os.Stat(saved + ".vkey"); err != nil {
		t.Fatalf("no verifier key saved: %v", err)
	}

	out, errLine = iant(t, t.Context(), "--context", fpMX, "post", "-o", "json",
		"--title", "Suspected MANPADS shipment", "--body", "Container MSCU1234567 flagged.",
		"--release", "us", "--precedence", "immediate", "--category", "arms-trafficking")
	if errLine != "" {
		t.Fatalf("post: %s", errLine)
	}
	var posted struct {
		Bulletin struct {
			ID string `json:"id"`
		} `json:"bulletin"`
	}
	if err := json.Unmarshal([]byte(out), &posted); err != nil {
		t.Fatal(err)
	}
	id := posted.Bulletin.ID
	eventually(t, func(_, e string) bool { return e == "" }, "--context", anUS, "get", id)
	if _, errLine := iant(t, t.Context(), "--context", fpUS, "ack", id); errLine != "" {
		t.Fatal(errLine)
	}

	// The report, as the auditor and as the origin's focal point (whose
	// context names the MX node: iant finds the secretariat itself).
	complete := func(out, e string) bool {
		return e == "" && strings.Contains(out, testenv.FocalPoint("US").ID(nw.TD).String()) &&
			strings.Contains(out, testenv.Analyst("US").ID(nw.TD).String())
	}
	out = eventually(t, complete, "--context", auditor, "audit", "report", id)
	if !strings.Contains(out, "origin MX  precedence IMMEDIATE") || !strings.Contains(out, "\nUS ") {
		t.Errorf("audit report =\n%s", out)
	}
	out, errLine = iant(t, t.Context(), "--context", fpMX, "audit", "report", id, "-o", "json")
	if errLine != "" || !strings.Contains(out, `"acknowledgedBy":"spiffe://iant.test/state/US/focal-point/focal"`) {
		t.Errorf("audit report -o json as MX focal point = %q, %q", out, errLine)
	}
	// A focal point asks about its own state's bulletins: US has none of
	// that id, and MX's is refused.
	if _, errLine = iant(t, t.Context(), "--context", fpUS, "audit", "report", id); !strings.Contains(errLine, "NotFound:") {
		t.Errorf("audit report as US focal point = %q, want NotFound (no bulletin of US)", errLine)
	}
	if _, errLine = iant(t, t.Context(), "--context", fpUS, "audit", "report", id, "--origin", "MX"); !strings.Contains(errLine, "PermissionDenied:") || !strings.Contains(errLine, "rule audit.own_origin") {
		t.Errorf("audit report --origin MX as US focal point = %q, want PermissionDenied (rule audit.own_origin)", errLine)
	}

	out, errLine = iant(t, t.Context(), "--context", auditor, "audit", "overdue")
	if errLine != "" || !strings.Contains(out, "no acknowledgement is overdue") {
		t.Errorf("audit overdue = %q, %q", out, errLine)
	}
	out, errLine = iant(t, t.Context(), "--context", auditor, "audit", "stats", "--since", "1h")
	if errLine != "" || !strings.Contains(out, "DELIVERY P50") || !strings.Contains(out, "\nUS ") {
		t.Errorf("audit stats = %q, %q", out, errLine)
	}
	// The histograms: the IMMEDIATE bulletin, delivered and acknowledged.
	if !regexp.MustCompile(`(?m)^STATE +PRECEDENCE +TIME +<=1s +<=5s .* >24h +NOT YET +OVERDUE$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^US +IMMEDIATE +delivery( +\d+){10} +0 +-$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^US +IMMEDIATE +acknowledgement( +\d+){10} +0 +0$`).MatchString(out) {
		t.Errorf("audit stats histograms = %q, want US's IMMEDIATE delivery and acknowledgement rows", out)
	}
	out, errLine = iant(t, t.Context(), "--context", auditor, "audit", "stats", "--since", "1h", "--precedence", "routine")
	if errLine != "" || !strings.Contains(out, "no bulletin posted in this range") {
		t.Errorf("audit stats --precedence routine = %q, %q, want none (the bulletin is IMMEDIATE)", out, errLine)
	}
	if _, errLine = iant(t, t.Context(), "--context", auditor, "audit", "stats", "--precedence", "urgent"); !strings.Contains(errLine, "--precedence") {
		t.Errorf("audit stats --precedence urgent = %q, want the flag named", errLine)
	}

	// The log grew from the saved checkpoint; every event of the bulletin
	// is proven in it.
	out, errLine = iant(t, t.Context(), "--context", auditor, "audit", "verify", "--checkpoint", saved, "--bulletin", id, "--update")
	if errLine != "" || !strings.Contains(out, "OK: log iant.test/audit grew from 0 to") || !strings.Contains(out, "(key from file)") ||
		!strings.Contains(out, "acknowledged") {
		t.Fatalf("audit verify = %q, %q", out, errLine)
	}
	// Who said what, each signature verified: MX's node that it posted,
	// US's node that US acknowledged.
	said := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[0], "#") {
			said[f[3]] = f[len(f)-1]
		}
	}
	if said["posted"] != "spiffe://iant.test/state/MX/node/node" || said["acknowledged"] != "spiffe://iant.test/state/US/node/node" {
		t.Errorf("audit verify: posted said by %q, acknowledged by %q; want MX's node and US's:\n%s", said["posted"], said["acknowledged"], out)
	}
	out, errLine = iant(t, t.Context(), "--context", auditor, "audit", "verify", "--checkpoint", saved, "-o", "json")
	var res struct {
		OldSize    uint64 `json:"old_size"`
		NewSize    uint64 `json:"new_size"`
		Consistent bool   `json:"consistent"`
	}
	if err := json.Unmarshal([]byte(out), &res); errLine != "" || err != nil || !res.Consistent || res.OldSize == 0 || res.NewSize < res.OldSize {
		t.Errorf("audit verify -o json after --update = %q, %q (%v)", out, errLine, err)
	}

	// A saved checkpoint that was altered is refused.
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\n", 3)
	lines[1] = "1" + lines[1]
	if err := os.WriteFile(saved, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errLine = iant(t, t.Context(), "--context", auditor, "audit", "verify", "--checkpoint", saved); !strings.Contains(errLine, "verify failed") {
		t.Errorf("audit verify of an altered checkpoint = %q, want a failure", errLine)
	}
	if _, errLine = iant(t, t.Context(), "--context", auditor, "audit", "verify"); !strings.Contains(errLine, "InvalidArgument: --checkpoint FILE is required") {
		t.Errorf("audit verify without --checkpoint = %q", errLine)
	}
}

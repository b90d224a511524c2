package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// TestAdminCommands drives the administration commands against a real
// network: a state suspended and reinstated, an identity denied, listed
// and allowed again, each with the output a person reads, and bad input
// refused naming the flag or field.
func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US", "JM"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	admin := filepath.Join(dir, "contexts", "secretariat-admin-admin.yaml")
	jm := filepath.Join(dir, "contexts", "jm-analyst-analyst.yaml")
	tests := []struct {
		name    string
		args    []string
		out     string // a line of stdout, "" for none
		errLine string // the error line, "" for none
		wait    bool   // a node learns the change a moment later: poll
	}{
		{"list", []string{"--context", admin, "admin", "state", "list"}, "membership table version 1", "", false},
		{"add without region", []string{"--context", admin, "admin", "state", "add", "CA"}, "", "InvalidArgument: --region is required", false},
		{"add in the wrong region", []string{"--context", admin, "admin", "state", "add", "CA", "--region", "caribbean"}, "",
			"InvalidArgument: CA is in north-america in region table 2026-11.1, not caribbean (field region)", false},
		{"suspend", []string{"--context", admin, "admin", "state", "suspend", "JM", "--reason", "test"}, "JM: suspended; membership table version 2 signed and published", "", false},
		{"suspend twice", []string{"--context", admin, "admin", "state", "suspend", "JM"}, "", "AlreadyExists: JM is not an active member (suspended): only an active member is suspended", false},
		{"reinstate", []string{"--context", admin, "admin", "state", "reinstate", "JM"}, "JM: reinstated; membership table version 3 signed and published", "", false},
		{"deny without reason", []string{"--context", admin, "admin", "deny", "spiffe://iant.test/state/JM/analyst/analyst"}, "", "InvalidArgument: --reason is required", false},
		{"deny", []string{"--context", admin, "admin", "deny", "spiffe://iant.test/state/JM/analyst/analyst", "--reason", "laptop stolen"},
			"denied spiffe://iant.test/state/JM/analyst/analyst; deny list version 1 signed and published", "", false},
		{"deny list", []string{"--context", admin, "admin", "deny", "list"}, "deny list version 1", "", false},
		{"denied", []string{"--context", jm, "list"}, "",
			"PermissionDenied: JM/analyst/analyst: this certificate or identity is denied network-wide by the secretariat (rule caller.denied)", true},
		{"allow", []string{"--context", admin, "admin", "allow", "spiffe://iant.test/state/JM/analyst/analyst"},
			"allowed spiffe://iant.test/state/JM/analyst/analyst again; deny list version 2 signed and published", "", false},
		{"a person may not", []string{"--context", jm, "admin", "state", "list"}, "", "PermissionDenied: ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deadline := time.Now().Add(30 * time.Second)
			out, errLine := iant(t, t.Context(), tt.args...)
			for tt.wait && !strings.HasPrefix(errLine, tt.errLine) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				out, errLine = iant(t, t.Context(), tt.args...)
			}
			if !strings.HasPrefix(errLine, tt.errLine) || (tt.errLine == "") != (errLine == "") {
				t.Fatalf("iant %q: error %q, want %q", tt.args, errLine, tt.errLine)
			}
			if tt.out != "" && !strings.Contains(out, tt.out) {
				t.Errorf("iant %q printed %q, want a line %q", tt.args, out, tt.out)
			}
		})
	}
	want := "membership table version 3, deny list version 2"
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, errLine := iant(t, t.Context(), "--context", jm, "states")
		if strings.Contains(out, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("states printed %q (%s), want %q", out, errLine, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCertificateExpiryWarning: a person is warned in the last quarter of
// their certificate's life, told when it has expired, and left alone
// before.
func TestCertificateExpiryWarning(t *testing.T) {
	issued := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	l, err := devpki.Init(t.Context(), devpki.Options{Dir: t.TempDir(), TrustDomain: "iant.test", States: []string{"MX"},
		Now: func() time.Time { return issued }})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := l.Find(testenv.Analyst("MX"))
	for _, tt := range []struct {
		at   time.Duration
		want string
	}{
		{time.Hour, ""},
		{20 * time.Hour, "iant: warning: your certificate expires in 4h0m0s"},
		{25 * time.Hour, "iant: warning: your certificate " + e.CertFile + " expired at 2026-11-21T10:00:00Z"},
	} {
		var w bytes.Buffer
		warnExpiry(&w, e.CertFile, issued.Add(tt.at))
		if got := w.String(); tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
			t.Errorf("at +%s: warning %q, want %q", tt.at, got, tt.want)
		}
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// policyCLI runs `iant policy ARGS` in-process.
func policyCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newPolicyCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.Execute()
	return out.String(), err
}

const repoPolicies = "../../deploy/policies"

func TestPolicyCheck(t *testing.T) {
	for _, arg := range []string{repoPolicies, filepath.Join(repoPolicies, "network.cedar")} {
		out, err := policyCLI(t, "check", arg)
		if err != nil || !strings.HasPrefix(out, "ok: ") || !strings.Contains(out, "validated against the schema") {
			t.Errorf("policy check %s = %q, %v; want ok, validated", arg, out, err)
		}
	}

	dir := t.TempDir()
	bad := filepath.Join(dir, "network.cedar")
	copyPolicyFile(t, dir, "network.cedarschema")
	writePolicyFile(t, bad, "@id(\"x\")\npermit (principal, action, resource) when { principal.rank };\n")
	_, err := policyCLI(t, "check", dir)
	if err == nil || !strings.Contains(err.Error(), bad+":1:1") {
		t.Errorf("policy check (bad attribute) = %v, want an error naming %s:1:1", err, bad)
	}
}

func TestPolicyTest(t *testing.T) {
	out, err := policyCLI(t, "test", repoPolicies)
	if err != nil {
		t.Fatalf("policy test = %v\n%s", err, out)
	}
	if !strings.Contains(out, " 0 failed") || strings.Contains(out, "FAIL") {
		t.Errorf("policy test printed:\n%s", out)
	}

	// A wrong expectation fails the run and is shown.
	dir := t.TempDir()
	copyPolicyFile(t, dir, "network.cedar")
	copyPolicyFile(t, dir, "network.cedarschema")
	if err := os.Mkdir(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	writePolicyFile(t, filepath.Join(dir, "tests", "wrong.yaml"), `- name: analyst reads red
  principal: {state: US, role: analyst}
  action: read
  bulletin: {origin: MX, marking: red, release: {states: [US]}}
  expect: allow
`)
	out, err = policyCLI(t, "test", dir)
	if err == nil || !strings.Contains(out, "FAIL") || !strings.Contains(out, "read-red-focal-points-only") {
		t.Errorf("policy test (wrong case) = %v\n%s", err, out)
	}
}

func copyPolicyFile(t *testing.T, dir, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoPolicies, name))
	if err != nil {
		t.Fatal(err)
	}
	writePolicyFile(t, filepath.Join(dir, name), string(b))
}

func writePolicyFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

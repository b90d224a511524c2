package deploy_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnits checks every unit's ExecStart: the binary is one of the
// project's commands, and the command accepts the flags the unit passes
// (it is built and asked for its usage).
func TestSystemdUnits(t *testing.T) {
	units, err := filepath.Glob("../../deploy/systemd/*.service")
	if err != nil || len(units) < 2 {
		t.Fatalf("want the systemd units in deploy/systemd, got %v (%v)", units, err)
	}
	bin := t.TempDir()
	for _, u := range units {
		f, err := os.Open(u)
		if err != nil {
			t.Fatal(err)
		}
		var exec string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
				exec = v
			}
		}
		f.Close()
		fields := strings.Fields(exec)
		if len(fields) < 3 || fields[1] != "-config" {
			t.Errorf("%s: ExecStart %q, want BINARY -config FILE", u, exec)
			continue
		}
		name := filepath.Base(fields[0])
		if _, err := os.Stat(filepath.Join("../../cmd", name)); err != nil {
			t.Errorf("%s: ExecStart runs %s, which is not a command of cmd/", u, name)
			continue
		}
		checkFlag(t, bin, name, "-config")
	}
}

// checkFlag builds cmd/name and checks that its usage lists flag.
func checkFlag(t *testing.T, bin, name, flag string) {
	t.Helper()
	out := filepath.Join(bin, name)
	if b, err := exec.Command("go", "build", "-o", out, "../../cmd/"+name).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, b)
	}
	usage, _ := exec.Command(out, "-h").CombinedOutput()
	if !strings.Contains(string(usage), flag+" ") && !strings.Contains(string(usage), flag+"\n") {
		t.Errorf("%s -h does not list %s:\n%s", name, flag, usage)
	}
}

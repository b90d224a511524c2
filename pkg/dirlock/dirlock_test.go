package dirlock_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/dirlock"
)

func TestSecondLockInOneProcessIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := dirlock.Lock(dir)
	if err != nil {
		t.Fatalf("Lock(%s) = %v", dir, err)
	}
	_, err = dirlock.Lock(dir)
	want := fmt.Sprintf("in use by this process (pid %d)", os.Getpid())
	if !errors.Is(err, dirlock.ErrLocked) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Lock(%s) = %v, want ErrLocked naming the directory and %q", dir, err, want)
	}
	if err := first.Unlock(); err != nil {
		t.Fatalf("Unlock = %v", err)
	}
	if err := first.Unlock(); err != nil {
		t.Fatalf("second Unlock = %v, want nil (idempotent)", err)
	}
	again, err := dirlock.Lock(dir)
	if err != nil {
		t.Fatalf("Lock after Unlock = %v", err)
	}
	again.Unlock()
}

// TestSecondProcessIsRefusedNamingTheHolder runs this test binary again as
// a process that holds the lock until its stdin closes.
func TestSecondProcessIsRefusedNamingTheHolder(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "DIRLOCK_HOLD="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "locked") {
		t.Fatalf("helper said %q, %v; want \"locked\"", line, err)
	}
	_, err = dirlock.Lock(dir)
	want := fmt.Sprintf("in use by process %d", cmd.Process.Pid)
	var le *dirlock.LockedError
	if !errors.Is(err, dirlock.ErrLocked) || !strings.Contains(err.Error(), want) || !errors.As(err, &le) || le.PID != cmd.Process.Pid {
		t.Fatalf("Lock(%s) while another process holds it = %v, want ErrLocked naming %q", dir, err, want)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	l, err := dirlock.Lock(dir)
	if err != nil {
		t.Fatalf("Lock after the holder exited = %v, want the lock (the kernel released it)", err)
	}
	l.Unlock()
}

// TestMain doubles as the lock-holding process of the test above: with
// $DIRLOCK_HOLD set it takes that directory's lock, says so, and holds it
// until stdin closes.
func TestMain(m *testing.M) {
	dir := os.Getenv("DIRLOCK_HOLD")
	if dir == "" {
		os.Exit(m.Run())
	}
	l, err := dirlock.Lock(dir)
	if err != nil {
		fmt.Println("failed:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
	l.Unlock()
	os.Exit(0)
}

package procnet

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/oas-cicte/iant/pkg/health"
)

// Tmpfs mounts a tmpfs of size (e.g. "16m") for the test and returns its
// directory, or skips the test, saying why, when it cannot (not root).
func Tmpfs(t testing.TB, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "iant-test", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// Fill writes a ballast file into mnt that leaves about left bytes free
// (0: none, the disk full) and returns the func that removes it.
func Fill(t testing.TB, mnt string, left uint64) (free func()) {
	t.Helper()
	avail, err := health.FreeBytes(mnt)
	if err != nil || avail < left {
		t.Fatalf("free on %s = %d, %v; want more than %d", mnt, avail, err, left)
	}
	path := filepath.Join(mnt, "ballast-"+randomName())
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Write(make([]byte, avail-left))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil && left > 0 {
		t.Fatalf("fill %s: %v", mnt, err)
	}
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// FreePort returns a loopback TCP port free now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

package dirlock

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// FuzzHolderOf: whatever a lock file holds, the holder is named as a
// process id or not at all, on one line, never with the file's other
// bytes.
func FuzzHolderOf(f *testing.F) {
	for _, s := range []string{"", "1234\n", "0", "-5", "12ab", "\x1b[2J", "99999999999999999999", " 42 \n"} {
		f.Add(s)
	}
	ok := regexp.MustCompile(`^(another process|another process \(its pid is not recorded yet\)|process [1-9][0-9]*|this process \(pid [1-9][0-9]*\))$`)
	f.Fuzz(func(t *testing.T, data string) {
		path := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		e := &LockedError{Dir: "d", File: path, PID: holderOf(path)}
		if got := e.Holder(); !ok.MatchString(got) || e.PID < 0 {
			t.Fatalf("holder of a file holding %q = %q (pid %d)", data, got, e.PID)
		}
	})
}

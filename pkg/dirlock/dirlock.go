// Package dirlock takes an exclusive lock on a data directory, so that a
// second process cannot run on the same JetStream store or SQLite files
// while the first runs (two writers corrupt them, and a second demo would
// rewrite the first one's context files). The lock is flock(2) on a file
// named [FileName] in the directory, which holds the holder's process id so
// that a refusal can name it. The kernel drops the lock when the holder
// exits, however it exits, so a stale lock file never blocks a restart.
//
//	l, err := dirlock.Lock(dataDir)  // errors.Is(err, dirlock.ErrLocked): in use
//	defer l.Unlock()
//
// flock locks belong to an open file description: a second Lock of the same
// directory fails even within one process, until the first is unlocked.
//
// # Concurrency
//
// Lock and Unlock are safe for concurrent use; Unlock is idempotent.
package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// FileName is the lock file's name inside a locked directory.
const FileName = "iant.lock"

// ErrLocked means another process (or another Lock in this one) holds the
// directory's lock. The error returned is a [*LockedError].
var ErrLocked = errors.New("directory is in use")

// LockedError is Lock's refusal when the lock is held; errors.Is matches it
// with [ErrLocked].
type LockedError struct {
	Dir  string // the locked directory
	File string // its lock file
	PID  int    // the holder's process id; 0 when not recorded yet
}

// Error names the directory and the holder, e.g. "dirlock: /var/lib/iantd
// is in use by process 1234 (lock file /var/lib/iantd/iant.lock)".
func (e *LockedError) Error() string {
	return fmt.Sprintf("dirlock: %s is in use by %s (lock file %s)", e.Dir, e.Holder(), e.File)
}

// Is reports whether target is [ErrLocked].
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Holder names the process holding the lock for a message: "process 1234",
// "this process (pid 1234)", or "another process" when its pid is not
// recorded yet.
func (e *LockedError) Holder() string {
	switch {
	case e.PID <= 0:
		return "another process (its pid is not recorded yet)"
	case e.PID == os.Getpid():
		return fmt.Sprintf("this process (pid %d)", e.PID)
	}
	return fmt.Sprintf("process %d", e.PID)
}

// DirLock is a held lock; release it with Unlock.
type DirLock struct {
	mu   sync.Mutex
	file *os.File // nil once unlocked
}

// Lock creates dir if missing and takes its lock without waiting. When the
// lock is held elsewhere the error wraps [ErrLocked] and names the
// directory and, when known, the holder's process id.
func Lock(dir string) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dirlock: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dirlock: %w", err)
	}
	if err := flock(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, &LockedError{Dir: dir, File: path, PID: holderOf(path)}
		}
		return nil, fmt.Errorf("dirlock: lock %s: %w", path, err)
	}
	if err := writePID(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("dirlock: %w", err)
	}
	return &DirLock{file: f}, nil
}

// Unlock releases the lock. It is idempotent.
func (l *DirLock) Unlock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	// Emptying the file first keeps a later reader from naming a process
	// that no longer holds the lock; closing releases it.
	err := errors.Join(l.file.Truncate(0), l.file.Close())
	l.file = nil
	if err != nil {
		return fmt.Errorf("dirlock: unlock: %w", err)
	}
	return nil
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// holderOf reads the process id recorded in the lock file at path; 0 when
// there is none.
func holderOf(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

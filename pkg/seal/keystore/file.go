package keystore

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// readFile reads the key file at path, refusing one that is not a
// regular file or that group or others may access. Its error wraps
// fs.ErrNotExist if there is none.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%w: not a regular file", ErrPermissions)
	case fi.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("%w: mode %04o, want 0600", ErrPermissions, fi.Mode().Perm())
	}
	return io.ReadAll(f)
}

// writeFile replaces the file at path with data, atomically and durably:
// a temporary file of mode 0600 in the same directory, written and
// synced, renamed over path, and the directory synced so the rename
// survives a crash.
func writeFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir syncs directory dir, so that a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

//go:build unix

package health

import (
	"fmt"
	"syscall"
)

// SizeBytes returns the size of the filesystem holding path.
func SizeBytes(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs: %w", err)
	}
	return uint64(st.Blocks) * uint64(st.Bsize), nil //nolint:gosec // both non-negative
}

// FreeBytes returns the bytes free to an unprivileged writer on the
// filesystem holding path.
func FreeBytes(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs: %w", err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil //nolint:gosec // both non-negative
}

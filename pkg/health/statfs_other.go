//go:build !unix

package health

import "errors"

// FreeBytes is not implemented here: the disk check fails, saying so.
func FreeBytes(string) (uint64, error) {
	return 0, errors.New("free disk space cannot be measured on this system")
}

// SizeBytes is not implemented here.
func SizeBytes(string) (uint64, error) {
	return 0, errors.New("disk size cannot be measured on this system")
}

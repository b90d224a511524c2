// Package disk holds the disk pressure tests of IANT: real processes
// (iant-backbone, iantd) whose data or store directory is a small tmpfs,
// filled while bulletins flow. Each must refuse new work with an error
// that names its disk, lose nothing it acknowledged, and take work again
// by itself once space returns. They need root to mount the tmpfs and
// skip, saying so, without it; CI runs them as root.
package disk

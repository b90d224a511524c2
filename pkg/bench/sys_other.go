//go:build !linux

package bench

import "time"

// cpuTime is unknown off Linux.
func cpuTime() time.Duration { return 0 }

// memory is unknown off Linux.
func memory() (rss, peak int64) { return 0, 0 }

// diskWrites is unknown off Linux.
func diskWrites() int64 { return 0 }

// loadAverage is unknown off Linux.
func loadAverage() float64 { return 0 }

// resetPeak is not possible off Linux.
func resetPeak() bool { return false }

package main

import (
	"regexp"
	"strconv"
	"time"
)

// direction says which way a duration counts from now.
type direction int

const (
	past   direction = iota // --since 24h: 24 hours ago
	future                  // --expires 72h: in 72 hours
)

var days = regexp.MustCompile(`^([0-9]{1,5})d(.*)$`)

// parseTime is the one reader of times on the command line (--since,
// --until, --from, --to, --expires, and expires in a bulletin file): an
// RFC 3339 time (2026-12-01T08:00:00Z), a date (2026-12-01, midnight UTC),
// or a duration counted from now in direction dir — Go's units (90m, 24h,
// 1h30m) plus days (7d, 1d12h). A duration must not be negative, and must
// be positive for the future. name names the flag or field in errors.
func parseTime(name, s string, now time.Time, dir direction) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	d, ok := parseDuration(s)
	switch {
	case !ok:
		return time.Time{}, usagef("%s %q: want an RFC 3339 time (2026-12-01T08:00:00Z), a date (2026-12-01) or a duration such as 24h, 90m or 7d", name, s)
	case d < 0, d == 0 && dir == future:
		return time.Time{}, usagef("%s %q: the duration must be positive", name, s)
	case dir == future:
		return now.Add(d), nil
	}
	return now.Add(-d), nil
}

// parseDuration reads a Go duration with an optional leading count of
// days; it refuses what would overflow.
func parseDuration(s string) (time.Duration, bool) {
	var d time.Duration
	if m := days.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 100*365 {
			return 0, false
		}
		d, s = time.Duration(n)*24*time.Hour, m[2]
		if s == "" {
			return d, true
		}
	}
	rest, err := time.ParseDuration(s)
	if err != nil || (d > 0 && rest < 0) || rest > time.Duration(1<<62)-d {
		return 0, false
	}
	return d + rest, true
}

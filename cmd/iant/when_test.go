package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		dir  direction
		want time.Time // zero: an error
	}{
		{"2026-12-01T08:00:00Z", past, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
		{"2026-12-01T08:00:00.5-05:00", past, time.Date(2026, 12, 1, 13, 0, 0, 5e8, time.UTC)},
		{"2026-12-01", past, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"24h", past, now.Add(-24 * time.Hour)},
		{"90m", future, now.Add(90 * time.Minute)},
		{"7d", past, now.Add(-7 * 24 * time.Hour)},
		{"1d12h", future, now.Add(36 * time.Hour)},
		{"0s", past, now},
		{"0s", future, time.Time{}},
		{"-1h", past, time.Time{}},
		{"1d-1h", past, time.Time{}},
		{"yesterday", past, time.Time{}},
		{"7 d", past, time.Time{}},
		{"99999999d", past, time.Time{}},
		{"", past, time.Time{}},
	}
	for _, tt := range tests {
		got, err := parseTime("--since", tt.in, now, tt.dir)
		switch {
		case tt.want.IsZero() && err == nil:
			t.Errorf("parseTime(%q) = %v, want an error", tt.in, got)
		case !tt.want.IsZero() && (err != nil || !got.Equal(tt.want)):
			t.Errorf("parseTime(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseTime: any input gives a time or a one-line usage error naming
// the flag; a duration never overflows past the other side of now.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"24h", "7d", "1d12h", "2026-12-01", "2026-12-01T08:00:00Z", "-1h", "9999999999h", "\x1b[2J", "d", "0d"} {
		f.Add(s, true)
	}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string, isPast bool) {
		dir := future
		if isPast {
			dir = past
		}
		got, err := parseTime("--since", s, now, dir)
		var u usageError
		if err != nil {
			if !errors.As(err, &u) || !strings.HasPrefix(u.msg, "--since ") || strings.Contains(errorLine(err), "\n") {
				t.Fatalf("parseTime(%q) = %v, want a one-line usage error naming --since", s, err)
			}
			return
		}
		if _, derr := parseDuration(s); derr && (isPast && got.After(now) || !isPast && !got.After(now)) {
			t.Fatalf("parseTime(%q, past=%v) = %v, on the wrong side of %v", s, isPast, got, now)
		}
	})
}

// FuzzBulletinID: an accepted id is a canonical ULID; a refusal is one
// printable line.
func FuzzBulletinID(f *testing.F) {
	for _, s := range []string{"01K00000000000000000000BAD", "01k00000000000000000000bad", "", "\x1b[2J", "81K00000000000000000000BAD", " 01K00000000000000000000BAD "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := bulletinID("ID", s)
		if err != nil {
			if line := errorLine(err); strings.ContainsAny(line, "\n\x1b") {
				t.Fatalf("bulletinID(%q) error %q is not one printable line", s, line)
			}
			return
		}
		if len(id) != 26 || id != strings.ToUpper(id) || strings.ContainsAny(id, "ILOU") {
			t.Fatalf("bulletinID(%q) = %q, not a canonical ULID", s, id)
		}
	})
}

package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/oas-cicte/iant/pkg/testenv"
)

// TestCLIPostRetryWithIdempotencyKey posts with --idempotency-key, posts
// again with the same key (the same bulletin) and with another draft under
// that key (refused, naming the field).
func TestCLIPostRetryWithIdempotencyKey(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	fp := filepath.Join(dir, "contexts", "mx-focal-point-focal.yaml")
	args := []string{"--context", fp, "post", "--title", "T", "--body", "B", "--release", "US", "--idempotency-key", "cli-retry-1"}
	posted := regexp.MustCompile(`^posted (\S+) to 1 state: US\n$`)
	out, errLine := iant(t, t.Context(), args...)
	m := posted.FindStringSubmatch(out)
	if errLine != "" || m == nil {
		t.Fatalf("post = %q, %q; want one line naming the bulletin", out, errLine)
	}
	again, errLine := iant(t, t.Context(), args...)
	if errLine != "" || again != out {
		t.Errorf("post again with the same key = %q, %q; want %q", again, errLine, out)
	}
	other := append(append([]string{}, args[:4]...), "T2", "--body", "B", "--release", "US", "--idempotency-key", "cli-retry-1")
	if _, errLine := iant(t, t.Context(), other...); !strings.HasPrefix(errLine, "InvalidArgument:") || !strings.HasSuffix(errLine, "(field idempotency_key)") {
		t.Errorf("another draft with the same key = %q; want InvalidArgument naming idempotency_key", errLine)
	}
	if _, errLine := iant(t, t.Context(), append(args[:len(args)-1], "bad\tkey")...); !strings.HasSuffix(errLine, "(field idempotency_key)") {
		t.Errorf("a malformed key = %q; want InvalidArgument naming idempotency_key", errLine)
	}
}

func TestRetryHint(t *testing.T) {
	exp := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		err     error
		expires string
		want    string // "" when no hint is due
	}{
		{"unavailable", status.Error(codes.Unavailable, "x"), "", "--idempotency-key k1"},
		{"deadline, relative expiry", status.Error(codes.DeadlineExceeded, "x"), "72h", "--idempotency-key k1 --expires 2026-12-01T10:00:00Z"},
		{"deadline, absolute expiry", status.Error(codes.DeadlineExceeded, "x"), "2026-12-01T10:00:00Z", "--idempotency-key k1"},
		{"refused", status.Error(codes.PermissionDenied, "x"), "", ""},
		{"invalid", status.Error(codes.InvalidArgument, "x"), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := draft{Title: "T", Body: "B", Release: []string{"US"}, Precedence: "routine", Category: "other",
				Marking: "amber", Language: "en", Expires: tc.expires}
			pb, err := d.toProto(exp.Add(-72 * time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if !maybeCommitted(tc.err) {
				if tc.want != "" {
					t.Errorf("maybeCommitted(%v) = false, want a hint", tc.err)
				}
				return
			}
			if got := retryHint("k1", d, pb); tc.want == "" || !strings.HasSuffix(got, tc.want) {
				t.Errorf("retryHint = %q, want it to end with %q", got, tc.want)
			}
		})
	}
}

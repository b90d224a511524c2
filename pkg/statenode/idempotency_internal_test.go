package statenode

import (
	"errors"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/problem"
)

func TestCheckIdempotencyKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"hex", "9f86d081884c7d659a2feaa0c55ad015", true},
		{"one character", "k", true},
		{"64 characters", strings.Repeat("k", 64), true},
		{"every printable", " !\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~", true},
		{"empty", "", false},
		{"65 characters", strings.Repeat("k", 65), false},
		{"tab", "a\tb", false},
		{"newline", "a\nb", false},
		{"DEL", "a\x7fb", false},
		{"NUL", "\x00", false},
		{"non-ASCII", "clé", false},
		{"invalid UTF-8", "\xff", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkIdempotencyKey(tc.key)
			if (err == nil) != tc.ok {
				t.Fatalf("checkIdempotencyKey(%q) = %v, want ok %v", tc.key, err, tc.ok)
			}
			var pe *problem.Error
			if err != nil && (!errors.As(err, &pe) || pe.Kind != problem.KindInvalid || pe.Field != "idempotency_key") {
				t.Errorf("checkIdempotencyKey(%q) = %#v, want kind invalid naming idempotency_key", tc.key, err)
			}
		})
	}
}

// FuzzCheckIdempotencyKey checks that a key is accepted exactly when it
// is 1 to 64 printable ASCII bytes, and that a refusal names the field and
// never echoes the key.
func FuzzCheckIdempotencyKey(f *testing.F) {
	for _, s := range []string{"", "k", "retry-me", strings.Repeat("x", 64), strings.Repeat("x", 65), "a\tb", "clé", "\x00", "~ ~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		want := len(key) >= 1 && len(key) <= MaxIdempotencyKeyLen
		for i := 0; i < len(key); i++ {
			want = want && key[i] >= 0x20 && key[i] <= 0x7e
		}
		err := checkIdempotencyKey(key)
		if (err == nil) != want {
			t.Fatalf("checkIdempotencyKey(%q) = %v, want ok %v", key, err, want)
		}
		if err == nil {
			return
		}
		var pe *problem.Error
		if !errors.As(err, &pe) || pe.Kind != problem.KindInvalid || pe.Field != "idempotency_key" {
			t.Fatalf("checkIdempotencyKey(%q) = %#v, want kind invalid naming idempotency_key", key, err)
		}
		if len(key) >= 4 && strings.Contains(pe.Msg, key) {
			t.Fatalf("checkIdempotencyKey(%q) echoes the key: %q", key, pe.Msg)
		}
	})
}

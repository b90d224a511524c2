package statenode

import (
	"errors"
	"testing"

	"github.com/oas-cicte/iant/pkg/problem"
)

// FuzzParseListPageToken: a token is accepted only in the order it was
// made for, only in the form listPageToken makes, and every refusal
// names page_token.
func FuzzParseListPageToken(f *testing.F) {
	for _, s := range []string{"", "1", "42", "n1", "n42", "n", "n0", "0", "01", "n01", "+1", "-1", "1e3", "nn1", " 1",
		"18446744073709551615", "n9223372036854775807", "n9223372036854775808", "18446744073709551616"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, tok string, newestFirst bool) {
		c, err := parseListPageToken(tok, newestFirst)
		if err != nil {
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind != problem.KindInvalid || p.Field != "page_token" {
				t.Fatalf("parseListPageToken(%q, %v) = %v, want an Invalid problem naming page_token", tok, newestFirst, err)
			}
			return
		}
		if tok == "" {
			if c != 0 {
				t.Fatalf("parseListPageToken(\"\") = %d, want 0", c)
			}
			return
		}
		if got := listPageToken(c, newestFirst); got != tok {
			t.Fatalf("parseListPageToken(%q, %v) = %d, which makes token %q", tok, newestFirst, c, got)
		}
		if newestFirst && c == 0 {
			t.Fatalf("parseListPageToken(%q, true) = 0: a newest-first page would start over", tok)
		}
		if _, err := parseListPageToken(listPageToken(c, !newestFirst), newestFirst); err == nil {
			t.Fatalf("the token of cursor %d in the other order is accepted", c)
		}
	})
}

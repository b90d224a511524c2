package stix_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/stix"
)

func TestParsePatternAccepts(t *testing.T) {
	tests := []struct {
		in   string
		want []stix.Comparison
	}{
		{"[ipv4-addr:value = '198.51.100.1']", []stix.Comparison{{"ipv4-addr:value", "198.51.100.1"}}},
		{"  [ domain-name:value='a.example' ]  ", []stix.Comparison{{"domain-name:value", "a.example"}}},
		{"[file:hashes.'SHA-256' = 'aa' OR file:hashes.MD5 = 'bb']", []stix.Comparison{{"file:hashes.'SHA-256'", "aa"}, {"file:hashes.MD5", "bb"}}},
		{"[file:hashes.'MD5' = 'cc']", []stix.Comparison{{"file:hashes.MD5", "cc"}}},
		{"[x-iant-flight:number = 'CM471'] AND ([x-iant-travel-document:number = 'P1'] OR [url:value = 'http://x/'])",
			[]stix.Comparison{{"x-iant-flight:number", "CM471"}, {"x-iant-travel-document:number", "P1"}, {"url:value", "http://x/"}}},
		{"[(email-addr:value = 'a@b.c' AND ipv6-addr:value = '::1')]", []stix.Comparison{{"email-addr:value", "a@b.c"}, {"ipv6-addr:value", "::1"}}},
		{`[x-iant-vehicle:registration = 'it\'s \\ ok']`, []stix.Comparison{{"x-iant-vehicle:registration", `it's \ ok`}}},
		{"[url:value = 'ünïcødé']", []stix.Comparison{{"url:value", "ünïcødé"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := stix.ParsePattern(tt.in)
			if err != nil {
				t.Fatalf("ParsePattern(%q) = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, p.Comparisons); diff != "" {
				t.Errorf("ParsePattern(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParsePatternRefuses(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "pattern ends where [ was expected"},
		{"ipv4-addr:value = '1.2.3.4'", `"ipv4-addr" where [ was expected`},
		{"[ipv4-addr:value = '1.2.3.4'", "pattern ends where AND, OR or ] was expected"},
		{"[ipv4-addr:value != '1.2.3.4']", "operator != is not supported"},
		{"[ipv4-addr:value MATCHES '^1']", "operator MATCHES is not supported"},
		{"[ipv4-addr:value IN ('1', '2')]", "operator IN is not supported"},
		{"[NOT ipv4-addr:value = '1']", "operator NOT is not supported"},
		{"[network-traffic:dst_port = 80]", `"80": only string literals`},
		{"[file:created = t'2020-01-01T00:00:00Z']", "typed literal"},
		{"[ipv4-addr:value = '1'] FOLLOWEDBY [ipv4-addr:value = '2']", "FOLLOWEDBY is not supported"},
		{"[ipv4-addr:value = '1'] WITHIN 300 SECONDS", "WITHIN is not supported"},
		{"[ipv4-addr:value = '1'] REPEATS 5 TIMES", "REPEATS is not supported"},
		{"[process:name = 'x']", "object path process:name is not one IANT maps"},
		{"[file:hashes.'SHA-3' = 'x']", "object path file:hashes.'SHA-3' is not one IANT maps"},
		{"[email-message:to_refs[*].value = 'x']", "list indexes in object paths are not supported"},
		{"[url:value = 'a\\n']", `only \' and \\ are escapes`},
		{"[url:value = 'open]", "string is not closed"},
		{"[url:value = 'a'] and [url:value = 'b']", `"and" where AND, OR or the end of the pattern was expected`},
		{"[url:value = 'a'] [url:value = 'b']", "where AND, OR or the end of the pattern was expected"},
		{"[url:value = 'a' ; ]", "unexpected character ';'"},
		{strings.Repeat("(", 20) + "[url:value = 'a']" + strings.Repeat(")", 20), "nested deeper than 16"},
		{"[url:value = '" + strings.Repeat("a", stix.MaxPatternBytes) + "']", "the limit is 4096"},
		{"[" + strings.Repeat("url:value = 'a' OR ", 64) + "url:value = 'a']", "more than 64 comparisons"},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			p, err := stix.ParsePattern(tt.in)
			var pe *stix.PatternError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParsePattern(%q) = %+v, %v; want a *PatternError containing %q", tt.in, p, err, tt.want)
			}
			if pe.Offset < 0 || pe.Offset > len(tt.in) {
				t.Errorf("offset %d outside the pattern", pe.Offset)
			}
		})
	}
}

// FuzzParsePattern checks that the parser never panics, and that what it
// accepts it reads back the same from the comparisons written anew.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"[ipv4-addr:value = '1.2.3.4']", "[file:hashes.'SHA-256' = 'aa' OR file:hashes.MD5 = 'b\\'b']",
		"([url:value = 'x'] AND [x-iant-flight:number = 'y'])", "[a:b.c.'d' = 'e']", "[x:y > 5] WITHIN 5 SECONDS"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := stix.ParsePattern(s)
		if err != nil {
			return
		}
		for _, c := range p.Comparisons {
			again, err := stix.ParsePattern(c.String())
			if err != nil || len(again.Comparisons) != 1 || again.Comparisons[0] != c {
				t.Fatalf("comparison %+v of %q written as %q reads back as %+v, %v", c, s, c.String(), again, err)
			}
		}
	})
}

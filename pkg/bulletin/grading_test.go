package bulletin_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

func TestParseGrading(t *testing.T) {
	tests := []struct {
		in   string
		want bulletin.Grading
	}{
		{"A1", bulletin.Grading{Reliability: 1, Credibility: 1}},
		{"B2", bulletin.Grading{Reliability: 2, Credibility: 2}},
		{"b2", bulletin.Grading{Reliability: 2, Credibility: 2}},
		{"C5", bulletin.Grading{Reliability: 3, Credibility: 5}},
		{"e3", bulletin.Grading{Reliability: 5, Credibility: 3}},
		{"F6", bulletin.Grading{Reliability: 6, Credibility: 6}},
	}
	for _, tt := range tests {
		got, err := bulletin.ParseGrading(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseGrading(%q) = %+v, %v, want %+v, nil", tt.in, got, err, tt.want)
		}
		if !got.Valid() || got.IsZero() {
			t.Errorf("ParseGrading(%q) = %+v: Valid() = %v, IsZero() = %v, want true, false", tt.in, got, got.Valid(), got.IsZero())
		}
	}
}

func TestParseGradingRejects(t *testing.T) {
	for _, in := range []string{"", "G1", "A7", "A0", "B", "B22", "2B", "BB", "22", " B2", "B2 ", "@1", "`1", "Б2", "B\x00"} {
		got, err := bulletin.ParseGrading(in)
		if err == nil {
			t.Errorf("ParseGrading(%q) = %+v, nil, want error", in, got)
			continue
		}
		if q := fmt.Sprintf("%q", in); !strings.Contains(err.Error(), q) {
			t.Errorf("ParseGrading(%q) error = %q, want it to name the value %s", in, err, q)
		}
		if !got.IsZero() {
			t.Errorf("ParseGrading(%q) = %+v with an error, want the zero grading", in, got)
		}
	}
}

func TestGradingRoundTrip(t *testing.T) {
	for r := 1; r <= 6; r++ {
		for c := 1; c <= 6; c++ {
			g := bulletin.Grading{Reliability: r, Credibility: c}
			s := g.String()
			if want := fmt.Sprintf("%c%d", "ABCDEF"[r-1], c); s != want {
				t.Errorf("%+v.String() = %q, want %q", g, s, want)
			}
			got, err := bulletin.ParseGrading(s)
			if err != nil || got != g {
				t.Errorf("ParseGrading(%q) = %+v, %v, want %+v, nil", s, got, err, g)
			}
		}
	}
}

func TestGradingValid(t *testing.T) {
	tests := []struct {
		g     bulletin.Grading
		valid bool
		str   string
	}{
		{bulletin.Grading{}, true, ""},
		{bulletin.Grading{Reliability: 1, Credibility: 6}, true, "A6"},
		{bulletin.Grading{Reliability: 2}, false, "grading(2,0)"},
		{bulletin.Grading{Credibility: 3}, false, "grading(0,3)"},
		{bulletin.Grading{Reliability: 7, Credibility: 1}, false, "grading(7,1)"},
		{bulletin.Grading{Reliability: 1, Credibility: 7}, false, "grading(1,7)"},
		{bulletin.Grading{Reliability: -1, Credibility: -1}, false, "grading(-1,-1)"},
	}
	for _, tt := range tests {
		if got := tt.g.Valid(); got != tt.valid {
			t.Errorf("%+v.Valid() = %v, want %v", tt.g, got, tt.valid)
		}
		if got := tt.g.String(); got != tt.str {
			t.Errorf("%+v.String() = %q, want %q", tt.g, got, tt.str)
		}
	}
}

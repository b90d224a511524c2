package bulletin

import "fmt"

// Grading is the Admiralty (NATO) source grading: the reliability of the
// source, A (completely reliable) to F (cannot be judged), and the
// credibility of the information, 1 (confirmed) to 6 (cannot be judged).
// The zero value means "not graded".
type Grading struct {
	Reliability int `json:"reliability,omitempty"` // 1..6 for A..F
	Credibility int `json:"credibility,omitempty"` // 1..6
}

// IsZero reports whether g is "not graded".
func (g Grading) IsZero() bool { return g.Reliability == 0 && g.Credibility == 0 }

// Valid reports whether g is either ungraded or a complete A1..F6 grading.
func (g Grading) Valid() bool {
	return g.IsZero() || (g.Reliability >= 1 && g.Reliability <= 6 && g.Credibility >= 1 && g.Credibility <= 6)
}

// String returns the grading as analysts write it, e.g. "B2", or "" when ungraded.
func (g Grading) String() string {
	if g.IsZero() {
		return ""
	}
	if !g.Valid() {
		return fmt.Sprintf("grading(%d,%d)", g.Reliability, g.Credibility)
	}
	return fmt.Sprintf("%c%d", 'A'+g.Reliability-1, g.Credibility)
}

// ParseGrading reads "B2" (or "b2").
func ParseGrading(s string) (Grading, error) {
	if len(s) != 2 {
		return Grading{}, fmt.Errorf("source grading %q must be a letter A-F and a digit 1-6, e.g. B2", s)
	}
	r, c := s[0]|0x20, s[1]
	if r < 'a' || r > 'f' || c < '1' || c > '6' {
		return Grading{}, fmt.Errorf("source grading %q must be a letter A-F and a digit 1-6, e.g. B2", s)
	}
	return Grading{Reliability: int(r-'a') + 1, Credibility: int(c - '0')}, nil
}

package stix

import (
	"fmt"
	"sort"
	"strings"
)

// ParsePattern reads a STIX 2.1 pattern of the subset IANT maps:
// observation expressions ("[...]") joined by AND or OR, each a
// comparison expression of equality comparisons ("path = 'value'") on the
// object paths IANT maps, joined by AND or OR, with parentheses. It
// refuses everything else — other operators, NOT, typed or numeric
// literals, qualifiers (WITHIN, REPEATS, START/STOP), FOLLOWEDBY, object
// paths IANT does not map — with a [*PatternError] saying what and where.
func ParsePattern(s string) (*Pattern, error) {
	if len(s) > MaxPatternBytes {
		return nil, &PatternError{Offset: MaxPatternBytes, Msg: fmt.Sprintf("pattern is %d bytes, the limit is %d", len(s), MaxPatternBytes)}
	}
	p := &patParser{lx: lexer{src: s}}
	p.next()
	if err := p.observations(0); err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected("AND, OR or the end of the pattern")
	}
	if len(p.out.Comparisons) == 0 {
		return nil, &PatternError{Msg: "pattern has no comparison"}
	}
	return &p.out, nil
}

type patParser struct {
	lx  lexer
	tok token
	err error
	out Pattern
}

func (p *patParser) next() {
	if p.err == nil {
		p.tok, p.err = p.lx.next()
	}
}

func (p *patParser) fail(msg string, args ...any) error {
	return &PatternError{Offset: p.tok.pos, Msg: fmt.Sprintf(msg, args...)}
}

// unexpected explains why the current token cannot stand where want was
// expected, naming what IANT refuses on purpose.
func (p *patParser) unexpected(want string) error {
	if p.err != nil {
		return p.err
	}
	t := p.tok
	switch {
	case t.kind == tEOF:
		return p.fail("pattern ends where %s was expected", want)
	case t.kind == tWord && qualifiers[t.text]:
		return p.fail("%s is not supported (IANT maps plain comparisons joined by AND and OR)", t.text)
	case t.kind == tWord && operators[t.text]:
		return p.fail("operator %s is not supported (only =)", t.text)
	case t.kind == tOp && t.text != "=":
		return p.fail("operator %s is not supported (only =)", t.text)
	}
	return p.fail("%s where %s was expected", t.describe(), want)
}

var qualifiers = map[string]bool{"FOLLOWEDBY": true, "WITHIN": true, "START": true, "STOP": true, "REPEATS": true}
var operators = map[string]bool{"NOT": true, "LIKE": true, "MATCHES": true, "IN": true, "ISSUBSET": true, "ISSUPERSET": true, "EXISTS": true}

// observations: obs (AND|OR obs)*, where obs is [ comparisons ] or ( observations ).
func (p *patParser) observations(depth int) error {
	for {
		if err := p.observation(depth); err != nil {
			return err
		}
		if p.tok.kind != tWord || p.tok.text != "AND" && p.tok.text != "OR" {
			return p.err
		}
		p.next()
	}
}

func (p *patParser) observation(depth int) error {
	if depth >= maxPatternNesting {
		return p.fail("nested deeper than %d", maxPatternNesting)
	}
	switch p.tok.kind {
	case tLBracket:
		p.next()
		if err := p.comparisons(depth + 1); err != nil {
			return err
		}
		if p.tok.kind != tRBracket {
			return p.unexpected("AND, OR or ]")
		}
		p.next()
		return p.err
	case tLParen:
		p.next()
		if err := p.observations(depth + 1); err != nil {
			return err
		}
		if p.tok.kind != tRParen {
			return p.unexpected("AND, OR or )")
		}
		p.next()
		return p.err
	}
	return p.unexpected("[")
}

// comparisons: cmp (AND|OR cmp)*, where cmp is path = 'string' or ( comparisons ).
func (p *patParser) comparisons(depth int) error {
	for {
		if err := p.comparison(depth); err != nil {
			return err
		}
		if p.tok.kind != tWord || p.tok.text != "AND" && p.tok.text != "OR" {
			return p.err
		}
		p.next()
	}
}

func (p *patParser) comparison(depth int) error {
	if depth >= maxPatternNesting {
		return p.fail("nested deeper than %d", maxPatternNesting)
	}
	if p.tok.kind == tLParen {
		p.next()
		if err := p.comparisons(depth + 1); err != nil {
			return err
		}
		if p.tok.kind != tRParen {
			return p.unexpected("AND, OR or )")
		}
		p.next()
		return p.err
	}
	start := p.tok.pos
	path, err := p.objectPath()
	if err != nil {
		return err
	}
	if p.tok.kind == tLBracket {
		return p.fail("list indexes in object paths are not supported")
	}
	if p.tok.kind != tOp || p.tok.text != "=" {
		return p.unexpected("=")
	}
	p.next()
	if p.tok.kind != tString {
		if p.tok.kind == tTyped || p.tok.kind == tWord || p.tok.kind == tLParen {
			return p.fail("%s: only string literals ('...') are supported", p.tok.describe())
		}
		return p.unexpected("a string literal")
	}
	if _, ok := patternPaths[path]; !ok {
		return &PatternError{Offset: start, Msg: fmt.Sprintf("object path %s is not one IANT maps (want one of %s)", path, mappedPaths())}
	}
	if len(p.out.Comparisons) >= MaxPatternComparisons {
		return p.fail("more than %d comparisons", MaxPatternComparisons)
	}
	p.out.Comparisons = append(p.out.Comparisons, Comparison{Path: path, Value: p.tok.text})
	p.next()
	return p.err
}

// objectPath reads type:property(.property)* and returns it in canonical
// form: quoted property names only where they need quotes.
func (p *patParser) objectPath() (string, error) {
	if p.tok.kind != tWord || operators[p.tok.text] {
		return "", p.unexpected("an object path such as ipv4-addr:value")
	}
	var sb strings.Builder
	sb.WriteString(p.tok.text)
	p.next()
	if p.tok.kind != tColon {
		return "", p.unexpected(":")
	}
	sb.WriteByte(':')
	p.next()
	for first := true; ; first = false {
		switch p.tok.kind {
		case tWord:
			sb.WriteString(p.tok.text)
		case tString:
			if first {
				return "", p.unexpected("a property name")
			}
			sb.WriteString(propName(p.tok.text))
		default:
			return "", p.unexpected("a property name")
		}
		p.next()
		if p.tok.kind != tDot {
			return sb.String(), p.err
		}
		sb.WriteByte('.')
		p.next()
	}
}

// propName writes a property name bare when it is a plain word, else
// quoted: MD5, 'SHA-256'.
func propName(s string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return quote(s)
		}
	}
	return s
}

func mappedPaths() string {
	var ps []string
	for p := range patternPaths {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return strings.Join(ps, ", ")
}

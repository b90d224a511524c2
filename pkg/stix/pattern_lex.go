package stix

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF tokKind = iota
	tLBracket
	tRBracket
	tLParen
	tRParen
	tColon
	tDot
	tOp     // = != < > <= >=
	tString // 'text', unescaped in text
	tTyped  // t'…', h'…', b'…'
	tWord   // keywords, type and property names, numbers, true/false
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// describe names a token in an error, quoting text from the pattern.
func (t token) describe() string {
	switch t.kind {
	case tString:
		return "string " + strconv.Quote(t.text)
	case tTyped:
		return "typed literal " + strconv.Quote(t.text)
	case tEOF:
		return "end of pattern"
	}
	return strconv.Quote(t.text)
}

type lexer struct {
	src string
	pos int
}

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && strings.IndexByte(" \t\r\n", l.src[l.pos]) >= 0 {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	single := map[byte]tokKind{'[': tLBracket, ']': tRBracket, '(': tLParen, ')': tRParen, ':': tColon, '.': tDot}
	if k, ok := single[c]; ok {
		l.pos++
		return token{kind: k, text: string(c), pos: start}, nil
	}
	switch {
	case c == '\'':
		s, err := l.str()
		return token{kind: tString, text: s, pos: start}, err
	case c == '=' || c == '!' || c == '<' || c == '>':
		l.pos++
		if l.pos < len(l.src) && l.src[l.pos] == '=' {
			l.pos++
		}
		op := l.src[start:l.pos]
		if op == "!" {
			return token{}, &PatternError{Offset: start, Msg: `"!" is not an operator`}
		}
		return token{kind: tOp, text: op, pos: start}, nil
	case isWordByte(c):
		for l.pos < len(l.src) && isWordByte(l.src[l.pos]) {
			l.pos++
		}
		w := l.src[start:l.pos]
		if (w == "t" || w == "h" || w == "b") && l.pos < len(l.src) && l.src[l.pos] == '\'' {
			s, err := l.str()
			return token{kind: tTyped, text: w + quote(s), pos: start}, err
		}
		return token{kind: tWord, text: w, pos: start}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return token{}, &PatternError{Offset: start, Msg: fmt.Sprintf("unexpected character %q", r)}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '*'
}

// str reads a string literal at l.pos (a quote): only \' and \\ are
// escapes (STIX 2.1 patterning §9.3).
func (l *lexer) str() (string, error) {
	start := l.pos
	l.pos++
	var sb strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch c {
		case '\'':
			l.pos++
			return sb.String(), nil
		case '\\':
			if l.pos+1 >= len(l.src) || l.src[l.pos+1] != '\'' && l.src[l.pos+1] != '\\' {
				return "", &PatternError{Offset: l.pos, Msg: `only \' and \\ are escapes in a string`}
			}
			sb.WriteByte(l.src[l.pos+1])
			l.pos += 2
		default:
			sb.WriteByte(c)
			l.pos++
		}
	}
	return "", &PatternError{Offset: start, Msg: "string is not closed"}
}

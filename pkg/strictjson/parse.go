package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"
)

// Limits bound what [Parse] accepts. A zero field means the default.
type Limits struct {
	// MaxBytes bounds the document; default 1 MiB.
	MaxBytes int
	// MaxDepth bounds the nesting of arrays and objects; default 32.
	MaxDepth int
	// MaxElems bounds the elements of one array and the keys of one
	// object; default 10000.
	MaxElems int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 1 << 20
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 32
	}
	if l.MaxElems <= 0 {
		l.MaxElems = 10000
	}
	return l
}

// Parse reads one JSON document. It refuses, with an [*Error] naming the
// path, a document over the limits ([ErrTooLarge]), invalid UTF-8 or
// JSON, trailing data ([ErrSyntax]) and an object with a key given twice
// ([ErrDuplicateKey]).
func Parse(data []byte, lim Limits) (Value, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return Value{}, At("", ErrTooLarge, "document is %d bytes, the limit is %d", len(data), lim.MaxBytes)
	}
	if !utf8.Valid(data) {
		return Value{}, At("", ErrSyntax, "not valid UTF-8 (at byte %d)", invalidAt(data))
	}
	p := &parser{dec: json.NewDecoder(bytes.NewReader(data)), lim: lim}
	p.dec.UseNumber()
	v, err := p.value("", 0)
	if err != nil {
		return Value{}, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return Value{}, At("", ErrSyntax, "trailing data after the document (at byte %d)", p.dec.InputOffset())
	}
	return v, nil
}

func invalidAt(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

type parser struct {
	dec *json.Decoder
	lim Limits
}

func (p *parser) token(path string) (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, At(path, ErrSyntax, "not valid JSON (at byte %d): %s", p.dec.InputOffset(), syntaxMsg(err))
	}
	return tok, nil
}

// syntaxMsg strips encoding/json's prefix from a syntax error.
func syntaxMsg(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error()
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of document"
	}
	return err.Error()
}

func (p *parser) value(path string, depth int) (Value, error) {
	tok, err := p.token(path)
	if err != nil {
		return Value{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= p.lim.MaxDepth {
			return Value{}, At(path, ErrTooLarge, "nested deeper than %d", p.lim.MaxDepth)
		}
		if t == '[' {
			return p.array(path, depth+1)
		}
		return p.object(path, depth+1)
	case string:
		return Value{path: path, kind: KindString, text: t}, nil
	case json.Number:
		return Value{path: path, kind: KindNumber, text: string(t)}, nil
	case bool:
		return Value{path: path, kind: KindBool, b: t}, nil
	case nil:
		return Value{path: path, kind: KindNull}, nil
	}
	return Value{}, At(path, ErrSyntax, "unexpected token")
}

func (p *parser) array(path string, depth int) (Value, error) {
	v := Value{path: path, kind: KindArray}
	for p.dec.More() {
		if len(v.elems) >= p.lim.MaxElems {
			return Value{}, At(path, ErrTooLarge, "more than %d elements", p.lim.MaxElems)
		}
		e, err := p.value(path+"["+strconv.Itoa(len(v.elems))+"]", depth)
		if err != nil {
			return Value{}, err
		}
		v.elems = append(v.elems, e)
	}
	if _, err := p.token(path); err != nil { // ']'
		return Value{}, err
	}
	return v, nil
}

func (p *parser) object(path string, depth int) (Value, error) {
	v := Value{path: path, kind: KindObject, fields: map[string]int{}}
	for p.dec.More() {
		tok, err := p.token(path)
		if err != nil {
			return Value{}, err
		}
		key, ok := tok.(string)
		if !ok {
			return Value{}, At(path, ErrSyntax, "object key is not a string")
		}
		kpath := Join(path, key)
		if _, dup := v.fields[key]; dup {
			return Value{}, At(kpath, ErrDuplicateKey, "key %q appears twice in one object", key)
		}
		if len(v.keys) >= p.lim.MaxElems {
			return Value{}, At(path, ErrTooLarge, "more than %d keys", p.lim.MaxElems)
		}
		e, err := p.value(kpath, depth)
		if err != nil {
			return Value{}, err
		}
		v.fields[key] = len(v.elems)
		v.keys = append(v.keys, key)
		v.elems = append(v.elems, e)
	}
	if _, err := p.token(path); err != nil { // '}'
		return Value{}, err
	}
	return v, nil
}

// Join returns the path of key inside the object at path: "a.b", or
// `a["odd key"]` for keys that are not plain identifiers.
func Join(path, key string) string {
	if !plainKey(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index returns the path of element i of the array at path: "a[3]".
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func plainKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i, c := range k {
		ok := c == '_' || c == '-' && i > 0 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0
		if !ok {
			return false
		}
	}
	return true
}

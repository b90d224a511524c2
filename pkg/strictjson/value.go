package strictjson

import (
	"fmt"
	"strconv"
	"time"
)

// Kind is the JSON type of a [Value].
type Kind int

// Kinds. KindMissing is the kind of the Value that [Value.Field] returns
// for an absent key.
const (
	KindMissing Kind = iota
	KindNull
	KindBool
	KindNumber
	KindString
	KindArray
	KindObject
)

var kindNames = [...]string{"missing", "null", "a boolean", "a number", "a string", "an array", "an object"}

// String names the kind as error messages use it ("a string").
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Value is one parsed JSON value and the path it was found at.
type Value struct {
	path   string
	kind   Kind
	text   string // a string's value, a number's literal
	b      bool
	elems  []Value        // array elements, or object values in key order
	keys   []string       // object keys in document order
	fields map[string]int // object key -> index into elems
}

// Path returns where v is in the document ("" for the document itself).
func (v Value) Path() string { return v.path }

// Kind returns v's JSON type; KindMissing for an absent field.
func (v Value) Kind() Kind { return v.kind }

// Exists reports whether v is present and not null.
func (v Value) Exists() bool { return v.kind != KindMissing && v.kind != KindNull }

// Errorf returns an [*Error] at v's path wrapping [ErrValue].
func (v Value) Errorf(format string, args ...any) error {
	return At(v.path, ErrValue, format, args...)
}

func (v Value) want(k Kind) error {
	if v.kind == KindMissing {
		return At(v.path, ErrType, "required, must be %s", k)
	}
	return At(v.path, ErrType, "must be %s, not %s", k, v.kind)
}

// Field returns the value of key in object v. An absent key (or a v that
// is not an object) gives a Value of KindMissing whose path names the key,
// so that the accessors' errors say what is missing where.
func (v Value) Field(key string) Value {
	if i, ok := v.fields[key]; ok {
		return v.elems[i]
	}
	return Value{path: Join(v.path, key)}
}

// Keys returns the keys of object v in document order; nil otherwise.
func (v Value) Keys() []string { return v.keys }

// Object checks that v is an object.
func (v Value) Object() error {
	if v.kind != KindObject {
		return v.want(KindObject)
	}
	return nil
}

// Array returns the elements of array v.
func (v Value) Array() ([]Value, error) {
	if v.kind != KindArray {
		return nil, v.want(KindArray)
	}
	return v.elems, nil
}

// String returns the value of string v.
func (v Value) String() (string, error) {
	if v.kind != KindString {
		return "", v.want(KindString)
	}
	return v.text, nil
}

// Bool returns the value of boolean v.
func (v Value) Bool() (bool, error) {
	if v.kind != KindBool {
		return false, v.want(KindBool)
	}
	return v.b, nil
}

// Int returns the value of v, a number that is an integer in [lo, hi].
func (v Value) Int(lo, hi int64) (int64, error) {
	if v.kind != KindNumber {
		return 0, v.want(KindNumber)
	}
	n, err := strconv.ParseInt(v.text, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, At(v.path, ErrValue, "must be a whole number from %d to %d, not %s", lo, hi, v.text)
	}
	return n, nil
}

// Number returns the literal of number v, e.g. "1.5e3".
func (v Value) Number() (string, error) {
	if v.kind != KindNumber {
		return "", v.want(KindNumber)
	}
	return v.text, nil
}

// Optional helpers: each returns the zero value, and no error, when the
// field is absent or null.

// OptString returns the string v or "" when v is absent or null.
func (v Value) OptString() (string, error) {
	if !v.Exists() {
		return "", nil
	}
	return v.String()
}

// OptBool returns the boolean v or false when v is absent or null.
func (v Value) OptBool() (bool, error) {
	if !v.Exists() {
		return false, nil
	}
	return v.Bool()
}

// OptArray returns the elements of v or nil when v is absent or null.
func (v Value) OptArray() ([]Value, error) {
	if !v.Exists() {
		return nil, nil
	}
	return v.Array()
}

// Strings returns the strings of array v (nil when v is absent or null),
// at most max of them.
func (v Value) Strings(max int) ([]string, error) {
	elems, err := v.OptArray()
	if err != nil {
		return nil, err
	}
	if len(elems) > max {
		return nil, At(v.path, ErrTooLarge, "has %d elements, the limit is %d", len(elems), max)
	}
	var out []string
	for _, e := range elems {
		s, err := e.String()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Time returns the string v parsed as an RFC 3339 time; with utcZ, only
// the form ending in "Z" (as STIX requires) is accepted.
func (v Value) Time(utcZ bool) (time.Time, error) {
	s, err := v.String()
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || utcZ && (len(s) == 0 || s[len(s)-1] != 'Z') {
		return time.Time{}, At(v.path, ErrValue, "%q is not an RFC 3339 time in UTC, e.g. 2026-01-02T15:04:05.000Z", s)
	}
	return t.UTC(), nil
}

// OptTime is [Value.Time] giving the zero time when v is absent or null.
func (v Value) OptTime(utcZ bool) (time.Time, error) {
	if !v.Exists() {
		return time.Time{}, nil
	}
	return v.Time(utcZ)
}

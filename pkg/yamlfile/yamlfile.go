// Package yamlfile reads the project's YAML files (daemon configurations,
// client contexts, bulletin files) strictly: a field the target does not
// know, a second document in the file, or an empty file is an error, so a
// typo never passes silently as a default. Errors are one line that names
// the file, the line and the field or value as the file writes them, never
// Go types:
//
//	err := yamlfile.Decode("mx.yaml", &cfg)
//	// mx.yaml: line 3: unknown field "listen_addr"
//	// bulletin.yaml: line 5: want a list, got "US"
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Decode reads the one YAML document in the file at path into v, refusing
// unknown fields. A file that cannot be read gives the os error as is.
func Decode(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := DecodeBytes(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// DecodeBytes is [Decode] of data already read; its errors do not name a
// file.
func DecodeBytes(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the file is empty: want one YAML document")
		}
		return oneLine(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return oneLine(err)
	case len(next.Content) > 0 && !(next.Content[0].Kind == yaml.ScalarNode && next.Content[0].Tag == "!!null"):
		return fmt.Errorf("line %d: a second YAML document (after ---) is not read: keep one document in the file", next.Content[0].Line)
	}
	return nil
}

var (
	unknownField = regexp.MustCompile("^(line [0-9]+): field (.*) not found in type .*$")
	wrongType    = regexp.MustCompile("(?s)^(line [0-9]+): cannot unmarshal (\\S+)(?: `(.*)`)? into (.*)$")
)

// oneLine rewrites a yaml.v3 error as one line without Go type names.
func oneLine(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return errors.New(strings.Join(strings.Fields(strings.TrimPrefix(err.Error(), "yaml: ")), " "))
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		msgs = append(msgs, rewrite(strings.TrimSpace(e)))
	}
	return errors.New(strings.Join(msgs, "; "))
}

func rewrite(e string) string {
	if m := unknownField.FindStringSubmatch(e); m != nil {
		return fmt.Sprintf("%s: unknown field %q", m[1], m[2])
	}
	if m := wrongType.FindStringSubmatch(e); m != nil {
		return fmt.Sprintf("%s: want %s, got %s", m[1], want(m[4]), got(m[2], m[3]))
	}
	if i := strings.Index(e, " into "); i >= 0 {
		e = e[:i] // the rest names a Go type
	}
	return strings.Join(strings.Fields(e), " ")
}

// want describes a Go type as a reader of the file knows it.
func want(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "struct"), strings.HasPrefix(goType, "*"):
		return "a mapping of fields"
	case goType == "string":
		return "text"
	case goType == "bool":
		return "true or false"
	case goType == "time.Duration":
		return "a duration such as 72h"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "a mapping of fields"
}

// got describes a YAML value by its tag and text.
func got(tag, value string) string {
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	}
	return fmt.Sprintf("%q", value)
}

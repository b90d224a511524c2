// Package yamlfile reads the project's YAML files (daemon configurations,
// client contexts) strictly: a field the target does not know is an error
// naming it, so a typo never passes silently as a default.
package yamlfile

import (
	"bytes"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// Decode reads the YAML document in the file at path into v, refusing
// unknown fields. Errors name what was wrong (the file, or the line and
// field).
func Decode(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

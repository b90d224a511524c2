// Package logconfig builds the log/slog logger of a daemon from the "log:"
// section of its YAML configuration.
package logconfig

import (
	"fmt"
	"io"
	"log/slog"
)

// Config is a daemon's "log:" section.
type Config struct {
	// Level is debug, info (the default), warn or error.
	Level string `yaml:"level"`
	// Format is text (the default) or json.
	Format string `yaml:"format"`
}

// Logger returns a logger writing to w as c says, or an error naming the
// bad field.
func (c Config) Logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if c.Level != "" {
		if err := lvl.UnmarshalText([]byte(c.Level)); err != nil {
			return nil, fmt.Errorf("config: log.level %q: want debug, info, warn or error", c.Level)
		}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch c.Format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("config: log.format %q: want text or json", c.Format)
}

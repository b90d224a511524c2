package logconfig_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/logconfig"
)

// TestTextLogsQuoteHostileText: a value that came from another state (an
// error naming a field it sent) is quoted and escaped by the text format,
// so a daemon's log on a terminal cannot be driven by it.
func TestTextLogsQuoteHostileText(t *testing.T) {
	var buf bytes.Buffer
	log, err := logconfig.Config{}.Logger(&buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Warn("rejected inbox message", "err", "bad \x1b[2J\x1b]0;t\x07\u009b1m x\u202eexe\rline")
	out := buf.String()
	for _, r := range out {
		if r != '\n' && (r < 0x20 || r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e) {
			t.Fatalf("text log holds %U raw: %q", r, out)
		}
	}
	if !strings.Contains(out, `\x1b[2J`) || !strings.Contains(out, `\u202e`) {
		t.Errorf("text log = %q, want the escapes visible", out)
	}
}

func TestBadConfigNamesTheField(t *testing.T) {
	tests := []struct {
		c    logconfig.Config
		want string
	}{
		{logconfig.Config{Level: "loud"}, "log.level"},
		{logconfig.Config{Format: "xml"}, "log.format"},
	}
	for _, tt := range tests {
		if _, err := tt.c.Logger(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Logger(%+v) = %v, want an error naming %s", tt.c, err, tt.want)
		}
	}
}

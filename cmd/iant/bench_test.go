package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/bench"
)

func TestBenchBadFlagsAreOneLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown scenario", []string{"bench", "--scenario", "multicast"}, `InvalidArgument: --scenario: unknown scenario "multicast" (want bilateral, regional, broadcast, mixed, overload or all)`},
		{"negative rate", []string{"bench", "--rate", "-5"}, "InvalidArgument: --rate: -5 is negative (0 means closed loop)"},
		{"unknown state", []string{"bench", "--states", "MX,XX"}, `InvalidArgument: --states: "XX" is not an OAS member state code`},
		{"one state", []string{"bench", "--states", "1"}, "InvalidArgument: --states: 1 states: want 2 to 35"},
		{"no regional neighbours", []string{"bench", "--states", "MX,BR", "--scenario", "regional"}, "InvalidArgument: --scenario: regional needs two states of one region in --states MX,BR"},
		{"zero concurrency", []string{"bench", "--concurrency", "0"}, "InvalidArgument: --concurrency: 0 must be at least 1"},
		{"bad duration", []string{"bench", "--duration", "0s"}, "InvalidArgument: --duration: 0s must be positive"},
		{"bad output", []string{"bench", "-o", "xml"}, `InvalidArgument: unknown output format "xml" (want table or json)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errLine := iant(t, t.Context(), tt.args...)
			if errLine != tt.want {
				t.Errorf("iant %v error = %q, want %q", tt.args, errLine, tt.want)
			}
		})
	}
}

// TestBenchWritesJSONAndChart runs a tiny bench through the CLI.
func TestBenchWritesJSONAndChart(t *testing.T) {
	out := t.TempDir()
	stdout, errLine := iant(t, t.Context(), "bench", "--states", "MX,US", "--scenario", "bilateral",
		"--count", "5", "--duration", "10s", "-o", "json", "--out", out)
	if errLine != "" {
		t.Fatalf("bench: %s", errLine)
	}
	var rep bench.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("bench -o json printed %q: %v", stdout, err)
	}
	if len(rep.Scenarios) != 1 || rep.Scenarios[0].IANT.Delivered != 5 {
		t.Errorf("bench -o json = %+v, want one scenario with 5 deliveries", rep.Scenarios)
	}
	file, err := os.ReadFile(filepath.Join(out, "bench.json"))
	if err != nil || string(file) != stdout {
		t.Errorf("--out bench.json = %v, differs from stdout: %v", err, string(file) != stdout)
	}
	svg, err := os.ReadFile(filepath.Join(out, "bench-latency.svg"))
	if err != nil || !strings.HasPrefix(string(svg), "<svg") {
		t.Errorf("--out bench-latency.svg: %v", err)
	}
}

package health_test

import (
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/health"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		c       health.Config
		every   time.Duration
		minFree uint64
		bad     bool
	}{
		{"defaults", health.Config{}, health.DefaultInterval, health.DefaultMinFreeDisk, false},
		{"set", health.Config{Interval: time.Minute, MinFreeDisk: 1 << 30}, time.Minute, 1 << 30, false},
		{"negative interval", health.Config{Interval: -time.Second}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if (err != nil) != tt.bad {
				t.Fatalf("Validate() = %v, want error %v", err, tt.bad)
			}
			if tt.bad {
				if got := err.Error(); got != "Health.Interval is negative" {
					t.Errorf("Validate() = %q, want it to name Health.Interval", got)
				}
				return
			}
			if got := tt.c.Every(); got != tt.every {
				t.Errorf("Every() = %s, want %s", got, tt.every)
			}
			if got := tt.c.MinFree(); got != tt.minFree {
				t.Errorf("MinFree() = %d, want %d", got, tt.minFree)
			}
		})
	}
}

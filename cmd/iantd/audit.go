package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/statenode"
)

// auditConfig is the "audit:" section: the delivery audit's cadence and
// deadlines, and (at a state node) the secretariat log's verifier key.
//
//	audit:
//	  checkpoint_interval: 1m    # publish (secretariat) / check (state) checkpoints
//	  escalation_interval: 10s   # secretariat: look for overdue acknowledgements
//	  header_wait: 10m           # secretariat: how long a receipt waits for its bulletin's signed header
//	  deadlines: {flash: 15m, immediate: 1h, priority: 24h, routine: none}
//	  verifier_key_file: audit.vkey  # state node, required: the secretariat log's key (its data_dir/audit.vkey)
type auditConfig struct {
	CheckpointInterval string            `yaml:"checkpoint_interval"`
	EscalationInterval string            `yaml:"escalation_interval"`
	HeaderWait         string            `yaml:"header_wait"`
	Deadlines          map[string]string `yaml:"deadlines"`
	VerifierKeyFile    string            `yaml:"verifier_key_file"`
}

// state converts the section to a state node's configuration, reading the
// verifier key file, which a state node requires; errors name the bad key.
func (a auditConfig) state() (statenode.AuditConfig, error) {
	d, err := a.durations()
	out := statenode.AuditConfig{CheckpointInterval: d.CheckpointInterval}
	if err != nil {
		return out, err
	}
	if a.VerifierKeyFile == "" {
		return out, errors.New("audit.verifier_key_file is required at a state node: the secretariat audit log's verifier key (the secretariat writes it to its data_dir/audit.vkey)")
	}
	b, err := os.ReadFile(a.VerifierKeyFile)
	if err != nil {
		return out, fmt.Errorf("audit.verifier_key_file: %w", err)
	}
	out.VerifierKey = strings.TrimSpace(string(b))
	return out, nil
}

// durations parses the intervals and deadlines: the secretariat's audit
// configuration.
func (a auditConfig) durations() (secretariat.AuditConfig, error) {
	var out secretariat.AuditConfig
	var err error
	if out.CheckpointInterval, err = positive("audit.checkpoint_interval", a.CheckpointInterval); err != nil {
		return out, err
	}
	if out.EscalationInterval, err = positive("audit.escalation_interval", a.EscalationInterval); err != nil {
		return out, err
	}
	if out.HeaderWait, err = positive("audit.header_wait", a.HeaderWait); err != nil {
		return out, err
	}
	for k, v := range a.Deadlines {
		d := audit.NoDeadline
		if v != "none" {
			if d, err = positive("audit.deadlines."+k, v); err != nil {
				return out, err
			}
		}
		switch strings.ToLower(k) {
		case "flash":
			out.Deadlines.Flash = d
		case "immediate":
			out.Deadlines.Immediate = d
		case "priority":
			out.Deadlines.Priority = d
		case "routine":
			out.Deadlines.Routine = d
		default:
			return out, fmt.Errorf("audit.deadlines: unknown precedence %q (want flash, immediate, priority or routine)", k)
		}
	}
	return out, nil
}

// positive parses a duration that, when given, must be positive.
func positive(key, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive duration, e.g. 15m", key, s)
	}
	return d, nil
}

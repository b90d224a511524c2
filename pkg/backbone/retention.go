package backbone

import (
	"fmt"
	"time"
)

// Default retention of the streams the secretariat provisions (see
// [Retention] and docs/operations.md, "Retention").
const (
	// DefaultInboxRetention keeps a copy in the inbox stream for 90 days:
	// long enough for a node that was down for weeks, or lost its disk,
	// to catch up or be rebuilt from the backbone, and short enough that
	// the sealed copies, and the KEM keys that open them, do not outlive
	// the bulletins' working life by years.
	DefaultInboxRetention = 90 * 24 * time.Hour
	// DefaultEventRetention keeps a receipt in the event stream for 90
	// days: the secretariat may be down or be restored that long and
	// still log every receipt; the audit log keeps them for good.
	DefaultEventRetention = 90 * 24 * time.Hour
	// DefaultCheckpointRetention and DefaultWitnessRetention keep
	// published and witnessed checkpoints for a year. Witnesses keep the
	// checkpoint they accepted themselves, so these streams are for late
	// readers and investigators.
	DefaultCheckpointRetention = 365 * 24 * time.Hour
	DefaultWitnessRetention    = 365 * 24 * time.Hour
	// MinRetention is the shortest retention of any stream: the
	// de-duplication window ([DuplicateWindow]), which JetStream requires
	// to fit inside a stream's maximum age, and which a publish retried
	// from a node's outbox relies on.
	MinRetention = DuplicateWindow
)

// Retention is how long the backbone keeps the messages of each stream
// the secretariat provisions (their maximum age): copies, receipts,
// published checkpoints and witnessed checkpoints. Zero fields mean the
// defaults above; a field may be neither negative nor shorter than
// [MinRetention]. The streams deny deletion and purge; age is the one way
// messages leave them.
type Retention struct {
	// Inbox bounds the age of a copy in [InboxStream]. A node's replay
	// (a rebuild after its database was lost) finds only what is younger;
	// a state node keeps each retired KEM key for this long plus a margin
	// (statenode.KeyRetentionMargin), so it must be configured with the
	// same value.
	Inbox time.Duration
	// Events bounds the age of a receipt in [EventStream]; one the
	// secretariat did not log within it is lost to the audit.
	Events time.Duration
	// Checkpoints bounds the age of a checkpoint in [CheckpointStream].
	Checkpoints time.Duration
	// Witness bounds the age of a witnessed checkpoint in [WitnessStream].
	Witness time.Duration
}

// Validate names the first negative or too short field, wrapping
// [ErrInvalidConfig].
func (r Retention) Validate() error {
	for _, f := range r.fields() {
		if f.d < 0 {
			return fmt.Errorf("%w: Retention.%s %s is negative", ErrInvalidConfig, f.name, f.d)
		}
		if f.d != 0 && f.d < MinRetention {
			return fmt.Errorf("%w: Retention.%s %s is shorter than %s, the backbone's de-duplication window",
				ErrInvalidConfig, f.name, f.d, MinRetention)
		}
	}
	return nil
}

// WithDefaults returns r with every zero field set to its default.
func (r Retention) WithDefaults() Retention {
	def := func(d, v time.Duration) time.Duration {
		if d == 0 {
			return v
		}
		return d
	}
	return Retention{
		Inbox:       def(r.Inbox, DefaultInboxRetention),
		Events:      def(r.Events, DefaultEventRetention),
		Checkpoints: def(r.Checkpoints, DefaultCheckpointRetention),
		Witness:     def(r.Witness, DefaultWitnessRetention),
	}
}

func (r Retention) fields() []struct {
	name string
	d    time.Duration
} {
	return []struct {
		name string
		d    time.Duration
	}{{"Inbox", r.Inbox}, {"Events", r.Events}, {"Checkpoints", r.Checkpoints}, {"Witness", r.Witness}}
}

package backbone

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Per-state quotas on the backbone (issue 14; DESIGN.md's threat model: a
// compromised node, with its genuine SVID, must not flood other states
// beyond its quota). NATS enforces what it can by itself: the size of a
// copy (max_payload, the stream's MaxMsgSize), the origin a node may
// publish as (subject permissions), one copy in flight per inbox
// (MaxAckPending). It has no message or byte rate per user, and no cap on
// what a consumer has not read yet. So each backbone server runs a quota
// keeper (quota_keeper.go) that watches, in its own process, every copy
// published to the inbox stream and every inbox consumer's backlog, and
// enforces with the server's own subject mappings: while an origin is
// over its rate, or a recipient's inbox holds more than its cap, the
// server maps the inbox subjects concerned to
// "iant.quota.<origin>.<reason>.<recipient>.<id>", which no stream
// stores, and the keeper answers each such publish with a 429 error, the
// answer a stream gives when it refuses a message ([ErrThrottled]).
// Nothing reaches the stream meanwhile, whatever the node's software does.

// Defaults of [QuotaConfig]: far above what a state posts (a broadcast is
// 34 copies of about 6.5 KB), low enough that one state cannot fill the
// backbone's disk or another state's inbox in minutes.
const (
	DefaultOriginCopiesPerSecond = 500
	DefaultOriginBytesPerSecond  = 16 << 20
	DefaultQuotaBurst            = 10 * time.Second
	DefaultInboxPending          = 50000
)

// QuotaConfig bounds what each state may put on the backbone. Zero fields
// mean the defaults.
type QuotaConfig struct {
	// OriginCopiesPerSecond and OriginBytesPerSecond bound the copies a
	// state node publishes to the inbox stream, sustained, with a burst
	// of Burst times the rate (the rest of a quiet period is credited).
	OriginCopiesPerSecond int
	OriginBytesPerSecond  int64
	// Burst is how many seconds of each rate a state may publish at once;
	// default [DefaultQuotaBurst].
	Burst time.Duration
	// InboxPending caps the copies stored for a state and not yet acked
	// by its node; past it, publishes to that state are refused (its node
	// is down or cannot keep up) until it is below 90% of it again.
	InboxPending int
}

// withDefaults fills the zero fields.
func (q QuotaConfig) withDefaults() QuotaConfig {
	if q.OriginCopiesPerSecond == 0 {
		q.OriginCopiesPerSecond = DefaultOriginCopiesPerSecond
	}
	if q.OriginBytesPerSecond == 0 {
		q.OriginBytesPerSecond = DefaultOriginBytesPerSecond
	}
	if q.Burst == 0 {
		q.Burst = DefaultQuotaBurst
	}
	if q.InboxPending == 0 {
		q.InboxPending = DefaultInboxPending
	}
	return q
}

// validate names the first bad field of q.
func (q QuotaConfig) validate() error {
	switch {
	case q.OriginCopiesPerSecond < 0:
		return fmt.Errorf("%w: Quotas.OriginCopiesPerSecond %d is negative", ErrInvalidConfig, q.OriginCopiesPerSecond)
	case q.OriginBytesPerSecond < 0:
		return fmt.Errorf("%w: Quotas.OriginBytesPerSecond %d is negative", ErrInvalidConfig, q.OriginBytesPerSecond)
	case q.Burst < 0:
		return fmt.Errorf("%w: Quotas.Burst %s is negative", ErrInvalidConfig, q.Burst)
	case q.Burst > 0 && q.Burst < 100*time.Millisecond:
		return fmt.Errorf("%w: Quotas.Burst %s is shorter than 100ms", ErrInvalidConfig, q.Burst)
	case q.InboxPending < 0:
		return fmt.Errorf("%w: Quotas.InboxPending %d is negative", ErrInvalidConfig, q.InboxPending)
	}
	q = q.withDefaults()
	if q.OriginBytesPerSecond < MaxMsgSize {
		return fmt.Errorf("%w: Quotas.OriginBytesPerSecond %d is less than one copy of the largest size (%d)", ErrInvalidConfig, q.OriginBytesPerSecond, MaxMsgSize)
	}
	return nil
}

// Why a publish was refused by a quota: the token after the origin in a
// quota subject.
const (
	quotaRate  = "rate" // the origin is over its rate
	quotaInbox = "full" // the recipient's inbox is over its cap
)

// ErrThrottled is returned (wrapped) by the publishing methods when the
// backbone refused a copy because a quota is exceeded: this state
// published more than its rate, or the recipient's inbox holds more than
// its cap ([ErrInboxFull] then too). Nothing was stored; publishing
// again later is safe.
var ErrThrottled = errors.New("backbone: throttled by a quota")

// ErrInboxFull is returned (wrapped, with [ErrThrottled]) when the
// refusal is because the recipient's inbox is over its cap: the
// recipient, not this state, is behind.
var ErrInboxFull = errors.New("backbone: recipient's inbox is full")

// throttledErr maps a stream's 429 answer to a quota refusal.
func throttledErr(description string) error {
	if strings.HasPrefix(description, quotaInboxText) {
		return fmt.Errorf("%w: %w: %s", ErrThrottled, ErrInboxFull, description)
	}
	return fmt.Errorf("%w: %s", ErrThrottled, description)
}

// The descriptions the keeper answers with.
const (
	quotaInboxText = "quota: the recipient's inbox is full"
	quotaRateText  = "quota: this state publishes more than its rate"
)

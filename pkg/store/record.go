package store

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

// Direction says whether this node's state sent or received a bulletin. Its
// values are stored on disk and equal the wire enum iant.v1.Direction; they
// are frozen.
type Direction int

// Directions.
const (
	Sent     Direction = 1 // posted by this node's state
	Received Direction = 2 // delivered from another state's node
)

// String returns "sent" or "received".
func (d Direction) String() string {
	switch d {
	case Sent:
		return "sent"
	case Received:
		return "received"
	}
	return fmt.Sprintf("direction(%d)", int(d))
}

// Valid reports whether d is Sent or Received.
func (d Direction) Valid() bool { return d == Sent || d == Received }

// Record is a bulletin as stored at this node.
type Record struct {
	// Bulletin is the bulletin exactly as first stored, its times in UTC.
	Bulletin bulletin.Bulletin
	// Cursor is the node-local insertion sequence: strictly increasing,
	// kept across restarts, never reused. Subscriptions resume after it.
	Cursor uint64
	// Direction says whether this state sent or received the bulletin.
	Direction Direction
	// ReceivedAt is when the bulletin was stored at this node, in UTC.
	ReceivedAt time.Time
	// AckedAt is when a focal point first acknowledged the bulletin; zero
	// if nobody has.
	AckedAt time.Time
	// AckedBy is the SPIFFE ID of the focal point who first acknowledged
	// the bulletin; empty if nobody has.
	AckedBy string
	// ForwardedBy is the member state whose forward brought a received
	// bulletin to this node; empty when its origin released it here (and
	// for sent bulletins).
	ForwardedBy string
	// WithdrawnAt is when this node withdrew the received bulletin because
	// its origin declared compromised the signing key it rests on
	// (WithdrawnKey; empty when that key is not known); zero unless
	// withdrawn. Only [Store.Get] returns withdrawn records: List, Search
	// and Thread leave them out.
	WithdrawnAt  time.Time
	WithdrawnKey string
	// SignKey is the ID of the origin's signing key whose signature the
	// received message the row holds carries ([Delivery.SignKey]); empty
	// for sent rows and when not known.
	SignKey string
}

// Withdrawn reports whether r is withdrawn ([Record.WithdrawnAt]).
func (r *Record) Withdrawn() bool { return !r.WithdrawnAt.IsZero() }

// Delivery is how a received bulletin reached this node
// ([Store.PutReceived]).
type Delivery struct {
	// Copy is the sealed copy as it arrived: the origin's sealed bulletin
	// for this state (which a forward re-wraps), or a forward.
	Copy []byte
	// ForwardedBy is the state whose forward brought it; empty when its
	// origin released it to this state.
	ForwardedBy string
	// SignKey is the ID of the origin's signing key whose signature the
	// message carries (the origin's, inside a forward too); empty when
	// not known.
	SignKey string
	// Current says SignKey is its origin's current signing key, as the
	// verified directory entry the node holds publishes it (not stored).
	// Only such a copy puts back a withdrawn row: the origin's word after
	// the mark. A copy under a retired key, even one not compromised, is
	// older than the mark — a genuine earlier revision that another state
	// could relay to roll the bulletin back — and changes a withdrawn row
	// only as any copy changes any row (a newer revision replaces it; an
	// older one is stale).
	Current bool
}

// Stored times are int64 Unix nanoseconds, which cover 1677-09-21 to
// 2262-04-11; times outside are refused rather than silently wrapped.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func inRange(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// checkTime refuses a zero (when required) or unstorable time, naming field.
func checkTime(field string, t time.Time, required bool) error {
	switch {
	case t.IsZero() && required:
		return problem.Invalid(field, "%s is required", field)
	case !t.IsZero() && !inRange(t):
		return problem.Invalid(field, "%s %s is outside the storable range %s to %s",
			field, t.Format(time.RFC3339), minTime.UTC().Format(time.RFC3339), maxTime.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkPut validates what Put stores. It does not run b.Validate: the node
// validates bulletins, and a stricter future rule must not stop a node
// from rebuilding its store from old messages.
func checkPut(b *bulletin.Bulletin, dir Direction, at time.Time) error {
	switch {
	case b.ID == "":
		return problem.Invalid("id", "id is required")
	case !dir.Valid():
		return problem.Invalid("direction", "direction must be sent or received, not %d", int(dir))
	}
	if err := checkTime("create_time", b.CreatedAt, true); err != nil {
		return err
	}
	if err := checkTime("expire_time", b.ExpiresAt, false); err != nil {
		return err
	}
	return checkTime("receive_time", at, true)
}

// encode returns the canonical JSON document of b and its SHA-256. Times are
// converted to UTC first, so the same instant written in another zone is the
// same content. encoding/json is deterministic for this type: struct fields
// in declaration order, map keys sorted.
func encode(b bulletin.Bulletin) (doc []byte, sum [sha256.Size]byte, err error) {
	b.CreatedAt = b.CreatedAt.UTC()
	if !b.ExpiresAt.IsZero() {
		b.ExpiresAt = b.ExpiresAt.UTC()
	}
	doc, err = json.Marshal(b)
	if err != nil {
		return nil, sum, fmt.Errorf("encode bulletin: %w", err)
	}
	return doc, sha256.Sum256(doc), nil
}

func decode(doc []byte) (bulletin.Bulletin, error) {
	var b bulletin.Bulletin
	if err := json.Unmarshal(doc, &b); err != nil {
		return b, fmt.Errorf("decode bulletin: %w", err)
	}
	return b, nil
}

// originRegion is the region stored for filtering; Unspecified for an
// origin that is not a member state.
func originRegion(origin string) region.Region {
	st, _ := region.Lookup(origin)
	return st.Region
}

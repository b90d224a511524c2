package stix

import (
	"encoding/json"
	"time"
)

// Timestamp is a STIX timestamp (STIX 2.1 §3.2): RFC 3339 in UTC ending in
// "Z". It is written with milliseconds, or with as many more digits as the
// time needs, so that IANT times (nanoseconds) survive a round trip.
type Timestamp struct{ time.Time }

// At returns t as a Timestamp in UTC.
func At(t time.Time) Timestamp { return Timestamp{t.UTC()} }

// String formats ts: "2026-01-02T15:04:05.123Z".
func (ts Timestamp) String() string {
	t := ts.UTC()
	layout := "2006-01-02T15:04:05.000Z"
	switch ns := t.Nanosecond(); {
	case ns%1e6 != 0 && ns%1e3 == 0:
		layout = "2006-01-02T15:04:05.000000Z"
	case ns%1e3 != 0:
		layout = "2006-01-02T15:04:05.000000000Z"
	}
	return t.Format(layout)
}

// MarshalJSON writes ts as a JSON string.
func (ts Timestamp) MarshalJSON() ([]byte, error) { return json.Marshal(ts.String()) }

// optTime returns a pointer to the Timestamp of t, nil for the zero time.
func optTime(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	ts := At(t)
	return &ts
}

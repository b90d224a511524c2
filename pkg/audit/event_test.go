package audit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

func TestEventKinds(t *testing.T) {
	// The names are written into log entries: they must never change.
	want := map[audit.EventKind]string{
		audit.EventPosted: "posted", audit.EventReleased: "released", audit.EventDelivered: "delivered",
		audit.EventRead: "read", audit.EventAcknowledged: "acknowledged", audit.EventRefused: "refused",
		audit.EventEscalated: "escalated",
	}
	for k, name := range want {
		if k.String() != name || !k.Valid() {
			t.Errorf("%q: String() = %q, Valid() = %v, want %q, true", name, k.String(), k.Valid(), name)
		}
	}
	if audit.EventKind("deleted").Valid() {
		t.Error(`EventKind("deleted").Valid() = true, want false`)
	}
}

func TestMarshalEventRoundTrip(t *testing.T) {
	local := time.FixedZone("UTC-5", -5*3600)
	events := []audit.Event{
		posted("01JB", bulletin.Flash, t0),
		delivered("01JB", "BR", t0.Add(1500*time.Millisecond).In(local)),
		{Kind: audit.EventRefused, BulletinID: "01JB", Origin: "MX", State: "US", Actor: person("US", "analyst", "bo"),
			Rule: "read.red-focal-points-only", At: t0.Add(time.Nanosecond), Detail: "RED <only> & \"quoted\" — ñ"},
		{Kind: audit.EventEscalated, BulletinID: "01JB", Origin: "MX", State: "CA", Precedence: bulletin.Flash, At: t0},
	}
	for _, e := range events {
		b, err := audit.MarshalEvent(e)
		if err != nil {
			t.Fatalf("MarshalEvent(%+v) = %v", e, err)
		}
		got, err := audit.UnmarshalEvent(b)
		if err != nil {
			t.Fatalf("UnmarshalEvent(%s) = %v", b, err)
		}
		if diff := cmp.Diff(e, got, cmp.Comparer(time.Time.Equal)); diff != "" {
			t.Errorf("UnmarshalEvent(MarshalEvent(e)) differs (-want +got):\n%s", diff)
		}
		if got.At.Location() != time.UTC {
			t.Errorf("UnmarshalEvent: At in %v, want UTC", got.At.Location())
		}
		again, _ := audit.MarshalEvent(got)
		if string(again) != string(b) {
			t.Errorf("re-encoding = %s, want %s", again, b)
		}
	}
}

func TestMarshalEventCanonicalForm(t *testing.T) {
	e := delivered("01JB", "BR", t0.Add(1500*time.Millisecond))
	got, err := audit.MarshalEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"actor":"spiffe://iant.test/state/BR/node/n1","at":"2026-03-01T12:00:01.5Z",` +
		`"bulletin_id":"01JB","kind":"delivered","origin":"MX","state":"BR","v":1}`
	if string(got) != want {
		t.Errorf("MarshalEvent = %s, want %s", got, want)
	}
}

func TestEventValidate(t *testing.T) {
	ok := delivered("01JB", "BR", t0)
	tests := []struct {
		name  string
		edit  func(*audit.Event)
		field string
	}{
		{"no kind", func(e *audit.Event) { e.Kind = "" }, "kind"},
		{"unknown kind", func(e *audit.Event) { e.Kind = "deleted" }, "kind"},
		{"no bulletin", func(e *audit.Event) { e.BulletinID = "" }, "bulletin_id"},
		{"bulletin with space", func(e *audit.Event) { e.BulletinID = "01 JB" }, "bulletin_id"},
		{"bulletin too long", func(e *audit.Event) { e.BulletinID = strings.Repeat("A", 65) }, "bulletin_id"},
		{"bad origin", func(e *audit.Event) { e.Origin = "XX" }, "origin"},
		{"lower-case state", func(e *audit.Event) { e.State = "br" }, "state"},
		{"delivered without state", func(e *audit.Event) { e.State = "" }, "state"},
		{"posted with state", func(e *audit.Event) { *e = posted("01JB", bulletin.Flash, t0); e.State = "BR" }, "state"},
		{"no actor", func(e *audit.Event) { e.Actor = "" }, "actor"},
		{"actor not spiffe", func(e *audit.Event) { e.Actor = "https://x" }, "actor"},
		{"actor with space", func(e *audit.Event) { e.Actor = "spiffe://iant.test/a b" }, "actor"},
		{"rule on delivered", func(e *audit.Event) { e.Rule = "r" }, "rule"},
		{"refused without rule", func(e *audit.Event) { e.Kind = audit.EventRefused }, "rule"},
		{"posted without precedence", func(e *audit.Event) { *e = posted("01JB", 0, t0) }, "precedence"},
		{"unknown precedence", func(e *audit.Event) { e.Precedence = 9 }, "precedence"},
		{"no time", func(e *audit.Event) { e.At = time.Time{} }, "at"},
		{"before 1970", func(e *audit.Event) { e.At = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }, "at"},
		{"after 2261", func(e *audit.Event) { e.At = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC) }, "at"},
		{"detail too long", func(e *audit.Event) { e.Detail = strings.Repeat("x", audit.MaxDetailBytes+1) }, "detail"},
		{"detail not UTF-8", func(e *audit.Event) { e.Detail = "\xff" }, "detail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok
			tt.edit(&e)
			err := e.Validate()
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind != problem.KindInvalid || p.Field != tt.field || !errors.Is(err, audit.ErrInvalidEvent) {
				t.Fatalf("Validate() = %v, want invalid field %q wrapping ErrInvalidEvent", err, tt.field)
			}
			if _, err := audit.MarshalEvent(e); !errors.Is(err, audit.ErrInvalidEvent) {
				t.Errorf("MarshalEvent() = %v, want ErrInvalidEvent", err)
			}
		})
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(valid) = %v", err)
	}
}

func TestUnmarshalEventRefusesNonCanonical(t *testing.T) {
	const canon = `{"actor":"spiffe://iant.test/state/BR/node/n1","at":"2026-03-01T12:00:00Z","bulletin_id":"01JB","kind":"delivered","origin":"MX","state":"BR","v":1}`
	if _, err := audit.UnmarshalEvent([]byte(canon)); err != nil {
		t.Fatalf("UnmarshalEvent(canonical) = %v", err)
	}
	tests := []struct{ name, in, field string }{
		{"space", strings.Replace(canon, `,"at"`, `, "at"`, 1), "encoding"},
		{"key order", `{"at":"2026-03-01T12:00:00Z","actor":"spiffe://iant.test/state/BR/node/n1","bulletin_id":"01JB","kind":"delivered","origin":"MX","state":"BR","v":1}`, "encoding"},
		{"offset time", strings.Replace(canon, "00Z", "00+00:00", 1), "encoding"},
		{"trailing zero", strings.Replace(canon, "00Z", "00.000Z", 1), "encoding"},
		{"escaped letter", strings.Replace(canon, `"01JB"`, `"01J\u0042"`, 1), "encoding"},
		{"upper-case key", strings.Replace(canon, `"kind"`, `"KIND"`, 1), "encoding"},
		{"repeated key", strings.Replace(canon, `"v":1}`, `"v":1,"v":1}`, 1), "encoding"},
		{"unknown field", strings.Replace(canon, `"v":1}`, `"v":1,"x":1}`, 1), "encoding"},
		{"zero precedence written", strings.Replace(canon, `"origin"`, `"precedence":0,"origin"`, 1), "encoding"},
		{"trailing data", canon + " ", "encoding"},
		{"newline", canon + "\n", "encoding"},
		{"not json", "nope", "encoding"},
		{"version 2", strings.Replace(canon, `"v":1`, `"v":2`, 1), "v"},
		{"bad time", strings.Replace(canon, "2026-03-01T12:00:00Z", "yesterday", 1), "at"},
		{"invalid event", strings.Replace(canon, `"MX"`, `"XX"`, 1), "origin"},
		{"too big", strings.Repeat(" ", audit.MaxEventBytes+1), "encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := audit.UnmarshalEvent([]byte(tt.in))
			var p *problem.Error
			if !errors.As(err, &p) || p.Field != tt.field || !errors.Is(err, audit.ErrInvalidEvent) {
				t.Errorf("UnmarshalEvent(%s) = %v, want invalid field %q", tt.in, err, tt.field)
			}
		})
	}
}

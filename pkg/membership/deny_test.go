package membership_test

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/problem"
)

const admin = "spiffe://iant.test/secretariat/admin/eva"

func TestParseSerial(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"3F:A0:11", "3fa011", true},
		{"00ff", "ff", true},
		{" 0A1b ", "a1b", true},
		{"", "", false},
		{"0", "", false},
		{"xyz", "", false},
		{"1234567890123456789012345678901234567890ab", "", false},
	}
	for _, tt := range tests {
		got, err := membership.ParseSerial(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSerial(%q) = %q, %v, want %q (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestDenyList(t *testing.T) {
	var l membership.DenyList
	id := "spiffe://iant.test/state/MX/focal-point/focal"
	l, err := l.With(network, membership.DenyEntry{ID: id, Reason: "laptop stolen", By: admin}, day0)
	if err != nil {
		t.Fatal(err)
	}
	l, err = l.With(network, membership.DenyEntry{Serial: "0A:BC", Reason: "key leaked", By: admin}, day0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != 2 || len(l.Entries) != 2 || l.Entries[1].Serial != "abc" {
		t.Fatalf("deny list = %+v, want version 2 with serial abc", l)
	}
	if e, ok := l.Denies(id, big.NewInt(1)); !ok || e.Reason != "laptop stolen" {
		t.Errorf("Denies(%s) = %v, %v, want denied", id, e, ok)
	}
	if _, ok := l.Denies("spiffe://iant.test/state/MX/analyst/analyst", big.NewInt(0xabc)); !ok {
		t.Error("Denies(serial abc) = false, want denied")
	}
	if _, ok := l.Denies("spiffe://iant.test/state/MX/analyst/analyst", big.NewInt(0xabd)); ok {
		t.Error("Denies(another ID and serial) = true")
	}
	bad := []struct {
		name  string
		e     membership.DenyEntry
		field string
		kind  problem.Kind
	}{
		{"nothing", membership.DenyEntry{Reason: "x"}, "spiffe_id", problem.KindInvalid},
		{"both", membership.DenyEntry{ID: id, Serial: "1", Reason: "x"}, "serial", problem.KindInvalid},
		{"no reason", membership.DenyEntry{ID: "spiffe://iant.test/state/US/analyst/a"}, "reason", problem.KindInvalid},
		{"other trust domain", membership.DenyEntry{ID: "spiffe://evil.test/state/US/analyst/a", Reason: "x"}, "spiffe_id", problem.KindInvalid},
		{"not hex", membership.DenyEntry{Serial: "zz", Reason: "x"}, "serial", problem.KindInvalid},
		{"twice", membership.DenyEntry{ID: id, Reason: "again"}, "", problem.KindConflict},
		{"serial twice", membership.DenyEntry{Serial: "0abc", Reason: "again"}, "", problem.KindConflict},
	}
	for _, tt := range bad {
		_, err := l.With(network, membership.DenyEntry{ID: tt.e.ID, Serial: tt.e.Serial, Reason: tt.e.Reason, By: admin}, day0)
		var p *problem.Error
		if !errors.As(err, &p) || p.Kind != tt.kind || p.Field != tt.field {
			t.Errorf("%s: With = %v, want a %s problem naming %q", tt.name, err, tt.kind, tt.field)
		}
	}
	l2, err := l.Without(network, "AB:C", day0.Add(2*time.Minute))
	if err != nil || l2.Version != 3 || len(l2.Entries) != 1 {
		t.Fatalf("Without(serial) = %+v, %v", l2, err)
	}
	if _, err := l2.Without(network, "abc", day0); problem.KindOf(err) != problem.KindNotFound {
		t.Errorf("Without(not denied) = %v, want NotFound", err)
	}
}

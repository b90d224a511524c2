package seal_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
)

func TestBind(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	h := n.seal(t, "MX", body, "BR", "US").Header
	match := func() bulletin.Bulletin {
		return bulletin.Bulletin{
			ID: h.ID, Origin: "MX", Precedence: bulletin.Precedence(h.Precedence), Marking: bulletin.Marking(h.Marking),
			CreatedAt: h.CreatedAt, ExpiresAt: h.ExpiresAt, Recipients: []string{"BR", "US"},
			Title: "not in the header", Body: "nor this",
		}
	}
	tests := []struct {
		name   string
		mutate func(*bulletin.Bulletin)
		field  string // "" if it binds
	}{
		{"same facts", func(*bulletin.Bulletin) {}, ""},
		{"same instants in another zone", func(b *bulletin.Bulletin) { b.CreatedAt = b.CreatedAt.In(time.FixedZone("X", 3600)) }, ""},
		{"id", func(b *bulletin.Bulletin) { b.ID = "01JOTHER" }, "id"},
		{"origin", func(b *bulletin.Bulletin) { b.Origin = "US" }, "origin"},
		{"precedence", func(b *bulletin.Bulletin) { b.Precedence++ }, "precedence"},
		{"marking", func(b *bulletin.Bulletin) { b.Marking++ }, "marking"},
		{"created time", func(b *bulletin.Bulletin) { b.CreatedAt = b.CreatedAt.Add(time.Nanosecond) }, "created time"},
		{"expiry time", func(b *bulletin.Bulletin) { b.ExpiresAt = time.Time{} }, "expiry time"},
		{"a recipient added", func(b *bulletin.Bulletin) { b.Recipients = append(b.Recipients, "CA") }, "recipients"},
		{"a recipient dropped", func(b *bulletin.Bulletin) { b.Recipients = b.Recipients[:1] }, "recipients"},
		{"recipients reordered", func(b *bulletin.Bulletin) { b.Recipients = []string{"US", "BR"} }, "recipients"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := match()
			tt.mutate(&b)
			err := h.Bind(&b)
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Bind = %v, want nil", err)
			case tt.field != "" && (!errors.Is(err, seal.ErrBinding) || !strings.Contains(err.Error(), tt.field+" differs")):
				t.Errorf("Bind = %v, want %v naming %q", err, seal.ErrBinding, tt.field)
			}
		})
	}
	if err := h.Bind(nil); !errors.Is(err, seal.ErrMalformed) {
		t.Errorf("Bind(nil) = %v, want %v", err, seal.ErrMalformed)
	}
}

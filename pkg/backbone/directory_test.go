package backbone_test

import (
	"errors"
	"testing"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
)

func TestDirectoryEntriesOnlyForOwnState(t *testing.T) {
	env := newEnv(t, "MX", "US")
	mx, us := env.connect(t, "MX"), env.connect(t, "US")
	if _, err := us.DirectoryEntry(t.Context(), "MX"); !errors.Is(err, backbone.ErrNoEntry) {
		t.Fatalf("DirectoryEntry before publish = %v, want ErrNoEntry", err)
	}
	if err := mx.PublishDirectoryEntry(t.Context(), []byte("entry-1")); err != nil {
		t.Fatal(err)
	}
	if err := mx.PublishDirectoryEntry(t.Context(), []byte("entry-2")); err != nil {
		t.Fatal(err)
	}
	got, err := us.DirectoryEntry(t.Context(), "MX")
	if err != nil || string(got) != "entry-2" {
		t.Fatalf("DirectoryEntry(MX) = %q, %v; want the latest entry", got, err)
	}
	// The server refuses MX publishing under US's subject.
	probe := dialProbe(t, env, backbonetest.Node("MX"))
	probe.denied(t, backbone.DirectorySubject("US"), request(probe, backbone.DirectorySubject("US"), "forged"))
	if got, err := us.DirectoryEntry(t.Context(), "US"); !errors.Is(err, backbone.ErrNoEntry) {
		t.Fatalf("DirectoryEntry(US) = %q, %v after MX's forgery; want ErrNoEntry", got, err)
	}
}

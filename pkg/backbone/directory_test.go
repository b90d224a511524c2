package backbone_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

// TestWatchDirectoryHearsEachEntry: a node watching the directory hears
// MX's entries as MX publishes them, each with its state, in order; the
// watch ends when its context does.
func TestWatchDirectoryHearsEachEntry(t *testing.T) {
	env := newEnv(t, "MX", "US")
	mx, us := env.connect(t, "MX"), env.connect(t, "US")
	type heard struct{ state, data string }
	ctx, cancel := context.WithCancel(t.Context())
	ch := make(chan heard, 8)
	done := make(chan error, 1)
	go func() {
		done <- us.WatchDirectory(ctx, func(state string, data []byte) { ch <- heard{state, string(data)} })
	}()
	// The subscription is in place once a first entry is heard: publish
	// until one is (no sleep), then the next ones follow in order.
	deadline := time.After(10 * time.Second)
	for first := false; !first; {
		if err := mx.PublishDirectoryEntry(t.Context(), []byte("entry-0")); err != nil {
			t.Fatal(err)
		}
		select {
		case h := <-ch:
			first = h == heard{"MX", "entry-0"}
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("no directory entry heard within 10s")
		}
	}
	for _, want := range []string{"entry-1", "entry-2"} {
		if err := mx.PublishDirectoryEntry(t.Context(), []byte(want)); err != nil {
			t.Fatal(err)
		}
		h := heard{data: "entry-0"}
		for h.data == "entry-0" { // skip late echoes of the probes
			select {
			case h = <-ch:
			case <-deadline:
				t.Fatalf("MX's %s not heard within 10s", want)
			}
		}
		if h != (heard{"MX", want}) {
			t.Fatalf("heard %+v, want MX's %s", h, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("WatchDirectory after its context ended = %v, want nil", err)
	}
}

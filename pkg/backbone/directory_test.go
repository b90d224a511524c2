package backbone_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// TestWatchDirectoryFloodDropsNoOtherState: a node may publish on its own
// directory subject as often as it likes, and each reader verifies every
// entry it hears one at a time. A compromised MX, flooding its subject
// while a reader is busy, must not make the reader miss US's entry
// published meanwhile — the entry that marks a stolen US key compromised
// (the watcher dropped every message beyond 64 waiting ones, whatever
// their state). The reader's handler is held on MX's first entry while MX
// publishes 200 more and US one; a direct get on the reader's connection
// then shows it has read them all; released, the handler hears US's.
func TestWatchDirectoryFloodDropsNoOtherState(t *testing.T) {
	env := newEnv(t, "MX", "US", "CO")
	mx, us, co := env.connect(t, "MX"), env.connect(t, "US"), env.connect(t, "CO")
	type heard struct{ state, data string }
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	held, release := make(chan struct{}), make(chan struct{})
	ch := make(chan heard, 1024)
	var first sync.Once
	go co.WatchDirectory(ctx, func(state string, data []byte) { //nolint:errcheck // ends with ctx
		first.Do(func() {
			close(held)
			<-release
		})
		ch <- heard{state, string(data)}
	})
	deadline := time.After(10 * time.Second)
	for probing := true; probing; {
		if err := mx.PublishDirectoryEntry(t.Context(), []byte("probe")); err != nil {
			t.Fatal(err)
		}
		select {
		case <-held:
			probing = false
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("no directory entry heard within 10s")
		}
	}
	for i := range 200 {
		if err := mx.PublishDirectoryEntry(t.Context(), fmt.Appendf(nil, "flood-%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := us.PublishDirectoryEntry(t.Context(), []byte("us-compromise-mark")); err != nil {
		t.Fatal(err)
	}
	// The answer to a request on the reader's connection comes after
	// every message the server sent it before: all were read.
	if got, err := co.DirectoryEntry(t.Context(), "US"); err != nil || string(got) != "us-compromise-mark" {
		t.Fatalf("DirectoryEntry(US) = %q, %v", got, err)
	}
	close(release)
	wait := time.After(10 * time.Second)
	for {
		select {
		case h := <-ch:
			if h == (heard{"US", "us-compromise-mark"}) {
				return
			}
		case <-wait:
			t.Fatal("US's entry, published while MX flooded its own subject, never reached the reader")
		}
	}
}

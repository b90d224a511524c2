package backbone_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
)

const day = 24 * time.Hour

// maxAges reads the maximum message age of every provisioned stream with
// the secretariat's rights.
func maxAges(t *testing.T, e *env) backbone.Retention {
	t.Helper()
	sec := dialProbe(t, e, backbonetest.Secretariat)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	age := func(name string) time.Duration {
		s, err := sec.js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		return s.CachedInfo().Config.MaxAge
	}
	return backbone.Retention{
		Inbox: age(backbone.InboxStream), Events: age(backbone.EventStream),
		Checkpoints: age(backbone.CheckpointStream), Witness: age(backbone.WitnessStream),
	}
}

// TestRetention: the streams keep their messages for the defaults, or for
// what the secretariat is configured with, also when it provisions again
// over streams that exist (an upgrade, a changed configuration).
func TestRetention(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX")
	want := backbone.Retention{Inbox: 90 * day, Events: 90 * day, Checkpoints: 365 * day, Witness: 365 * day}
	if got := maxAges(t, e); got != want {
		t.Errorf("default max ages = %+v, want %+v", got, want)
	}
	custom := backbone.Retention{Inbox: 30 * day, Events: 2 * day, Checkpoints: backbone.MinRetention, Witness: 400 * day}
	cfg := backbonetest.ClientConfig(t, e.ca, e.srv, backbonetest.Secretariat)
	cfg.Retention = custom
	sec := backbonetest.ConnectConfig(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := sec.Provision(ctx, []string{"MX"}); err != nil {
		t.Fatal(err)
	}
	if got := maxAges(t, e); got != custom {
		t.Errorf("max ages after provisioning again = %+v, want %+v", got, custom)
	}
	// A partial configuration takes the defaults for the rest.
	cfg.Retention = backbone.Retention{Inbox: 10 * day}
	if err := backbonetest.ConnectConfig(t, cfg).Provision(ctx, []string{"MX"}); err != nil {
		t.Fatal(err)
	}
	want.Inbox = 10 * day
	if got := maxAges(t, e); got != want {
		t.Errorf("max ages with only Inbox set = %+v, want %+v", got, want)
	}
}

func TestRetentionValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		r     backbone.Retention
		field string // "" when valid
	}{
		{"zero is the defaults", backbone.Retention{}, ""},
		{"the de-duplication window", backbone.Retention{Inbox: backbone.DuplicateWindow, Events: backbone.DuplicateWindow}, ""},
		{"negative inbox", backbone.Retention{Inbox: -day}, "Retention.Inbox"},
		{"inbox shorter than the de-duplication window", backbone.Retention{Inbox: time.Hour}, "Retention.Inbox"},
		{"events of a minute", backbone.Retention{Events: time.Minute}, "Retention.Events"},
		{"negative checkpoints", backbone.Retention{Checkpoints: -1}, "Retention.Checkpoints"},
		{"witness of an hour", backbone.Retention{Witness: time.Hour}, "Retention.Witness"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Validate(%+v) = %v, want nil", tt.r, err)
			case tt.field != "" && (!errors.Is(err, backbone.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field)):
				t.Errorf("Validate(%+v) = %v, want ErrInvalidConfig naming %s", tt.r, err, tt.field)
			}
		})
	}
	// A client is refused the bad retention before it connects.
	e := startEnv(t, "MX")
	cfg := backbonetest.ClientConfig(t, e.ca, e.srv, backbonetest.Secretariat)
	cfg.Retention.Inbox = time.Hour
	if _, err := backbone.Connect(context.Background(), cfg); !errors.Is(err, backbone.ErrInvalidConfig) ||
		!strings.Contains(err.Error(), "Retention.Inbox") {
		t.Errorf("Connect(Retention.Inbox 1h) = %v, want ErrInvalidConfig naming Retention.Inbox", err)
	}
}

package secretariat_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestRetentionReachesTheStreams: the streams the secretariat provisions
// keep their messages as long as its configuration says, the rest for the
// defaults.
func TestRetentionReachesTheStreams(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	nw := nettest.Start(t, testenv.Options{States: []string{"MX"},
		Retention: backbone.Retention{Inbox: 30 * day, Events: 45 * day, Witness: 2 * day}})
	js, err := jetstream.New(nettest.NodeConn(t, nw, ""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for stream, want := range map[string]time.Duration{
		backbone.InboxStream: 30 * day, backbone.EventStream: 45 * day,
		backbone.CheckpointStream: backbone.DefaultCheckpointRetention, backbone.WitnessStream: 2 * day,
	} {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.CachedInfo().Config.MaxAge; got != want {
			t.Errorf("%s keeps messages for %s, want %s", stream, got, want)
		}
	}
}

func TestConfigRefusesBadRetention(t *testing.T) {
	t.Parallel()
	ca := identitytest.NewCA(t, "iant.test")
	cfg := secretariat.Config{
		TrustDomain: ca.TD, SVID: ca.SVID(t, identity.Principal{Role: identity.RoleSecretariatNode, Name: "node"}),
		Bundle: ca.Bundle(), DataDir: t.TempDir(), BackboneURLs: []string{"tls://127.0.0.1:1"},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	for _, tt := range []struct {
		r    backbone.Retention
		want string
	}{
		{backbone.Retention{Events: time.Hour}, "Retention.Events 1h0m0s is shorter than 24h0m0s"},
		{backbone.Retention{Inbox: -time.Hour}, "Retention.Inbox -1h0m0s is negative"},
	} {
		cfg.Retention = tt.r
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want an error containing %q", tt.r, err, tt.want)
		}
		if _, err := secretariat.Start(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Start(%+v) = %v, want an error containing %q", tt.r, err, tt.want)
		}
	}
}

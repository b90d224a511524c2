package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/statenode"
)

// TestKeyAndRetentionKeysReachTheConfig: the keys of a config file land in
// the node's configuration, unset ones as zero (the documented defaults).
func TestKeyAndRetentionKeysReachTheConfig(t *testing.T) {
	const day = 24 * time.Hour
	dir := t.TempDir()
	load := func(body string) config {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte("trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var st statenode.Config
	if err := load("keys_file: /srv/keys/mx.keys\nkey_rotation: 720h\nsign_key_rotation: 2160h\nretention: {inbox: 1440h, outbox: 48h, expired: 168h}\n").stateKeys(&st); err != nil {
		t.Fatal(err)
	}
	if st.KeyFile != "/srv/keys/mx.keys" || st.KeyRotation != 30*day || st.SignKeyRotation != 90*day ||
		st.InboxRetention != 60*day || st.OutboxRetention != 2*day || st.ExpiredRetention != 7*day {
		t.Errorf("state node config = key file %q, rotations %s and %s, retention %s, %s and %s", st.KeyFile,
			st.KeyRotation, st.SignKeyRotation, st.InboxRetention, st.OutboxRetention, st.ExpiredRetention)
	}
	var sec secretariat.Config
	if err := load("retention: {inbox: 1440h, events: 720h, checkpoints: 4380h}\n").secretariatKeys(&sec); err != nil {
		t.Fatal(err)
	}
	if want := (backbone.Retention{Inbox: 60 * day, Events: 30 * day, Checkpoints: 4380 * time.Hour}); sec.Retention != want {
		t.Errorf("secretariat retention = %+v, want %+v", sec.Retention, want)
	}
	st = statenode.Config{}
	if err := load("").stateKeys(&st); err != nil || st.InboxRetention != 0 || st.KeyFile != "" {
		t.Errorf("no key settings: %v, %+v; want zero values (the defaults)", err, st)
	}
}

// FuzzRetentionConfig: any text in the retention section either parses to
// durations no shorter than the de-duplication window or is refused.
func FuzzRetentionConfig(f *testing.F) {
	for _, s := range []string{"", "2160h", "24h", "23h59m59s", "-1h", "90d", "1e9h", "9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := retentionConfig{Inbox: s, Outbox: s, Events: s, Checkpoints: s, Witness: s}.parse()
		if err != nil {
			return
		}
		for _, d := range []time.Duration{r.Inbox, r.Outbox, r.Events, r.Checkpoints, r.Witness} {
			if d != 0 && d < backbone.MinRetention || d == 0 && s != "" {
				t.Fatalf("parse(%q) = %s", s, d)
			}
		}
		if err := r.Retention.Validate(); err != nil {
			t.Fatalf("parse(%q) accepted what backbone refuses: %v", s, err)
		}
	})
}

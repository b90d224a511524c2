package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/statenode"
)

// retentionConfig is the retention: section (docs/operations.md,
// "Retention"): how long the backbone and the node keep what they keep.
//
//	retention:
//	  inbox: 2160h        # both: copies in the inbox stream (the state node keeps its KEM keys 168h longer)
//	  outbox: 720h        # state node: markers of published copies and sent receipts in node.db
//	  events: 2160h       # secretariat: receipts in the event stream
//	  checkpoints: 8760h  # secretariat: published checkpoints
//	  witness: 8760h      # secretariat: witnessed checkpoints
type retentionConfig struct {
	Inbox       string `yaml:"inbox"`
	Outbox      string `yaml:"outbox"`
	Events      string `yaml:"events"`
	Checkpoints string `yaml:"checkpoints"`
	Witness     string `yaml:"witness"`
	Expired     string `yaml:"expired"`
}

// retention is the parsed retention: section; zero means the default.
type retention struct {
	backbone.Retention
	Outbox, Expired time.Duration
}

// parse parses every duration of the section; errors name the key.
func (r retentionConfig) parse() (retention, error) {
	var out retention
	for _, f := range []struct {
		key string
		s   string
		d   *time.Duration
	}{
		{"retention.inbox", r.Inbox, &out.Inbox},
		{"retention.outbox", r.Outbox, &out.Outbox},
		{"retention.events", r.Events, &out.Events},
		{"retention.checkpoints", r.Checkpoints, &out.Checkpoints},
		{"retention.witness", r.Witness, &out.Witness},
		{"retention.expired", r.Expired, &out.Expired},
	} {
		if f.s == "" {
			continue
		}
		d, err := time.ParseDuration(f.s)
		if err != nil || d < backbone.MinRetention {
			return retention{}, fmt.Errorf("%s %q: want a duration of at least %s (the backbone's de-duplication window), e.g. 2160h for 90 days",
				f.key, f.s, backbone.MinRetention)
		}
		*f.d = d
	}
	return out, nil
}

// validateKeys checks the key settings a config file alone decides:
// keys_file, key_rotation, sign_key_rotation and the retention section.
func (c config) validateKeys() error {
	if c.KeysFile != "" && !filepath.IsAbs(c.KeysFile) {
		return fmt.Errorf("keys_file %q: want an absolute path: a key file that is not found is created afresh, "+
			"so a path relative to where iantd runs could silently give the node new keys", c.KeysFile)
	}
	if _, err := duration("key_rotation", c.KeyRotation); err != nil {
		return err
	}
	r, err := c.Retention.parse()
	if err != nil {
		return err
	}
	d, err := duration("sign_key_rotation", c.SignKeyRotation)
	if min := statenode.MinSignKeyRotation(r.Inbox); err == nil && d > 0 && d < min {
		return fmt.Errorf("sign_key_rotation %q: want at least %s: a directory entry lists the %d last retired signing keys, "+
			"which must span the inbox retention plus %s, or copies still in the inbox stop verifying",
			c.SignKeyRotation, min.Round(time.Hour), seal.MaxRetiredSignKeys, statenode.KeyRetentionMargin)
	}
	return err
}

// duration parses a rotation interval; empty means none.
func duration(key, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute {
		return 0, fmt.Errorf("%s %q: want a duration of at least 1m, e.g. 720h", key, s)
	}
	return d, nil
}

// stateKeys completes a state node's cfg with the key settings; the
// secretariat-only retention keys are refused.
func (c config) stateKeys(cfg *statenode.Config) error {
	r, err := c.Retention.parse()
	if err != nil {
		return err
	}
	if c.Retention.Events != "" || c.Retention.Checkpoints != "" || c.Retention.Witness != "" {
		return errors.New("retention: events, checkpoints and witness are the secretariat's (it provisions those streams); " +
			"a state node takes inbox, outbox and expired")
	}
	cfg.KeyFile = c.KeysFile
	cfg.KeyRotation, _ = duration("key_rotation", c.KeyRotation)
	cfg.SignKeyRotation, _ = duration("sign_key_rotation", c.SignKeyRotation)
	cfg.InboxRetention, cfg.OutboxRetention, cfg.ExpiredRetention = r.Inbox, r.Outbox, r.Expired
	return nil
}

// secretariatKeys completes the secretariat's cfg with the retention;
// the state node's key settings are refused.
func (c config) secretariatKeys(cfg *secretariat.Config) error {
	switch {
	case c.KeysFile != "" || c.KeyRotation != "" || c.SignKeyRotation != "":
		return errors.New("keys_file, key_rotation and sign_key_rotation: the secretariat's node holds no sealing keys")
	case c.Retention.Outbox != "":
		return errors.New("retention.outbox: the secretariat's node has no outbox of copies; it is a state node's")
	case c.Retention.Expired != "":
		return errors.New("retention.expired: the secretariat's node holds no bulletins; it is a state node's")
	}
	r, err := c.Retention.parse()
	cfg.Retention = r.Retention
	return err
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/deploy/policies"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/logconfig"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/yamlfile"
)

// config is the node's YAML configuration file.
type config struct {
	TrustDomain     string                `yaml:"trust_domain"`
	Listen          string                `yaml:"listen"`
	DataDir         string                `yaml:"data_dir"`
	SVID            identity.SourceConfig `yaml:"svid"`
	Backbone        backboneConfig        `yaml:"backbone"`
	ProvisionStates []string              `yaml:"provision_states"`
	Directory       []directoryEntry      `yaml:"directory"`
	// PolicyDir holds network.cedar and network.cedarschema; empty runs
	// the default set built into the binary. Reloaded on SIGHUP.
	PolicyDir string `yaml:"policy_dir"`
	// People lists policy attributes of this state's people by SPIFFE ID.
	People []personConfig `yaml:"people"`
	// KeysFile is a state node's sealing key file, an absolute path;
	// default data_dir/node.keys. Keep it on another disk than data_dir
	// and back it up: the data can be rebuilt from the backbone, the keys
	// cannot.
	KeysFile string `yaml:"keys_file"`
	// KeyRotation rotates the node's HPKE key on this schedule (e.g.
	// "720h"); empty never rotates on a schedule. SIGUSR1 rotates now.
	KeyRotation string `yaml:"key_rotation"`
	// SignKeyRotation rotates the node's Ed25519 origin signing key on
	// this schedule (e.g. "2160h"); empty never. SIGUSR2 rotates now.
	SignKeyRotation string `yaml:"sign_key_rotation"`
	// Retention bounds how long the backbone and the node keep copies,
	// receipts, checkpoints and markers (see retentionConfig).
	Retention retentionConfig  `yaml:"retention"`
	Log       logconfig.Config `yaml:"log"`
	// Audit configures the delivery audit (see auditConfig).
	Audit auditConfig `yaml:"audit"`
	// TAXII runs a state node's TAXII 2.1 server (docs/interop.md).
	TAXII taxiiConfig `yaml:"taxii"`
	// Receive bounds what a state node keeps of the copies it cannot
	// decide yet (see receiveConfig).
	Receive receiveConfig `yaml:"receive"`
}

// receiveConfig is the receive: section: the bounds of a state node's
// parked copies, per state that published them (statenode.ParkConfig).
type receiveConfig struct {
	// ParkMaxCopies: 0 means statenode.DefaultParkMaxCopies.
	ParkMaxCopies int `yaml:"park_max_copies"`
	// ParkMaxBytes: 0 means statenode.DefaultParkMaxBytes.
	ParkMaxBytes int64 `yaml:"park_max_bytes"`
}

// taxiiConfig is the taxii: section: HTTPS with the node's SVID, people
// of the node's state authenticate with their client certificate.
type taxiiConfig struct {
	Listen string `yaml:"listen"` // e.g. 127.0.0.1:7443; empty runs none
}

// personConfig is one person's policy attributes.
type personConfig struct {
	ID             string `yaml:"id"`
	LawEnforcement bool   `yaml:"law_enforcement"`
}

type backboneConfig struct {
	URLs []string `yaml:"urls"`
	// Replicas is how many cluster servers keep each stream the
	// secretariat provisions: 3 on the three-server cluster of
	// deploy/nats; 0 or 1 on one server.
	Replicas int             `yaml:"replicas"`
	Embedded *embeddedConfig `yaml:"embedded"`
	// Leaf runs a state node behind its own leaf node; it replaces urls.
	Leaf *leafConfig `yaml:"leaf"`
	// MaxPendingCopies bounds the copies a state node keeps waiting for
	// the backbone (its outbox); at the bound it refuses posts. 0 means
	// statenode.DefaultMaxPendingCopies.
	MaxPendingCopies int `yaml:"max_pending_copies"`
}

// leafConfig runs a NATS leaf node inside this state node's process,
// linked to the backbone's leaf node port; it keeps the directory entries
// sealing needs while the link is cut (posting goes on: copies wait in
// the node's outbox and go out in order when the link returns).
type leafConfig struct {
	HubURLs  []string `yaml:"hub_urls"`  // the backbone's leaf node URLs, e.g. tls://hub-1:7422
	StoreDir string   `yaml:"store_dir"` // the leaf's JetStream store; default <data_dir>/leaf
}

// embeddedConfig runs the NATS JetStream server inside this process.
type embeddedConfig struct {
	Host     string   `yaml:"host"`
	Port     int      `yaml:"port"`
	StoreDir string   `yaml:"store_dir"`
	Nodes    []string `yaml:"nodes"` // SPIFFE IDs of every node allowed to connect
	// LeafPort opens a leaf node port for states whose nodes run behind
	// leaf nodes (backbone.leaf); 0 opens none, -1 a random port.
	LeafPort int `yaml:"leaf_port"`
}

type directoryEntry struct {
	ID      string `yaml:"id"`
	Address string `yaml:"address"`
}

func loadConfig(path string) (config, error) {
	var c config
	if err := yamlfile.Decode(path, &c); err != nil {
		return config{}, fmt.Errorf("config: %w", err)
	}
	base := filepath.Dir(path)
	c.SVID.Resolve(base)
	for _, p := range []*string{&c.DataDir, &c.PolicyDir, &c.Audit.VerifierKeyFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	if c.Backbone.Embedded != nil && c.Backbone.Embedded.StoreDir != "" && !filepath.IsAbs(c.Backbone.Embedded.StoreDir) {
		c.Backbone.Embedded.StoreDir = filepath.Join(base, c.Backbone.Embedded.StoreDir)
	}
	if l := c.Backbone.Leaf; l != nil && l.StoreDir != "" && !filepath.IsAbs(l.StoreDir) {
		l.StoreDir = filepath.Join(base, l.StoreDir)
	}
	if err := c.validate(); err != nil {
		return config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func (c config) validate() error {
	switch {
	case c.TrustDomain == "":
		return errors.New("trust_domain is required")
	case c.DataDir == "":
		return errors.New("data_dir is required")
	case len(c.Backbone.URLs) == 0 && c.Backbone.Embedded == nil && c.Backbone.Leaf == nil:
		return errors.New("backbone: give urls, or embedded, or leaf")
	case c.Backbone.Embedded != nil && c.Backbone.Embedded.StoreDir == "":
		return errors.New("backbone.embedded.store_dir is required")
	case c.Backbone.Replicas < 0 || c.Backbone.Replicas > 5:
		return fmt.Errorf("backbone.replicas %d: want 1 to 5 (3 on a three-server cluster)", c.Backbone.Replicas)
	case c.Backbone.Embedded != nil && c.Backbone.Replicas > 1:
		return fmt.Errorf("backbone.replicas %d: the embedded backbone is one server, so at most 1", c.Backbone.Replicas)
	case c.Backbone.MaxPendingCopies < 0:
		return fmt.Errorf("backbone.max_pending_copies %d: want 0 (the default, %d) or more", c.Backbone.MaxPendingCopies, statenode.DefaultMaxPendingCopies)
	case c.Receive.ParkMaxCopies < 0:
		return fmt.Errorf("receive.park_max_copies %d: want 0 (the default, %d) or more", c.Receive.ParkMaxCopies, statenode.DefaultParkMaxCopies)
	case c.Receive.ParkMaxBytes < 0:
		return fmt.Errorf("receive.park_max_bytes %d: want 0 (the default, %d) or more", c.Receive.ParkMaxBytes, statenode.DefaultParkMaxBytes)
	}
	if err := c.Backbone.validateLeaf(); err != nil {
		return err
	}
	for _, e := range c.Directory {
		if _, port, err := net.SplitHostPort(e.Address); err != nil || port == "0" || port == "" {
			return fmt.Errorf("directory: %s: address %q: want host:port with the port the node listens on", e.ID, e.Address)
		}
	}
	if _, err := spiffeid.TrustDomainFromString(c.TrustDomain); err != nil {
		return fmt.Errorf("trust_domain: %w", err)
	}
	if err := c.SVID.Validate(); err != nil {
		return err
	}
	if err := c.validateKeys(); err != nil {
		return err
	}
	if c.TAXII.Listen != "" {
		if _, _, err := net.SplitHostPort(c.TAXII.Listen); err != nil {
			return fmt.Errorf("taxii.listen %q: want host:port, e.g. 127.0.0.1:7443", c.TAXII.Listen)
		}
	}
	_, err := c.Audit.durations()
	return err
}

// daemon is what iantd runs: optionally the embedded backbone, and a
// node: a member state's (state) or the secretariat's (sec), as the SVID
// says.
type daemon struct {
	policy   *policy.Engine
	state    *statenode.Node
	sec      *secretariat.Node
	backbone *backbone.Server
	closers  []func() error
}

func start(ctx context.Context, c config, log *slog.Logger) (*daemon, error) {
	td := spiffeid.RequireTrustDomainFromString(c.TrustDomain)
	unlocks, err := c.lockDirs()
	if err != nil {
		return nil, err
	}
	d := &daemon{closers: unlocks}
	svid, bundle, closeSrc, err := c.SVID.Open(ctx, td)
	if err != nil {
		d.close()
		return nil, err
	}
	d.closers = append(d.closers, closeSrc)
	urls := c.Backbone.URLs
	if e := c.Backbone.Embedded; e != nil {
		var ids []spiffeid.ID
		for _, s := range e.Nodes {
			id, err := spiffeid.FromString(s)
			if err != nil {
				d.close()
				return nil, fmt.Errorf("config: backbone.embedded.nodes: %q: %w", s, err)
			}
			ids = append(ids, id)
		}
		var leafPort *backbone.ListenConfig
		if e.LeafPort != 0 {
			leafPort = &backbone.ListenConfig{Host: e.Host, Port: e.LeafPort}
		}
		d.backbone, err = backbone.StartServer(ctx, backbone.ServerConfig{
			Host: e.Host, Port: e.Port, StoreDir: e.StoreDir, TrustDomain: td,
			SVID: svid, Bundle: bundle, Nodes: ids, LeafNodes: leafPort, Logger: log.With("component", "backbone"),
		})
		if err != nil {
			d.close()
			return nil, err
		}
		urls = append([]string{d.backbone.ClientURL()}, urls...)
	}
	if d.policy, err = loadPolicy(c.PolicyDir); err != nil {
		d.close()
		return nil, err
	}
	people := map[string]policy.PersonAttrs{}
	for _, p := range c.People {
		if _, err := identity.ParseString(td, p.ID); err != nil {
			d.close()
			return nil, fmt.Errorf("config: people: %w", err)
		}
		people[p.ID] = policy.PersonAttrs{LawEnforcement: p.LawEnforcement}
	}
	var dir []nodeserver.DirectoryEntry
	for _, e := range c.Directory {
		id, err := spiffeid.FromString(e.ID)
		if err != nil {
			d.close()
			return nil, fmt.Errorf("config: directory: %q: %w", e.ID, err)
		}
		dir = append(dir, nodeserver.DirectoryEntry{ID: id, Address: e.Address})
	}
	self, err := identity.SelfFrom(svid, td)
	if err != nil {
		d.close()
		return nil, err
	}
	if self.Role == identity.RoleSecretariatNode && c.TAXII.Listen != "" {
		d.close()
		return nil, errors.New("config: taxii: the secretariat's node holds no bulletins and serves no TAXII")
	}
	if self.Role == identity.RoleSecretariatNode {
		err = d.startSecretariat(ctx, c, secretariat.Config{
			TrustDomain: td, SVID: svid, Bundle: bundle, ListenAddr: c.Listen, DataDir: c.DataDir,
			BackboneURLs: urls, BackboneReplicas: c.Backbone.Replicas, ProvisionStates: c.ProvisionStates,
			Directory: nodeserver.StaticDirectory(dir), Logger: log,
		})
	} else {
		err = d.startState(ctx, c, statenode.Config{
			TrustDomain: td, SVID: svid, Bundle: bundle, ListenAddr: c.Listen, DataDir: c.DataDir,
			BackboneURLs: urls, BackboneReplicas: c.Backbone.Replicas, Leaf: c.Backbone.leaf(), Directory: nodeserver.StaticDirectory(dir),
			Logger: log, Policy: d.policy, People: people, MaxPendingCopies: c.Backbone.MaxPendingCopies,
			TAXII: statenode.TAXIIConfig{ListenAddr: c.TAXII.Listen},
			Park:  statenode.ParkConfig{MaxCopies: c.Receive.ParkMaxCopies, MaxBytes: c.Receive.ParkMaxBytes},
		})
	}
	if err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

// startState starts a member state's node from cfg completed by c.
func (d *daemon) startState(ctx context.Context, c config, cfg statenode.Config) error {
	if err := c.stateKeys(&cfg); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var err error
	if cfg.Audit, err = c.Audit.state(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	d.state, err = statenode.Start(ctx, cfg)
	return err
}

// startSecretariat starts the secretariat's node from cfg completed by c.
func (d *daemon) startSecretariat(ctx context.Context, c config, cfg secretariat.Config) error {
	if err := c.secretariatKeys(&cfg); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var err error
	if cfg.Audit, err = c.Audit.durations(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	d.sec, err = secretariat.Start(ctx, cfg)
	return err
}

// loadPolicy loads the network policy set from dir, or the built-in
// default when dir is empty. A set that does not parse or validate stops
// the node from starting.
func loadPolicy(dir string) (*policy.Engine, error) {
	var set *policy.Set
	var err error
	if dir == "" {
		set, err = policy.Parse(policies.Network, policies.Schema)
	} else {
		set, err = policy.Load(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("config: policy_dir: %w", err)
	}
	return policy.NewEngine(set), nil
}

// reloadPolicy reloads the policy set from policyDir (on SIGHUP); a set
// that fails keeps the old one, and the log says why.
func (d *daemon) reloadPolicy(policyDir string, log *slog.Logger) {
	if policyDir == "" {
		log.Warn("policy reload: no policy_dir configured; the built-in set stays in force")
		return
	}
	if err := d.policy.Reload(policyDir); err != nil {
		log.Error("policy reload failed; the previous set stays in force", "err", err)
		return
	}
	log.Info("policy reloaded", "dir", policyDir, "policies", d.policy.Set().Len())
}

func (d *daemon) close() error {
	var errs []error
	if d.state != nil {
		errs = append(errs, d.state.Close())
	}
	if d.sec != nil {
		errs = append(errs, d.sec.Close())
	}
	if d.backbone != nil {
		errs = append(errs, d.backbone.Close())
	}
	for _, c := range d.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

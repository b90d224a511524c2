package statenode

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
)

// leafStoreDir is the leaf node's JetStream store in a node's DataDir,
// unless Config.Leaf names one.
const leafStoreDir = "leaf"

// Waits between attempts to publish a deferred directory entry.
const (
	firstEntryRetry = 500 * time.Millisecond
	maxEntryRetry   = 30 * time.Second
)

// validateLeaf checks the Leaf section, if any.
func (c Config) validateLeaf() error {
	switch {
	case c.Leaf == nil:
		return nil
	case len(c.BackboneURLs) > 0:
		return errors.New("statenode: config: give BackboneURLs or Leaf, not both: a node behind a leaf node reaches the backbone only through it")
	case len(c.Leaf.HubURLs) == 0:
		return errors.New("statenode: config: Leaf.HubURLs is required: the backbone's leaf node URLs")
	}
	return nil
}

// backboneConfig is the node's backbone connection: directly to
// BackboneURLs, or behind its own leaf node.
func (n *Node) backboneConfig() backbone.ClientConfig {
	cfg := backbone.ClientConfig{
		URLs: n.cfg.BackboneURLs, TrustDomain: n.cfg.TrustDomain,
		SVID: n.cfg.SVID, Bundle: n.cfg.Bundle, Name: n.self.String(), Logger: n.log,
		Replicas: n.cfg.BackboneReplicas,
	}
	if l := n.cfg.Leaf; l != nil {
		leaf := *l
		if leaf.StoreDir == "" {
			leaf.StoreDir = filepath.Join(n.cfg.DataDir, leafStoreDir)
		}
		cfg.Leaf = &leaf
	}
	return cfg
}

// deferEntry decides, when publishing the directory entry at start failed
// with err, whether the node may start anyway: behind a leaf node it may
// (its keys are those it published before, which other states still hold;
// the entry is published once the link returns). It reports whether the
// entry was deferred.
func (n *Node) deferEntry(err error) bool {
	if n.cfg.Leaf == nil || errors.Is(err, context.Canceled) {
		return false
	}
	n.log.Warn("directory entry not published: backbone unreachable from the leaf node; retrying in the background", "err", err)
	n.entryDeferred = true
	return true
}

// publishDeferredEntry starts publishing a deferred directory entry in the
// background, retrying with a growing wait until it succeeds or ctx ends.
func (n *Node) publishDeferredEntry(ctx context.Context) {
	if !n.entryDeferred {
		return
	}
	n.wg.Go(func() {
		wait := firstEntryRetry
		for sleepCtx(ctx, wait) {
			err := n.publishEntry(ctx)
			if err == nil {
				return
			}
			n.log.Debug("deferred directory entry not published yet", "err", err)
			wait = min(2*wait, maxEntryRetry)
		}
	})
}

// LeafLinked reports whether the node runs behind a leaf node whose link
// to the backbone is up; false for a node connected directly.
func (n *Node) LeafLinked() bool { return n.bb.LeafConnected() }

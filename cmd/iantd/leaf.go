package main

import (
	"errors"
	"fmt"

	"github.com/oas-cicte/iant/pkg/backbone"
)

// validateLeaf checks backbone.leaf, if given: it replaces urls and the
// embedded backbone, and needs the backbone's leaf node URLs.
func (b backboneConfig) validateLeaf() error {
	l := b.Leaf
	switch {
	case l == nil:
		if b.Embedded != nil && (b.Embedded.LeafPort < -1 || b.Embedded.LeafPort > 65535) {
			return fmt.Errorf("backbone.embedded.leaf_port %d: want -1 to 65535", b.Embedded.LeafPort)
		}
		return nil
	case len(b.URLs) > 0:
		return errors.New("backbone: give urls or leaf, not both: a node behind a leaf node reaches the backbone only through it")
	case b.Embedded != nil:
		return errors.New("backbone: give embedded or leaf, not both: the node running the backbone needs no leaf node")
	case len(l.HubURLs) == 0:
		return errors.New("backbone.leaf.hub_urls is required: the backbone's leaf node URLs, e.g. tls://hub-1:7422")
	}
	for _, s := range l.HubURLs {
		if !backbone.IsLeafURL(s) {
			return fmt.Errorf("backbone.leaf.hub_urls: %q is not a URL like tls://hub-1:7422", s)
		}
	}
	return nil
}

// leaf returns the node's leaf node config, or nil.
func (b backboneConfig) leaf() *backbone.LeafConfig {
	if b.Leaf == nil {
		return nil
	}
	return &backbone.LeafConfig{HubURLs: b.Leaf.HubURLs, StoreDir: b.Leaf.StoreDir}
}

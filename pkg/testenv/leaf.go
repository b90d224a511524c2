package testenv

import (
	"context"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/testenv/linkcut"
)

// linkTimeout bounds how long CutLink waits for a leaf node to notice.
const linkTimeout = 10 * time.Second

// link returns the proxy between state cc's leaf node and the backbone's
// leaf node port, starting it the first time; it stays for the network's
// life, so a restarted node dials the same address.
func (nw *Network) link(cc string) (*linkcut.Proxy, error) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if l, ok := nw.links[cc]; ok {
		return l, nil
	}
	l, err := linkcut.New(nw.Backbone.LeafURL())
	if err != nil {
		return nil, fmt.Errorf("testenv: link of %s: %w", cc, err)
	}
	nw.links[cc] = l
	return l, nil
}

// CutLink cuts the link between leaf state cc's leaf node and the backbone
// (see [Options.LeafStates]) and, if its node runs, waits until the leaf
// node noticed, or until ctx ends or 10 s pass.
func (nw *Network) CutLink(ctx context.Context, cc string) error {
	l, err := nw.leafLink(cc)
	if err != nil {
		return err
	}
	l.Cut()
	return nw.waitLinked(ctx, cc, false)
}

// RestoreLink restores the link CutLink cut and, if the node runs, waits
// until its leaf node is linked again, or until ctx ends or 10 s pass.
func (nw *Network) RestoreLink(ctx context.Context, cc string) error {
	l, err := nw.leafLink(cc)
	if err != nil {
		return err
	}
	l.Restore()
	return nw.waitLinked(ctx, cc, true)
}

func (nw *Network) leafLink(cc string) (*linkcut.Proxy, error) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	l, ok := nw.links[cc]
	if !ok {
		return nil, fmt.Errorf("testenv: %s does not run behind a leaf node", cc)
	}
	return l, nil
}

// waitLinked waits until cc's running node reports its leaf linked (or
// not), polling.
func (nw *Network) waitLinked(ctx context.Context, cc string, linked bool) error {
	ctx, cancel := context.WithTimeout(ctx, linkTimeout)
	defer cancel()
	for {
		n := nw.Node(cc)
		if n == nil || n.LeafLinked() == linked {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testenv: leaf node of %s linked %v, want %v: %w", cc, !linked, linked, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

package statenode

import (
	"context"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
	"github.com/oas-cicte/iant/pkg/store"
)

// PublishCopy publishes one copy of bulletin id from origin to recipient.
type PublishCopy func(ctx context.Context, recipient, origin, id string, data []byte) (backbone.PubAck, error)

// WrapPublish puts wrap in front of how n's drainer publishes a copy, for
// tests that inject faults between a node and the real backbone: wrap
// gets the real publish and returns the one the drainer uses.
func WrapPublish(n *Node, wrap func(real PublishCopy) PublishCopy) {
	prev := *n.out.publish.Load()
	w := wrap(func(ctx context.Context, recipient, origin, id string, data []byte) (backbone.PubAck, error) {
		return prev(ctx, store.Copy{Recipient: recipient, Origin: origin, BulletinID: id, Data: data})
	})
	f := publishCopyFunc(func(ctx context.Context, c store.Copy) (backbone.PubAck, error) {
		return w(ctx, c.Recipient, c.Origin, c.BulletinID, c.Data)
	})
	n.out.publish.Store(&f)
	n.out.batch.Store(nil) // every copy through wrap
}

// Receive hands n one copy as its inbox consumer would, under ctx.
func Receive(n *Node, ctx context.Context, m backbone.Msg) error { return n.receive(ctx, m) }

// ExpireDirectoryCache makes n fetch every directory entry again at its
// next use, as it does once entryCacheTTL has passed.
func ExpireDirectoryCache(n *Node) {
	n.dir.mu.Lock()
	n.dir.m = nil
	n.dir.mu.Unlock()
}

// Maintain runs n's maintenance once, as its hourly schedule does.
func Maintain(ctx context.Context, n *Node) { n.maintain(ctx) }

// KEMGenerations lists n's KEM key generations, current first.
func KEMGenerations(n *Node) []keystore.Generation { return n.keys.store.Generations() }

// AcceptedEntry returns the newest directory entry of state that n
// accepted (its mark), verified again now.
func AcceptedEntry(n *Node, state string) (seal.DirectoryEntry, bool) {
	e, err := n.markedEntry(context.Background(), state, n.now())
	return e, err == nil
}

package statenode

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/store"
)

// Batched publishing of the copy outbox. A drain round's copies (a
// post's, or several concurrent posts': group commit) go to the backbone
// as one JetStream atomic batch: one round trip and, on a single server,
// one sync for all of them, acknowledged only once all are synced. The
// batch keeps the round's commit order, so each recipient's copies stay
// in order. When the backbone does not take the batch as a whole (a copy
// already stored by an earlier attempt, atomic publish not allowed, a
// timeout), the round publishes copy by copy as before, which stores
// each copy once.

// publishBatchFunc publishes copies as one atomic batch.
type publishBatchFunc func(ctx context.Context, cs []store.Copy) ([]backbone.PubAck, error)

// newBatchPublish is the drainer's default batch publish: the backbone's
// PublishInboxBatch, while the backbone takes atomic batches.
func (n *Node) newBatchPublish() publishBatchFunc {
	return func(ctx context.Context, cs []store.Copy) ([]backbone.PubAck, error) {
		if !n.bb.BatchEnabled() {
			return nil, backbone.ErrBatchRefused
		}
		in := make([]backbone.InboxCopy, len(cs))
		for i, c := range cs {
			in[i] = backbone.InboxCopy{Recipient: c.Recipient, Origin: c.Origin, ID: c.BulletinID, Data: c.Data}
		}
		return n.bb.PublishInboxBatch(ctx, in)
	}
}

// publishBatch tries to publish the round's copies as one batch and marks
// them published; ok false means the batch was not taken (nothing is
// marked) and the copies are to be published one by one.
func (n *Node) publishBatch(ctx context.Context, batch []store.Copy) (ok bool, err error) {
	pb := n.out.batch.Load()
	if pb == nil || len(batch) < 2 || len(batch) > backbone.MaxBatchCopies {
		return false, nil
	}
	bctx, cancel := context.WithTimeout(ctx, copyPublishTimeout)
	acks, perr := (*pb)(bctx, batch)
	cancel()
	if perr != nil {
		if !errors.Is(perr, backbone.ErrBatchRefused) {
			n.log.Debug("batch of copies not published; publishing them one by one", "copies", len(batch), "err", perr)
		}
		return false, nil
	}
	seqs := make([]uint64, len(batch))
	for i, c := range batch {
		n.out.noteFull(c.Recipient, false)
		seqs[i] = c.Seq
		n.log.Debug("copy published", "bulletin_id", c.BulletinID, "recipient", c.Recipient, "seq", acks[i].Seq)
	}
	n.out.count.Add(uint64(len(batch)))
	if err := n.store.MarkCopiesPublished(context.WithoutCancel(ctx), seqs, n.now()); err != nil {
		return true, fmt.Errorf("mark %d copies published: %w", len(seqs), err)
	}
	return true, nil
}

// fullInboxes are the recipients whose last copy the backbone refused
// because their inbox is over its cap (backbone.ErrInboxFull): their
// copies wait for them, not for this node, so admission control does not
// count them (admit.go).
type fullInboxes struct {
	mu sync.Mutex
	m  map[string]bool
}

// noteFull records whether recipient's inbox was just found full.
func (o *copyOutbox) noteFull(recipient string, full bool) {
	f := &o.full
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case full && f.m == nil:
		f.m = map[string]bool{recipient: true}
	case full:
		f.m[recipient] = true
	default:
		delete(f.m, recipient)
	}
}

// fullRecipients lists the recipients whose inbox was last found full.
func (o *copyOutbox) fullRecipients() []string {
	f := &o.full
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.m))
	for r := range f.m {
		out = append(out, r)
	}
	return out
}

package backbone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/identity"
)

// Replay timings and sizes.
const (
	// replayBatchSize is how many copies one pull asks for, and how many
	// the replay consumer lets be unacknowledged at once.
	replayBatchSize = 64
	// replayWait bounds one pull when nothing more arrives.
	replayWait = 500 * time.Millisecond
)

// replayConsumerConfig is state's replay consumer: the same copies as its
// inbox consumer, from the start, but many in flight at once. The
// secretariat creates it; the state node only resets, pulls and acks it.
func replayConsumerConfig(state string, replicas int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       ReplayConsumer(state),
		Description:   "IANT: replay of the inbox of " + state + " (rebuilds a lost node database)",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       AckWait,
		MaxDeliver:    -1,
		FilterSubject: inboxFilter(state),
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
		MaxAckPending: replayBatchSize,
		MaxWaiting:    maxWaiting,
		Replicas:      replicas,
	}
}

// InboxAckFloor returns the stream sequence up to which this state node's
// inbox consumer has settled every copy, acked or terminated (the
// consumer's ack floor): every copy of the node's inbox with a sequence at
// or below it was handed to a [Handler] of [Client.ConsumeInbox] before,
// and will not be delivered by the consumer again. It is 0 when nothing
// was settled yet. Errors wrap [ErrForbidden] (not a state node),
// [ErrNotProvisioned] (no inbox consumer yet: nothing was settled either),
// [ErrClosed] or the server's error.
func (c *Client) InboxAckFloor(ctx context.Context) (uint64, error) {
	if c.self.Role != identity.RoleNode {
		return 0, fmt.Errorf("%w: %s has no inbox", ErrForbidden, c.self)
	}
	if c.isClosing() {
		return 0, ErrClosed
	}
	cons, err := c.consumerOf(ctx, InboxConsumer(c.self.State))
	if err != nil {
		return 0, fmt.Errorf("inbox ack floor: %w", err)
	}
	return cons.CachedInfo().AckFloor.Stream, nil
}

// ReplayInbox hands h, in stream order, every copy of this state node's
// inbox whose stream sequence is at most upTo, for a node that lost its
// database to store again what it had received (DESIGN.md, "Node
// storage"). It leaves the node's inbox consumer alone: it reads through
// the state's replay consumer ([ReplayConsumer]), which the secretariat
// provisions beside the inbox consumer and which it first resets to the
// start of the stream. A state node still creates no consumer: see
// permissionsFor.
//
// h's nil result and errors wrapping [ErrReject] both count as handled
// (a replay never terminates anything); any other error stops the replay
// and is returned, wrapped, and the caller may replay again: a copy can
// thus be handed to h more than once, so h must be idempotent. A copy
// lost on the way is handed again after [AckWait], possibly after later
// ones. Only one replay of a state may run at a time. ReplayInbox returns
// the number of copies handed to h once it has handed every copy up to
// upTo, or an error wrapping [ErrForbidden], [ErrNotProvisioned] (no
// replay consumer: the secretariat has not provisioned it yet),
// [ErrClosed], the context's or the server's error. upTo 0 replays
// nothing.
func (c *Client) ReplayInbox(ctx context.Context, upTo uint64, h Handler) (int, error) {
	if h == nil {
		panic("backbone: ReplayInbox with nil handler")
	}
	if c.self.Role != identity.RoleNode {
		return 0, fmt.Errorf("%w: %s has no inbox", ErrForbidden, c.self)
	}
	if upTo == 0 {
		return 0, nil
	}
	ctx, leave, err := c.enterLoop(ctx)
	if err != nil {
		return 0, err
	}
	defer leave()

	name := ReplayConsumer(c.self.State)
	cons, err := c.rewind(ctx, name)
	if err != nil {
		return 0, err
	}
	handed, err := c.replay(ctx, cons, upTo, h)
	if err != nil {
		if c.life.Err() != nil {
			err = ErrClosed
		}
		return handed, fmt.Errorf("backbone: replay inbox after %d copies: %w", handed, err)
	}
	c.log.Info("inbox replayed", "consumer", name, "up_to", upTo, "copies", handed)
	return handed, nil
}

// enterLoop registers a long call (a consumer loop, a replay) with the
// client, so that Close stops it and waits for it: the returned ctx also
// ends when Close starts, and leave must be called when the call returns.
// It fails with [ErrClosed] once Close has started.
func (c *Client) enterLoop(ctx context.Context) (_ context.Context, leave func(), err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil, nil, ErrClosed
	}
	c.consumers.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.life, cancel)
	return ctx, func() { stop(); cancel(); c.consumers.Done() }, nil
}

// consumerOf looks up a consumer of the inbox stream; a missing stream or
// consumer is [ErrNotProvisioned].
func (c *Client) consumerOf(ctx context.Context, name string) (jetstream.Consumer, error) {
	cons, err := c.js.Consumer(ctx, InboxStream, name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound), errors.Is(err, jetstream.ErrConsumerNotFound):
		return nil, fmt.Errorf("%w: consumer %s", ErrNotProvisioned, name)
	case err != nil:
		return nil, fmt.Errorf("backbone: look up consumer %s: %w", name, err)
	}
	return cons, nil
}

// rewind resets the replay consumer to the first sequence of the stream:
// it forgets what it delivered and what was acked (a previous replay's,
// or a crashed one's) and delivers every copy of the state again.
func (c *Client) rewind(ctx context.Context, name string) (jetstream.Consumer, error) {
	// Looked up first: the reset subject is served by the consumer
	// itself, so a missing consumer would leave the reset unanswered.
	cons, err := c.consumerOf(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("replay inbox: %w", err)
	}
	if _, err := c.js.ResetConsumerToSequence(ctx, InboxStream, name, 1); err != nil {
		return nil, fmt.Errorf("backbone: replay inbox: reset %s: %w", name, err)
	}
	return cons, nil
}

// replay pulls batches from cons and hands the copies up to upTo to h
// until every one was delivered and acknowledged.
//
// Progress is judged from the copies themselves, not from the consumer's
// ack floor: right after a reset, nats-server v2.15.2 was seen to report
// the ack floor and delivered sequences of before the reset (while
// already delivering from the start again), which would end a replay
// before it began.
func (c *Client) replay(ctx context.Context, cons jetstream.Consumer, upTo uint64, h Handler) (int, error) {
	handed, reached := 0, false
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return handed, err
		}
		if info.NumAckPending == 0 && (reached || info.NumPending == 0) {
			return handed, nil
		}
		batch, err := cons.Fetch(replayBatchSize, jetstream.FetchMaxWait(replayWait))
		if err != nil {
			return handed, err
		}
		n, r, err := c.replayBatch(ctx, batch, upTo, h)
		handed += n
		reached = reached || r
		if err != nil {
			return handed, err
		}
	}
}

// replayBatch hands a batch's copies up to upTo to h, in order, and acks
// each one handled (or not this replay's). Acks are queued on the server,
// so the batch's last one is confirmed: the consumer's count of
// unacknowledged copies then covers them all. It returns how many copies
// it handed to h, and whether it saw the copy at upTo, one after it, or
// the last of the inbox: every copy up to upTo was then delivered once.
func (c *Client) replayBatch(ctx context.Context, batch jetstream.MessageBatch, upTo uint64, h Handler) (handed int, reached bool, err error) {
	var settled jetstream.Msg // handled, its ack deferred until the next one
	for jm := range batch.Messages() {
		if settled != nil {
			if err := settled.Ack(); err != nil {
				return handed, reached, err
			}
		}
		if md, err := jm.Metadata(); err == nil && (md.Sequence.Stream >= upTo || md.NumPending == 0) {
			reached = true
		}
		n, err := c.replayOne(ctx, jm, upTo, h)
		handed += n
		if err != nil {
			waitOut(batch)
			return handed, reached, err // the next replay resets: nothing to settle
		}
		settled = jm
	}
	if err := batch.Error(); err != nil {
		return handed, reached, err
	}
	if settled != nil {
		return handed, reached, c.ack(ctx, settled)
	}
	return handed, reached, nil
}

// waitOut lets an abandoned pull request end (within replayWait): a
// replay that started again at once would otherwise see copies go to it,
// unread, and wait [AckWait] for them.
func waitOut(batch jetstream.MessageBatch) {
	for range batch.Messages() {
	}
}

// replayOne hands one copy to h if its sequence is at most upTo, and
// returns 1 if it did. A copy after upTo is not this replay's: the inbox
// consumer delivers it.
func (c *Client) replayOne(ctx context.Context, jm jetstream.Msg, upTo uint64, h Handler) (int, error) {
	m, err := c.toMsg(jm)
	if err != nil {
		c.log.Warn("malformed inbox message skipped in replay", "subject", jm.Subject(), "err", err)
		return 0, nil
	}
	if m.StreamSeq > upTo {
		return 0, nil
	}
	if err := h(ctx, m); err != nil && !errors.Is(err, ErrReject) {
		return 1, fmt.Errorf("handle %s: %w", m.Subject, err)
	}
	return 1, nil
}

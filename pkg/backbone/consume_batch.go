package backbone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// gatherWait is how long a batch consumer waits for more messages after
// the first of a batch before it hands the batch over: long enough to
// collect what the server already sent, short enough not to matter.
const gatherWait = time.Millisecond

// BatchHandler processes messages delivered together, in stream order,
// and returns one result per message (nil or an error, as a [Handler]
// returns for one): nil acks the message, an error wrapping [ErrReject]
// terminates it, any other error has it redelivered after a delay. A
// result slice of the wrong length fails every message of the batch
// (redelivered). The ctx ends when the consumer's ctx ends or the client
// closes.
type BatchHandler func(ctx context.Context, ms []Msg) []error

// runBatch is [Client.run] for a batch handler: it hands h up to max
// messages at a time.
func (c *Client) runBatch(ctx context.Context, src source, max int, h BatchHandler) error {
	return c.loop(ctx, src, func(ctx context.Context, cons jetstream.Consumer) error {
		return c.pullBatch(ctx, src, cons, max, h)
	})
}

// pullBatch is [Client.pull] for a batch handler: it waits for a message,
// gathers those that follow within [gatherWait] up to max, hands them to
// h and settles each before pulling again.
func (c *Client) pullBatch(ctx context.Context, src source, cons jetstream.Consumer, max int, h BatchHandler) error {
	p, err := c.openPull(src, cons, max)
	if err != nil {
		return err
	}
	it := p.it
	for {
		jm, err := p.next(ctx)
		if err != nil {
			c.drain(it)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		batch := []jetstream.Msg{jm}
		for len(batch) < max {
			more, err := it.Next(jetstream.NextMaxWait(gatherWait))
			if err != nil {
				break // nats.ErrTimeout: nothing more yet; anything else shows at the next Next
			}
			batch = append(batch, more)
		}
		if ctx.Err() != nil {
			c.drain(it)
			for _, jm := range batch {
				c.handBack(jm)
			}
			return ctx.Err()
		}
		if err := c.handleBatch(ctx, src, batch, h); err != nil {
			c.drain(it)
			return err
		}
	}
}

// handleBatch runs h on a batch and settles each message: acks (the last
// one confirmed by the server, which handles a connection's acks in
// order), terms or naks with delay. It returns an error only when a
// message could not be settled.
func (c *Client) handleBatch(ctx context.Context, src source, batch []jetstream.Msg, h BatchHandler) error {
	msgs := make([]Msg, 0, len(batch))
	kept := make([]jetstream.Msg, 0, len(batch))
	for _, jm := range batch {
		m, err := src.toMsg(jm)
		if err != nil {
			c.log.Warn("malformed message terminated", "subject", jm.Subject(), "err", err)
			if err := jm.Term(); err != nil {
				return fmt.Errorf("term %s: %w", jm.Subject(), err)
			}
			continue
		}
		msgs, kept = append(msgs, m), append(kept, jm)
	}
	if len(msgs) == 0 {
		return nil
	}
	stop := keepAlive(AckWait/3, kept...)
	results := h(ctx, msgs)
	stop()
	if len(results) != len(msgs) {
		err := fmt.Errorf("batch handler returned %d results for %d messages", len(results), len(msgs))
		results = make([]error, len(msgs))
		for i := range results {
			results[i] = err
		}
	}
	lastAck := -1
	for i, herr := range results {
		if herr == nil {
			lastAck = i
		}
	}
	for i, herr := range results {
		if err := c.settle(ctx, kept[i], msgs[i], herr, i == lastAck); err != nil {
			return err
		}
	}
	return nil
}

// settle acks, terms or naks one message of a batch after its handler
// result; confirm waits for the server to confirm an ack.
func (c *Client) settle(ctx context.Context, jm jetstream.Msg, m Msg, herr error, confirm bool) error {
	log := c.log.With("subject", m.Subject, "seq", m.StreamSeq, "delivered", m.NumDelivered)
	switch {
	case herr == nil && confirm:
		if err := c.ack(ctx, jm); err != nil {
			return fmt.Errorf("ack %s: %w", m.Subject, err)
		}
	case herr == nil:
		// Not confirmed: the confirmed ack of a later message of the batch
		// shows the server has handled this one. An ack lost all the same
		// (a server restart in between) means one redelivery.
		if err := jm.Ack(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			return fmt.Errorf("ack %s: %w", m.Subject, err)
		}
	case ctx.Err() != nil && !errors.Is(herr, ErrReject):
		c.handBack(jm)
	default:
		return c.refuseOrRetry(jm, m, herr, log)
	}
	return nil
}

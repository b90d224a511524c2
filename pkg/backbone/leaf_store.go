package backbone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// forwardAckWait is how long the copy being forwarded may go without an
// ack or a sign of progress before the leaf hands it out again. The
// forwarder signals progress while it waits for the backbone; a short
// wait matters after a restart, when the copy a stopped node held is
// handed out again only once this expires (a nak is not kept across a
// restart of the leaf).
const forwardAckWait = 3 * time.Second

// outboxStreamConfig is a leaf node's queue of copies waiting for the
// backbone: file storage, each copy removed once forwarded (work queue),
// de-duplicated like the inbox so a retried post is queued once.
func outboxStreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        OutboxStream,
		Description: "IANT: copies posted at this state, waiting to be forwarded to the backbone",
		Subjects:    []string{outboxRoot + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Discard:     jetstream.DiscardNew,
		Storage:     jetstream.FileStorage,
		Replicas:    1,
		MaxMsgSize:  MaxMsgSize,
		Duplicates:  DuplicateWindow,
	}
}

// forwardConsumerConfig is the forwarder's consumer: every queued copy,
// one at a time, in order; a copy is acked only once the backbone stored
// it.
func forwardConsumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       forwardConsumer,
		Description:   "IANT: forwards queued copies to the backbone",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       forwardAckWait,
		MaxDeliver:    -1,
		MaxAckPending: 1,
	}
}

// keptDirectoryStreamConfig keeps the last directory entry read per state.
func keptDirectoryStreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              KeptDirectoryStream,
		Description:       "IANT: the last directory entry read from the backbone, per state",
		Subjects:          []string{keptRoot + ".*"},
		Storage:           jetstream.FileStorage,
		Replicas:          1,
		MaxMsgsPerSubject: 1,
		MaxMsgSize:        64 << 10,
		AllowDirect:       true,
	}
}

// provisionLeaf creates the streams and the consumer of the leaf's own
// JetStream; the node is the only user there.
func (c *Client) provisionLeaf(ctx context.Context) error {
	if _, err := c.local.CreateOrUpdateStream(ctx, outboxStreamConfig()); err != nil {
		return fmt.Errorf("backbone: leaf stream %s: %w", OutboxStream, err)
	}
	if _, err := c.local.CreateOrUpdateConsumer(ctx, OutboxStream, forwardConsumerConfig()); err != nil {
		return fmt.Errorf("backbone: leaf consumer %s: %w", forwardConsumer, err)
	}
	if _, err := c.local.CreateOrUpdateStream(ctx, keptDirectoryStreamConfig()); err != nil {
		return fmt.Errorf("backbone: leaf stream %s: %w", KeptDirectoryStream, err)
	}
	return nil
}

// queueCopy stores a copy in the leaf's outbox and returns the local
// acknowledgement, the commit point at the state; the forwarder takes it
// to the backbone.
func (c *Client) queueCopy(ctx context.Context, recipient, origin, id string, data []byte) (PubAck, error) {
	subj := outboxSubject(recipient, origin, id)
	ack, err := c.publishTo(ctx, c.local, subj, data, jetstream.WithMsgID(msgID(recipient, id)), jetstream.WithExpectStream(OutboxStream))
	if err != nil {
		return PubAck{}, publishErr(subj, err)
	}
	c.log.Debug("copy queued for the backbone", "recipient", recipient, "bulletin_id", id, "seq", ack.Sequence, "duplicate", ack.Duplicate)
	return PubAck{Stream: ack.Stream, Seq: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// OutboxPending returns how many copies wait in the leaf's outbox to be
// forwarded to the backbone (the one being forwarded included); 0 for a
// client connected to the backbone directly.
func (c *Client) OutboxPending(ctx context.Context) (uint64, error) {
	if c.leaf == nil {
		return 0, nil
	}
	if c.isClosing() {
		return 0, ErrClosed
	}
	st, err := c.local.Stream(ctx, OutboxStream)
	if err != nil {
		return 0, fmt.Errorf("backbone: outbox: %w", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("backbone: outbox: %w", err)
	}
	return info.State.Msgs, nil
}

// forward runs until the client closes: it takes the oldest queued copy,
// publishes it to the backbone's inbox under the same Nats-Msg-Id and acks
// it locally only after the backbone acknowledged it. One copy is in
// flight at a time, so the backbone stores them in the order they were
// queued. A copy sent again after a crash or a lost acknowledgement is
// stored once: the backbone de-duplicates within [DuplicateWindow].
func (c *Client) forward() {
	ctx := c.life
	wait := newBackoff()
	for {
		cons, err := c.local.Consumer(ctx, OutboxStream, forwardConsumer)
		for err == nil {
			wait.reset()
			err = c.forwardNext(ctx, cons)
		}
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("outbox forwarder interrupted, retrying", "err", err)
		if !wait.sleep(ctx) {
			return
		}
	}
}

// forwardNext waits for the next queued copy (up to [pollInterval]) and
// forwards it. It returns an error only when the outbox itself failed.
func (c *Client) forwardNext(ctx context.Context, cons jetstream.Consumer) error {
	pctx, cancel := context.WithTimeout(ctx, pollInterval)
	jm, err := cons.Next(jetstream.FetchContext(pctx))
	cancel()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, jetstream.ErrNoMessages), errors.Is(err, nats.ErrTimeout):
		return nil // nothing queued
	case err != nil:
		return err
	}
	subj, err := inboxSubjectOf(jm.Subject())
	if err != nil {
		// Only queueCopy writes here, so this cannot happen.
		c.log.Error("malformed outbox copy dropped", "subject", jm.Subject(), "err", err)
		return jm.Term()
	}
	log := c.log.With("subject", subj)
	stopKeepAlive := keepAlive(forwardAckWait/3, jm)
	err = c.sendUntilAcked(ctx, subj, jm)
	stopKeepAlive()
	if err != nil {
		// Stopping: hand the copy back for the next run to take at once.
		_ = jm.Nak()
		return err
	}
	if err := c.ack(ctx, jm); err != nil {
		return fmt.Errorf("ack forwarded copy: %w", err)
	}
	log.Debug("copy forwarded")
	return nil
}

// sendUntilAcked publishes a queued copy to the backbone until it is
// acknowledged or ctx ends, waiting between attempts (up to 2 s) while the
// link is cut or the backbone does not answer.
func (c *Client) sendUntilAcked(ctx context.Context, subj string, jm jetstream.Msg) error {
	id := jm.Headers().Get(jetstream.MsgIDHeader)
	wait := newBackoff()
	for {
		ack, err := c.publishTo(ctx, c.js, subj, jm.Data(), jetstream.WithMsgID(id), jetstream.WithExpectStream(InboxStream))
		if err == nil {
			if !wait.first() {
				c.log.Info("queued copy forwarded after waiting", "subject", subj, "seq", ack.Sequence, "duplicate", ack.Duplicate)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if wait.first() {
			c.log.Warn("queued copy not forwarded yet; retrying until the backbone takes it", "subject", subj, "err", err)
		}
		if !wait.sleep(ctx) {
			return ctx.Err()
		}
	}
}

// keepEntry stores the directory entry of state read from the backbone in
// the leaf, unless it is the one already kept.
func (c *Client) keepEntry(ctx context.Context, state string, data []byte) {
	c.keptMu.Lock()
	same := string(c.kept[state]) == string(data)
	c.keptMu.Unlock()
	if same {
		return
	}
	subj := keptSubject(state)
	if _, err := c.publishTo(ctx, c.local, subj, data, jetstream.WithExpectStream(KeptDirectoryStream)); err != nil {
		c.log.Warn("directory entry not kept at the leaf", "state", state, "err", err)
		return
	}
	c.keptMu.Lock()
	c.kept[state] = data
	c.keptMu.Unlock()
}

// keptEntry returns the directory entry of state last kept at the leaf.
func (c *Client) keptEntry(ctx context.Context, state string) ([]byte, error) {
	st, err := c.local.Stream(ctx, KeptDirectoryStream)
	if err != nil {
		return nil, err
	}
	m, err := st.GetLastMsgForSubject(ctx, keptSubject(state))
	if err != nil {
		return nil, err
	}
	return m.Data, nil
}

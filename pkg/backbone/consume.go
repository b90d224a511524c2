package backbone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/identity"
)

// Consumer loop timings.
const (
	// pollInterval bounds one pull request; the server sends heartbeats
	// meanwhile, so a lost pull request is noticed within two of them and
	// asked for again; after maxLostPulls in a row the consumer is looked
	// up afresh.
	pollInterval = 30 * time.Second
	heartbeat    = time.Second
	maxLostPulls = 3
	// firstBackoff and maxBackoff bound the wait between attempts to find
	// the consumer (not provisioned yet, server unreachable).
	firstBackoff = 50 * time.Millisecond
	maxBackoff   = 2 * time.Second
	// ackTimeout bounds one attempt to have an ack confirmed (attempts are
	// repeated, and a repeated ack is confirmed too), and drainTimeout the
	// wait for copies already on their way when a pull stops.
	ackTimeout   = 2 * time.Second
	drainTimeout = 2 * time.Second
)

// Handler processes one copy from the node's inbox. Returning nil acks the
// copy (and waits until the server confirmed the ack); an error wrapping
// [ErrReject] terminates it, so it is never redelivered; any other error
// has it redelivered after a delay ([ClientConfig.RetryDelay]). The ctx
// ends when ConsumeInbox's ctx ends or the client closes.
type Handler func(ctx context.Context, m Msg) error

// Msg is one copy delivered from the node's inbox (or, from
// [Client.ConsumeEvents], one receipt: see there).
type Msg struct {
	// Subject is the full subject, [InboxSubject](Recipient, Origin, ID).
	Subject string
	// Recipient is the state whose inbox this is (the node's own state).
	Recipient string
	// Origin is the state that published the copy; the server allows each
	// state node to publish only as its own origin.
	Origin string
	// ID is the bulletin id.
	ID string
	// Data is the copy's payload.
	Data []byte
	// StreamSeq is the copy's sequence in [InboxStream].
	StreamSeq uint64
	// NumDelivered counts deliveries of this copy, 1 the first time.
	NumDelivered uint64
	// Published is when the server stored the copy.
	Published time.Time
}

// ConsumeInbox delivers the copies in this state node's inbox to h, one at a
// time and in stream order, until ctx ends (it then returns nil) or the
// client closes ([ErrClosed]). It reads only the node's own durable consumer
// created by [Client.Provision], so after a restart it resumes after the
// last acked copy. If the consumer does not exist yet, or the server is
// unreachable, it waits and retries with backoff. Only state nodes have an
// inbox ([ErrForbidden]). Several calls on one client (or several nodes of
// one state) share the consumer; order then holds across them only in
// that one copy is in flight at a time.
func (c *Client) ConsumeInbox(ctx context.Context, h Handler) error {
	if h == nil {
		panic("backbone: ConsumeInbox with nil handler")
	}
	if c.self.Role != identity.RoleNode {
		return fmt.Errorf("%w: %s has no inbox", ErrForbidden, c.self)
	}
	return c.run(ctx, source{stream: InboxStream, consumer: InboxConsumer(c.self.State), toMsg: c.inboxMsg}, h)
}

// run registers a consumer loop with the client and pulls src until ctx
// ends (nil) or the client closes ([ErrClosed]).
func (c *Client) run(ctx context.Context, src source, h Handler) error {
	return c.loop(ctx, src, func(ctx context.Context, cons jetstream.Consumer) error {
		return c.pull(ctx, src, cons, h)
	})
}

// loop registers a consumer loop with the client and runs pull on src's
// consumer until ctx ends (nil) or the client closes ([ErrClosed]).
func (c *Client) loop(ctx context.Context, src source, pull func(context.Context, jetstream.Consumer) error) error {
	ctx, leave, err := c.enterLoop(ctx)
	if err != nil {
		return err
	}
	defer leave()
	c.consume(ctx, src, pull)
	if c.life.Err() != nil || c.nc.IsClosed() {
		return ErrClosed
	}
	return nil
}

// consume attaches to the node's consumer and pulls from it, again and
// again with backoff, until ctx ends or the connection is closed for good.
func (c *Client) consume(ctx context.Context, src source, pull func(context.Context, jetstream.Consumer) error) {
	name := src.consumer
	wait := newBackoff()
	for {
		cons, err := c.js.Consumer(ctx, src.stream, name)
		if err == nil {
			wait.reset()
			c.log.Info("inbox consumer attached", "consumer", name)
			err = pull(ctx, cons)
		}
		switch {
		case ctx.Err() != nil, c.nc.IsClosed():
			return
		case errors.Is(err, jetstream.ErrStreamNotFound), errors.Is(err, jetstream.ErrConsumerNotFound):
			c.log.Debug("inbox not provisioned yet, waiting", "consumer", name)
		case wait.first():
			c.log.Warn("inbox consumer interrupted, retrying", "consumer", name, "err", err)
		default:
			c.log.Debug("inbox consumer still unavailable, retrying", "consumer", name, "err", err)
		}
		if !wait.sleep(ctx) {
			return
		}
	}
}

// pull hands the consumer's copies to h one at a time until ctx ends or the
// iterator fails. A copy received but not handled is handed back at once
// rather than left to time out.
//
// Under heavy load the nats.go v1.55 iterator was seen, rarely, to stop
// asking for copies after one (no pull request outstanding: it may skip a
// request while it believes the previous one is still being sent). Missing
// heartbeats reveal that within two heartbeats, and the iterator asks
// again; so heartbeats are short.
func (c *Client) pull(ctx context.Context, src source, cons jetstream.Consumer, h Handler) error {
	p, err := c.openPull(src, cons, 1)
	if err != nil {
		return err
	}
	for {
		jm, err := p.next(ctx)
		switch {
		case err == nil && ctx.Err() != nil:
			err = errHandBack
		case err == nil:
			err = c.handle(ctx, src, jm, h)
		}
		if err == nil {
			continue
		}
		// Stop the pull request before handing a copy back, or the server
		// would redeliver it to this very request.
		c.drain(p.it)
		if errors.Is(err, errHandBack) {
			c.handBack(jm)
			return ctx.Err()
		}
		return err
	}
}

// puller is a pull iterator over one consumer, asking again when its pull
// request was lost (see [Client.pull]).
type puller struct {
	c    *Client
	src  source
	it   jetstream.MessagesContext
	lost int // pull requests lost in a row
}

// openPull starts pulling up to max messages at a time from cons.
func (c *Client) openPull(src source, cons jetstream.Consumer, max int) (*puller, error) {
	it, err := cons.Messages(
		jetstream.PullMaxMessages(max),
		jetstream.PullExpiry(pollInterval),
		jetstream.PullHeartbeat(heartbeat),
	)
	if err != nil {
		return nil, err
	}
	return &puller{c: c, src: src, it: it}, nil
}

// next returns the next message, asking again (up to maxLostPulls times in
// a row) when missing heartbeats show the pull request is gone: a lost
// connection, or a request the client failed to send.
func (p *puller) next(ctx context.Context) (jetstream.Msg, error) {
	for {
		jm, err := p.it.Next(jetstream.NextContext(ctx))
		if errors.Is(err, jetstream.ErrNoHeartbeat) && ctx.Err() == nil && p.lost < maxLostPulls {
			p.lost++
			p.c.log.Info("pull request lost, asking again", "consumer", p.src.consumer)
			continue
		}
		if err == nil {
			p.lost = 0
		}
		return jm, err
	}
}

// errHandBack tells pull that handle was stopped with the copy unsettled.
var errHandBack = errors.New("stopping: hand the copy back")

// drain stops the iterator so that copies already on their way are still
// received (the subscription is drained, not dropped) and hands them back.
// Dropping one would hold the inbox back for [AckWait].
func (c *Client) drain(it jetstream.MessagesContext) {
	if !c.nc.IsConnected() {
		it.Stop() // nothing more can arrive, nor be handed back
		return
	}
	it.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	for {
		jm, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			it.Stop()
			return
		}
		c.handBack(jm)
	}
}

// handBack naks a copy without delay, for the next session to take.
func (c *Client) handBack(jm jetstream.Msg) {
	if err := jm.Nak(); err != nil {
		c.log.Warn("inbox message not handed back; redelivered after ack wait", "subject", jm.Subject(), "err", err)
	}
}

// handle runs h on one copy and settles it: ack, term or nak with delay.
// It returns errHandBack if h failed because ctx ended, and another error
// only when the copy could not be settled.
func (c *Client) handle(ctx context.Context, src source, jm jetstream.Msg, h Handler) error {
	m, err := src.toMsg(jm)
	if err != nil {
		c.log.Warn("malformed inbox message terminated", "subject", jm.Subject(), "err", err)
		return jm.Term()
	}
	log := c.log.With("subject", m.Subject, "seq", m.StreamSeq, "delivered", m.NumDelivered)
	stopKeepAlive := keepAlive(AckWait/3, jm)
	herr := h(ctx, m)
	stopKeepAlive()

	switch {
	case herr == nil:
		if err := c.ack(ctx, jm); err != nil {
			return fmt.Errorf("ack %s: %w", m.Subject, err)
		}
		log.Debug("inbox message acked")
	case ctx.Err() != nil && !errors.Is(herr, ErrReject):
		return errHandBack // stopping: the next session takes it at once
	default:
		return c.refuseOrRetry(jm, m, herr, log)
	}
	return nil
}

// refuseOrRetry settles a message whose handler failed with herr: a
// rejection terminates it for good, any other error has it redelivered
// after a delay that grows with its deliveries.
func (c *Client) refuseOrRetry(jm jetstream.Msg, m Msg, herr error, log *slog.Logger) error {
	if errors.Is(herr, ErrReject) {
		log.Warn("message rejected", "err", herr)
		if err := jm.TermWithReason(herr.Error()); err != nil {
			return fmt.Errorf("term %s: %w", m.Subject, err)
		}
		return nil
	}
	delay := c.redeliveryDelay(m.NumDelivered)
	log.Warn("message failed, will be redelivered", "err", herr, "delay", delay)
	if err := jm.NakWithDelay(delay); err != nil {
		return fmt.Errorf("nak %s: %w", m.Subject, err)
	}
	return nil
}

// ack acknowledges a handled copy and waits for the server to confirm,
// retrying while ctx lasts: an ack lost to a server restart would hold the
// inbox back for [AckWait]. The first attempt runs even if ctx has just
// ended, so a copy handled right before a stop is not delivered again.
func (c *Client) ack(ctx context.Context, jm jetstream.Msg) error {
	wait := newBackoff()
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	for {
		err := jm.DoubleAck(actx)
		cancel()
		if err == nil || errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			return nil
		}
		c.log.Debug("ack not confirmed, retrying", "subject", jm.Subject(), "err", err)
		if !wait.sleep(ctx) {
			return err
		}
		actx, cancel = context.WithTimeout(ctx, ackTimeout)
	}
}

// toMsg reads the subject and JetStream metadata of a delivered copy and
// checks it is addressed to this node's state.
func (c *Client) toMsg(jm jetstream.Msg) (Msg, error) {
	md, err := jm.Metadata()
	if err != nil {
		return Msg{}, err
	}
	recipient, origin, id, err := ParseInboxSubject(jm.Subject())
	if err != nil {
		return Msg{}, err
	}
	if recipient != c.self.State {
		return Msg{}, fmt.Errorf("copy for %s in the inbox of %s", recipient, c.self.State)
	}
	return Msg{
		Subject: jm.Subject(), Recipient: recipient, Origin: origin, ID: id, Data: jm.Data(),
		StreamSeq: md.Sequence.Stream, NumDelivered: md.NumDelivered, Published: md.Timestamp,
	}, nil
}

// inboxMsg is toMsg for the inbox consumer: it records the backlog
// ([Client.InboxBacklog]) too.
func (c *Client) inboxMsg(jm jetstream.Msg) (Msg, error) {
	m, err := c.toMsg(jm)
	if err == nil {
		if md, merr := jm.Metadata(); merr == nil && md.NumDelivered == 1 {
			c.observeBacklog(md.NumPending, md.Timestamp)
		}
	}
	return m, err
}

// redeliveryDelay doubles the retry delay with each delivery, up to a minute.
func (c *Client) redeliveryDelay(delivered uint64) time.Duration {
	d := c.retryDelay
	for i := uint64(1); i < delivered && d < maxRetryDelay; i++ {
		d *= 2
	}
	return min(d, maxRetryDelay)
}

// keepAlive tells the server every interval that jms are still being
// worked on, so they are not redelivered while a handler runs; the
// returned func stops it and waits.
func keepAlive(every time.Duration, jms ...jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, jm := range jms {
					_ = jm.InProgress() // best effort: a miss means a redelivery
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// backoff doubles a wait from firstBackoff up to maxBackoff.
type backoff struct{ next time.Duration }

func newBackoff() *backoff { return &backoff{next: firstBackoff} }

func (b *backoff) reset() { b.next = firstBackoff }

// first reports whether no wait has happened since the last reset.
func (b *backoff) first() bool { return b.next == firstBackoff }

// sleep waits for the next delay; it returns false if ctx ended first.
func (b *backoff) sleep(ctx context.Context) bool {
	t := time.NewTimer(b.next)
	defer t.Stop()
	b.next = min(2*b.next, maxBackoff)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

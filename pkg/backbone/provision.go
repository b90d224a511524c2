package backbone

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// Limits of the inbox stream and its consumers.
const (
	// MaxMsgSize is the largest copy the inbox stream stores, headers
	// included: 1 MiB, the NATS default max_payload. Sealed bulletins for
	// all 35 states fit (about 40 KB of wrapped keys); attachments belong
	// in an object store.
	MaxMsgSize = 1 << 20
	// MaxDataSize is the largest payload [Client.PublishInbox] takes:
	// [MaxMsgSize] less room for the headers it adds.
	MaxDataSize = MaxMsgSize - 1024
	// DuplicateWindow is how long the stream remembers a Nats-Msg-Id: far
	// longer than any publish retry, so a retried copy is stored once.
	DuplicateWindow = 24 * time.Hour
	// AckWait is how long a delivered copy may stay unacknowledged before
	// the server redelivers it (ConsumeInbox extends it while a handler
	// runs).
	AckWait = 10 * time.Second
	// maxAckPending is 1 so that a state's copies reach its handler in
	// stream order even across redeliveries: a copy that was nak'ed (or
	// lost in flight) holds back the next until it is acked or termed.
	maxAckPending = 1
	// provisionTimeout bounds [Client.Provision] when its ctx has no
	// deadline, and provisionAttemptTimeout each of its attempts.
	provisionTimeout        = 2 * time.Minute
	provisionAttemptTimeout = 10 * time.Second
	// maxWaiting bounds the pull requests a consumer queues.
	maxWaiting = 16
)

// inboxStreamConfig is the inbox stream: file storage, each copy kept for
// maxAge ([Retention.Inbox]), de-duplicated over a day, and no message
// delete, no purge, no rollup: age is the one way a copy leaves it.
// DiscardNew refuses new copies rather than dropping old ones if a size
// limit is ever reached. Atomic batches are allowed: a node publishes the
// copies of its outbox as one ([Client.PublishInboxBatch]).
func inboxStreamConfig(replicas int, maxAge time.Duration) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        InboxStream,
		Description: "IANT: one copy of each bulletin per recipient state",
		Subjects:    []string{inboxSubjects},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		MaxMsgSize:  MaxMsgSize,
		MaxAge:      maxAge,
		Duplicates:  DuplicateWindow,
		DenyDelete:  true,
		DenyPurge:   true,
		AllowRollup: false,
		// Stores every copy of a batch or none, and syncs once for all.
		AllowAtomicPublish: true,
	}
}

// inboxConsumerConfig is state's durable pull consumer: every copy
// addressed to the state, from the start, acked one by one.
func inboxConsumerConfig(state string, replicas int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       InboxConsumer(state),
		Description:   "IANT: inbox of " + state,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       AckWait,
		MaxDeliver:    -1, // transient failures retry forever; rejects are termed
		FilterSubject: inboxFilter(state),
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
		MaxAckPending: maxAckPending,
		MaxWaiting:    maxWaiting,
		Replicas:      replicas,
	}
}

// Provision creates or updates the streams, with the retention of
// [ClientConfig.Retention], and, for each state in
// states (member state codes, e.g. region.Codes()), two durable pull
// consumers: its inbox consumer and its replay consumer ([ReplayConsumer]).
// It is idempotent and only the secretariat may call it ([ErrForbidden]).
// Consumers of states not listed are left alone. Errors wrap
// [ErrForbidden], [ErrInvalidSubject] (a code that is not a member state),
// [ErrClosed] or the server's answer.
func (c *Client) Provision(ctx context.Context, states []string) error {
	if c.self.Role != identity.RoleSecretariatNode {
		return fmt.Errorf("%w: %s may not provision the backbone", ErrForbidden, c.self)
	}
	for _, s := range states {
		if !region.IsMember(s) {
			return fmt.Errorf("%w: %q is not a member state", ErrInvalidSubject, s)
		}
	}
	return c.provisionRetried(ctx, func(ctx context.Context) error { return c.provisionOnce(ctx, states) })
}

// provisionRetried runs once until it succeeds, ctx ends or the server
// refuses for good. A cluster that has just started answers only once it
// has elected a meta leader, and a request sent before that may get no
// answer at all: each attempt is bounded, and a failed one is tried again.
func (c *Client) provisionRetried(ctx context.Context, once func(context.Context) error) error {
	if c.isClosing() {
		return ErrClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, provisionTimeout)
		defer cancel()
	}
	wait := newBackoff()
	for {
		actx, cancel := context.WithTimeout(ctx, provisionAttemptTimeout)
		err := once(actx)
		cancel()
		if err == nil || errors.Is(err, ErrClosed) || errors.Is(err, nats.ErrPermissionViolation) || ctx.Err() != nil {
			return err
		}
		c.log.Warn("provisioning the backbone failed, trying again", "err", err)
		if !wait.sleep(ctx) {
			return err
		}
	}
}

// provisionOnce makes one attempt at [Client.Provision].
func (c *Client) provisionOnce(ctx context.Context, states []string) error {
	if _, err := c.js.CreateOrUpdateStream(ctx, inboxStreamConfig(c.replicas, c.retention.Inbox)); err != nil {
		return c.provisionErr("stream "+InboxStream, err)
	}
	if _, err := c.js.CreateOrUpdateStream(ctx, directoryStreamConfig(c.replicas)); err != nil {
		return c.provisionErr("stream "+DirectoryStream, err)
	}
	if err := c.provisionEvents(ctx); err != nil {
		return err
	}
	if err := c.provisionWitness(ctx); err != nil {
		return err
	}
	states = slices.Compact(slices.Sorted(slices.Values(states)))
	for _, s := range states {
		if _, err := c.js.CreateOrUpdateConsumer(ctx, InboxStream, inboxConsumerConfig(s, c.replicas)); err != nil {
			return c.provisionErr("consumer "+InboxConsumer(s), err)
		}
		if _, err := c.js.CreateOrUpdateConsumer(ctx, InboxStream, replayConsumerConfig(s, c.replicas)); err != nil {
			return c.provisionErr("consumer "+ReplayConsumer(s), err)
		}
	}
	c.log.Info("backbone provisioned", "stream", InboxStream, "states", len(states),
		"inbox_retention", c.retention.Inbox, "event_retention", c.retention.Events)
	return nil
}

func (c *Client) provisionErr(what string, err error) error {
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionDraining) {
		return fmt.Errorf("%w: provision %s", ErrClosed, what)
	}
	return fmt.Errorf("backbone: provision %s: %w", what, err)
}

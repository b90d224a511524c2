package backbone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/identity"
)

// EventStream holds the signed audit receipts every node emits (posted,
// released, delivered, read, acknowledged, refused), on subjects
// iant.event.<scope>.<id>: scope is the emitting node's state, or
// "SECRETARIAT". Only the secretariat reads it, through [EventConsumer].
const EventStream = "IANT_EVENTS"

// EventConsumer is the durable name of the secretariat's one consumer on
// [EventStream].
const EventConsumer = "audit"

// MaxEventSize is the largest receipt [Client.PublishEvent] takes: an event
// of at most 8 KiB, a signature and a short certificate chain.
const MaxEventSize = 64 << 10

const eventRoot = "iant.event" // iant.event.<scope>.<id>

// EventSubject returns the subject of the receipt id emitted by a node of
// scope, a state code or "SECRETARIAT".
func EventSubject(scope, id string) string { return eventRoot + "." + scope + "." + id }

// eventScope is the subject scope of p's receipts.
func eventScope(p identity.Principal) string {
	if p.Role == identity.RoleSecretariatNode {
		return secretariatScope
	}
	return p.State
}

// source is a durable consumer a client pulls from, and how it reads the
// messages it delivers.
type source struct {
	stream, consumer string
	toMsg            func(jetstream.Msg) (Msg, error)
}

// eventStreamConfig keeps every receipt for maxAge ([Retention.Events]):
// file storage, de-duplicated over a day by event id, evidence that cannot
// be deleted or purged.
func eventStreamConfig(replicas int, maxAge time.Duration) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        EventStream,
		Description: "IANT: signed audit receipts of every node",
		Subjects:    []string{eventRoot + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		MaxMsgSize:  MaxEventSize,
		MaxAge:      maxAge,
		Duplicates:  DuplicateWindow,
		DenyDelete:  true,
		DenyPurge:   true,
		// A node publishes a round of its receipt outbox as one atomic
		// batch ([Client.PublishEventBatch]).
		AllowAtomicPublish: true,
	}
}

// eventConsumerConfig is the secretariat's durable pull consumer of every
// receipt, from the start, acked one by one. Up to [MaxEventBatch]
// receipts are out at once, so that the secretariat can log them in
// batches; the audit log does not depend on their order.
func eventConsumerConfig(replicas int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       EventConsumer,
		Description:   "IANT: the secretariat's audit log input",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       AckWait,
		MaxDeliver:    -1,
		FilterSubject: eventRoot + ".>",
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
		MaxAckPending: MaxEventBatch,
		MaxWaiting:    maxWaiting,
		Replicas:      replicas,
	}
}

// eventPermissions are what a state node may do with audit data: publish
// receipts under its own state only, and read the published checkpoints.
func eventPermissions(state string) []string {
	return append([]string{eventRoot + "." + state + ".*"}, checkpointReadPermissions()...)
}

// secretariatEventPermissions let the secretariat provision the event and
// checkpoint streams, pull and ack its own consumer, publish its own
// receipts and the checkpoints. It may not delete or purge either stream.
func secretariatEventPermissions() []string {
	cons := EventStream + "." + EventConsumer
	return append([]string{
		eventRoot + "." + secretariatScope + ".*",
		jsAPI + "STREAM.CREATE." + EventStream,
		jsAPI + "STREAM.UPDATE." + EventStream,
		jsAPI + "STREAM.INFO." + EventStream,
		jsAPI + "CONSUMER.CREATE." + EventStream + ".>",
		jsAPI + "CONSUMER.INFO." + cons,
		jsAPI + "CONSUMER.MSG.NEXT." + cons,
		jsAck + cons + ".>",
		checkpointSubject,
		jsAPI + "STREAM.CREATE." + CheckpointStream,
		jsAPI + "STREAM.UPDATE." + CheckpointStream,
	}, checkpointReadPermissions()...)
}

// provisionEvents creates or updates the event stream, its consumer and
// the checkpoint stream.
func (c *Client) provisionEvents(ctx context.Context) error {
	if _, err := c.js.CreateOrUpdateStream(ctx, eventStreamConfig(c.replicas, c.retention.Events)); err != nil {
		return c.provisionErr("stream "+EventStream, err)
	}
	if _, err := c.js.CreateOrUpdateConsumer(ctx, EventStream, eventConsumerConfig(c.replicas)); err != nil {
		return c.provisionErr("consumer "+EventConsumer, err)
	}
	if _, err := c.js.CreateOrUpdateStream(ctx, checkpointStreamConfig(c.replicas, c.retention.Checkpoints)); err != nil {
		return c.provisionErr("stream "+CheckpointStream, err)
	}
	return nil
}

// PublishEvent stores the signed receipt data under the event id and
// returns once the server has synced it. It sets no Nats-Msg-Id, so no
// other node can have it dropped as a duplicate of its own message; a
// receipt published again (a retry) is stored again, and the audit log,
// idempotent by event, counts it once. The subject is [EventSubject] of the
// client's own scope; the server lets no node publish under another's.
// Errors wrap [ErrInvalidSubject] (id is not a token), [ErrTooLarge],
// [ErrNotProvisioned], [ErrClosed] or the context's error; without a ctx
// deadline a 5 s timeout applies.
func (c *Client) PublishEvent(ctx context.Context, id string, data []byte) (PubAck, error) {
	if err := checkToken(id); err != nil {
		return PubAck{}, fmt.Errorf("%w: event id: %v", ErrInvalidSubject, err)
	}
	if len(data) > MaxEventSize {
		return PubAck{}, fmt.Errorf("%w: receipt of %d bytes, limit %d", ErrTooLarge, len(data), MaxEventSize)
	}
	if c.isClosing() {
		return PubAck{}, ErrClosed
	}
	subj := EventSubject(eventScope(c.self), id)
	// No Nats-Msg-Id: JetStream de-duplicates by it across the whole
	// stream, whatever the subject, so a state that published first under
	// another's (predictable) id would have the other's receipt dropped.
	// A receipt stored twice is logged once: the log is idempotent.
	ack, err := c.publish(ctx, subj, data, jetstream.WithExpectStream(EventStream))
	if err != nil {
		return PubAck{}, publishErr(subj, err)
	}
	c.log.Debug("receipt published", "subject", subj, "seq", ack.Sequence, "duplicate", ack.Duplicate)
	return PubAck{Stream: ack.Stream, Seq: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// publishErr maps a publish failure to the package's sentinels.
func publishErr(subj string, err error) error {
	switch {
	case errors.Is(err, jetstream.ErrNoStreamResponse):
		return fmt.Errorf("%w: publish %s", ErrNotProvisioned, subj)
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining):
		return fmt.Errorf("%w: publish %s", ErrClosed, subj)
	}
	return fmt.Errorf("backbone: publish %s: %w", subj, err)
}

// MaxEventBatch is the most receipts [Client.ConsumeEventBatches] hands
// over at once, and how many the event consumer lets out unacknowledged.
const MaxEventBatch = 256

// ConsumeEventBatches is [Client.ConsumeEvents] for a handler that takes
// receipts in batches: it hands h the receipts already delivered, in
// stream order, up to [MaxEventBatch] at a time, and settles each by its
// result. Receipts of one batch may be redelivered out of order after a
// failure.
func (c *Client) ConsumeEventBatches(ctx context.Context, h BatchHandler) error {
	if h == nil {
		panic("backbone: ConsumeEventBatches with nil handler")
	}
	if c.self.Role != identity.RoleSecretariatNode {
		return fmt.Errorf("%w: %s may not read the audit events", ErrForbidden, c.self)
	}
	return c.runBatch(ctx, source{stream: EventStream, consumer: EventConsumer, toMsg: toEventMsg}, MaxEventBatch, h)
}

// ConsumeEvents delivers every receipt on [EventStream] to h, one at a
// time, until ctx ends (nil) or the client closes ([ErrClosed]), with the
// same settling rules as [Client.ConsumeInbox]: h returning nil acks, an
// error wrapping [ErrReject] terminates, any other error redelivers later.
// It reads the durable [EventConsumer], so after a restart it resumes after
// the last acked receipt; it waits while the consumer is not provisioned.
// In each [Msg], Origin is the emitting node's state ("" for the
// secretariat's own receipts), ID the event id, Recipient empty. Only the
// secretariat may consume events ([ErrForbidden]).
func (c *Client) ConsumeEvents(ctx context.Context, h Handler) error {
	if h == nil {
		panic("backbone: ConsumeEvents with nil handler")
	}
	if c.self.Role != identity.RoleSecretariatNode {
		return fmt.Errorf("%w: %s may not read the audit events", ErrForbidden, c.self)
	}
	return c.run(ctx, source{stream: EventStream, consumer: EventConsumer, toMsg: toEventMsg}, h)
}

// toEventMsg reads the subject and metadata of a delivered receipt.
func toEventMsg(jm jetstream.Msg) (Msg, error) {
	md, err := jm.Metadata()
	if err != nil {
		return Msg{}, err
	}
	scope, id, err := parseEventSubject(jm.Subject())
	if err != nil {
		return Msg{}, err
	}
	if scope == secretariatScope {
		scope = ""
	}
	return Msg{
		Subject: jm.Subject(), Origin: scope, ID: id, Data: jm.Data(),
		StreamSeq: md.Sequence.Stream, NumDelivered: md.NumDelivered, Published: md.Timestamp,
	}, nil
}

// parseEventSubject splits "iant.event.<scope>.<id>".
func parseEventSubject(subj string) (scope, id string, err error) {
	rest, ok := strings.CutPrefix(subj, eventRoot+".")
	toks := strings.Split(rest, ".")
	if !ok || len(toks) != 2 {
		return "", "", fmt.Errorf("%w: %q is not an event subject", ErrInvalidSubject, subj)
	}
	for _, t := range toks {
		if err := checkToken(t); err != nil {
			return "", "", fmt.Errorf("%w: %q: %v", ErrInvalidSubject, subj, err)
		}
	}
	return toks[0], toks[1], nil
}

package backbone

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// EventData is one receipt of a batch: the arguments of
// [Client.PublishEvent].
type EventData struct {
	ID   string
	Data []byte
}

// MaxEventBatchPublish is the most receipts [Client.PublishEventBatch]
// takes: well under the server's default limit of an atomic batch (1000).
const MaxEventBatchPublish = 256

// PublishEventBatch stores receipts on [EventStream] as one JetStream
// atomic batch, in their order, under the client's own scope, and returns
// once the server has synced all of them, with each receipt's PubAck:
// either every receipt is stored or none is. One round trip instead of one
// per receipt. Like [Client.PublishEvent] it sets no Nats-Msg-Id: a batch
// published again (a retry after a lost acknowledgement) is stored again,
// and the audit log, idempotent by event, counts each receipt once. A
// stream that does not allow atomic publish (provisioned by an earlier
// version) refuses the batch with [ErrBatchRefused], and
// [Client.EventBatchEnabled] then reports false for a minute: publish the
// receipts one by one. Errors otherwise wrap those of PublishEvent. At
// most [MaxEventBatchPublish] receipts; a batch of one is a plain publish.
func (c *Client) PublishEventBatch(ctx context.Context, events []EventData) ([]PubAck, error) {
	switch {
	case len(events) == 0:
		return nil, nil
	case len(events) > MaxEventBatchPublish:
		return nil, fmt.Errorf("%w: %d receipts in one batch, at most %d", ErrTooLarge, len(events), MaxEventBatchPublish)
	case len(events) == 1:
		ack, err := c.PublishEvent(ctx, events[0].ID, events[0].Data)
		if err != nil {
			return nil, err
		}
		return []PubAck{ack}, nil
	}
	scope := eventScope(c.self)
	msgs := make([]*nats.Msg, len(events))
	for i, e := range events {
		if err := checkToken(e.ID); err != nil {
			return nil, fmt.Errorf("%w: event id: %v", ErrInvalidSubject, err)
		}
		if len(e.Data) > MaxEventSize {
			return nil, fmt.Errorf("%w: receipt of %d bytes, limit %d", ErrTooLarge, len(e.Data), MaxEventSize)
		}
		m := nats.NewMsg(EventSubject(scope, e.ID))
		m.Data = e.Data
		m.Header.Set(expectStreamHdr, EventStream)
		msgs[i] = m
	}
	return c.publishBatch(ctx, msgs, &c.eventBatchOff, "receipts")
}

// EventBatchEnabled reports whether [Client.PublishEventBatch] is worth
// trying: false for a minute after the event stream answered that it does
// not allow atomic publish.
func (c *Client) EventBatchEnabled() bool {
	return time.Now().UnixNano() >= c.eventBatchOff.Load()
}

package backbone

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream atomic batch publish (ADR-50, nats-server 2.12+; facts.md §9):
// the copies of a batch carry Nats-Batch-Id and Nats-Batch-Sequence, the
// last one Nats-Batch-Commit, and the server stores all of them or none.
// On a single server with sync_interval always it writes the batch and
// syncs once before it acknowledges the commit (nats-server 2.15
// "coalesceSync"); in a cluster the batch is one replicated proposal.
const (
	batchIDHeader     = "Nats-Batch-Id"
	batchSeqHeader    = "Nats-Batch-Sequence"
	batchCommitHeader = "Nats-Batch-Commit"
	expectStreamHdr   = "Nats-Expected-Stream"

	// MaxBatchCopies is the most copies [Client.PublishInboxBatch] takes:
	// the server's default limit of an atomic batch (1000), with room.
	MaxBatchCopies = 512
	// errCodeAtomicDisabled is the server's answer when the stream does
	// not allow atomic publish.
	errCodeAtomicDisabled = 10174
)

// ErrBatchRefused is returned (wrapped) by [Client.PublishInboxBatch] when
// the server stored no copy of the batch for a reason publishing each copy
// alone would not have: the stream does not allow atomic publish, a copy
// of the batch is already stored (a retry of copies published before, so
// the whole batch is refused), too many batches are in flight, or the
// batch was abandoned. Publishing the copies one by one with
// [Client.PublishInbox] then does what is needed, duplicates included.
var ErrBatchRefused = errors.New("backbone: atomic batch refused")

// InboxCopy is one copy of a batch: the arguments of [Client.PublishInbox].
type InboxCopy struct {
	Recipient, Origin, ID string
	Data                  []byte
}

// batchReply is the server's answer to a message of an atomic batch: empty
// for a staged message, a PubAck with batch and count for the commit, or
// an error.
type batchReply struct {
	Stream string `json:"stream"`
	Seq    uint64 `json:"seq"`
	Batch  string `json:"batch"`
	Count  int    `json:"count"`
	Error  *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// PublishInboxBatch stores copies in their recipients' inboxes as one
// JetStream atomic batch, in their order, and returns once the server has
// synced all of them (one acknowledgement, one sync on a single server),
// with each copy's PubAck. Either every copy is stored or none is. The
// copies carry the Nats-Msg-Id of [Client.PublishInbox], so a batch
// refused because one of its copies is already stored ([ErrBatchRefused])
// can be published copy by copy and each is stored once. It makes one
// attempt: on a timeout the batch may or may not be stored, and
// publishing its copies again (alone or batched) is safe. Errors wrap
// those of PublishInbox or [ErrBatchRefused]. At most [MaxBatchCopies]
// copies; a batch of one is a plain publish.
func (c *Client) PublishInboxBatch(ctx context.Context, copies []InboxCopy) ([]PubAck, error) {
	switch {
	case len(copies) == 0:
		return nil, nil
	case len(copies) > MaxBatchCopies:
		return nil, fmt.Errorf("%w: %d copies in one batch, at most %d", ErrTooLarge, len(copies), MaxBatchCopies)
	case len(copies) == 1:
		cp := copies[0]
		ack, err := c.PublishInbox(ctx, cp.Recipient, cp.Origin, cp.ID, cp.Data)
		if err != nil {
			return nil, err
		}
		return []PubAck{ack}, nil
	}
	for _, cp := range copies {
		if err := c.checkPublish(cp.Recipient, cp.Origin, cp.ID, cp.Data); err != nil {
			return nil, err
		}
	}
	msgs := make([]*nats.Msg, len(copies))
	for i, cp := range copies {
		m := nats.NewMsg(InboxSubject(cp.Recipient, cp.Origin, cp.ID))
		m.Data = cp.Data
		m.Header.Set(jetstream.MsgIDHeader, msgID(cp.Recipient, cp.Origin, cp.ID, cp.Data))
		m.Header.Set(expectStreamHdr, InboxStream)
		msgs[i] = m
	}
	return c.publishBatch(ctx, msgs, &c.batchOff, "copies")
}

// publishBatch sends msgs, checked already, as one atomic batch once the
// client can publish (not closing, a leaf's link up, connected), within
// publishTimeout unless ctx has a deadline, and returns each message's
// PubAck. what names the messages in the errors and the log.
func (c *Client) publishBatch(ctx context.Context, msgs []*nats.Msg, off *atomic.Int64, what string) ([]PubAck, error) {
	if c.isClosing() {
		return nil, ErrClosed
	}
	if c.leaf != nil && !c.LeafConnected() {
		return nil, fmt.Errorf("%w: publish a batch of %s: the leaf node's link to the backbone is down", ErrUnavailable, what)
	}
	if err := c.awaitConnected(ctx); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, publishTimeout)
		defer cancel()
	}
	last, err := c.sendBatch(ctx, msgs, off)
	if err != nil {
		return nil, err
	}
	acks := make([]PubAck, len(msgs))
	first := last.Seq - uint64(len(msgs)) + 1
	for i := range acks {
		acks[i] = PubAck{Stream: last.Stream, Seq: first + uint64(i)}
	}
	c.log.Debug("batch published", "of", what, "messages", len(msgs), "last_seq", last.Seq)
	return acks, nil
}

// sendBatch sends msgs as one atomic batch: the first as a request (the
// server answers once it is staged, or with why it refuses the batch),
// the middle ones without waiting, the last as the commit request. A
// stream that does not allow atomic publish turns batches off in off for
// [batchRetryOff].
func (c *Client) sendBatch(ctx context.Context, msgs []*nats.Msg, off *atomic.Int64) (batchReply, error) {
	id := rand.Text()
	n := len(msgs)
	for i, m := range msgs {
		m.Header.Set(batchIDHeader, id)
		m.Header.Set(batchSeqHeader, strconv.Itoa(i+1))
		switch {
		case i == n-1:
			m.Header.Set(batchCommitHeader, "1")
			r, err := c.batchRequest(ctx, m, off)
			if err == nil && (r.Count != n || r.Batch != id) {
				err = fmt.Errorf("%w: commit acknowledged %d messages of batch %q, sent %d of %q", ErrBatchRefused, r.Count, r.Batch, n, id)
			}
			return r, err
		case i == 0:
			if _, err := c.batchRequest(ctx, m, off); err != nil {
				return batchReply{}, err
			}
		default:
			if err := c.nc.PublishMsg(m); err != nil {
				return batchReply{}, c.batchErr(err)
			}
		}
	}
	panic("unreachable")
}

// batchRequest sends one message of a batch and reads the server's answer.
func (c *Client) batchRequest(ctx context.Context, m *nats.Msg, off *atomic.Int64) (batchReply, error) {
	actx, cancel := context.WithTimeout(ctx, publishAttemptTimeout)
	defer cancel()
	resp, err := c.nc.RequestMsgWithContext(actx, m)
	if err != nil {
		return batchReply{}, c.batchErr(err)
	}
	var r batchReply
	if len(resp.Data) == 0 {
		return r, nil // staged
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return batchReply{}, fmt.Errorf("backbone: publish a batch: bad answer: %w", err)
	}
	if e := r.Error; e != nil {
		if e.ErrCode == quotaErrCode {
			return batchReply{}, fmt.Errorf("backbone: publish a batch: %w", throttledErr(e.Description))
		}
		if e.ErrCode == errCodeAtomicDisabled {
			off.Store(time.Now().Add(batchRetryOff).UnixNano())
		}
		return batchReply{}, fmt.Errorf("%w: %s (%d)", ErrBatchRefused, e.Description, e.ErrCode)
	}
	return r, nil
}

// batchRetryOff is how long a client whose stream refused atomic publish
// does not try it again ([Client.BatchEnabled]).
const batchRetryOff = time.Minute

// BatchEnabled reports whether [Client.PublishInboxBatch] is worth trying:
// false for a minute after the stream answered that it does not allow
// atomic publish (one provisioned by an earlier version).
func (c *Client) BatchEnabled() bool {
	return time.Now().UnixNano() >= c.batchOff.Load()
}

// batchErr maps a connection error of a batch publish.
func (c *Client) batchErr(err error) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("%w: publish a batch", ErrNotProvisioned)
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining):
		return fmt.Errorf("%w: publish a batch", ErrClosed)
	}
	return fmt.Errorf("backbone: publish a batch: %w", err)
}

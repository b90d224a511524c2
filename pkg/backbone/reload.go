package backbone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// reloadGrace bounds how long a read of the JetStream API is tried again
// while nothing answers it. A server reloading its configuration (applying
// a membership change, [ServerConfig.MembershipKey]) re-creates the
// account's JetStream imports, and for those milliseconds a request finds
// no responder ("nats: no responders available for request"); measured,
// about one read in fifteen of a tight loop across ten reloads. Without
// trying again, a post needing a directory entry then would fail for a
// change that does not concern it.
const reloadGrace = 2 * time.Second

// retryUnanswered runs read, again every 20 ms for up to [reloadGrace]
// while it fails with no responders, and returns its last result.
func retryUnanswered[T any](ctx context.Context, read func(context.Context) (T, error)) (T, error) {
	deadline := time.Now().Add(reloadGrace)
	for {
		v, err := read(ctx)
		if err == nil || !errors.Is(err, nats.ErrNoResponders) || time.Now().After(deadline) || ctx.Err() != nil {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// directGetRequest is a JetStream direct get: the message at Seq, or the
// last one on subject LastFor.
type directGetRequest struct {
	Seq     uint64 `json:"seq,omitempty"`
	LastFor string `json:"last_by_subj,omitempty"`
	// MaxBytes is always set: nats-server v2.15.2 otherwise reads the
	// server's max_pending from its options unsynchronized
	// (stream.go getDirectRequest), which races with a configuration
	// reload; it bounds nothing for one message.
	MaxBytes int `json:"max_bytes"`
}

// directLast returns the last message on subject of stream st (which
// allows direct gets), like st.GetLastMsgForSubject, with errors
// [jetstream.ErrMsgNotFound] and nats.ErrNoResponders alike.
func (c *Client) directLast(ctx context.Context, st jetstream.Stream, subject string) (*jetstream.RawStreamMsg, error) {
	return c.directGet(ctx, st, directGetRequest{LastFor: subject})
}

// directSeq returns the message at seq of stream st, like st.GetMsg.
func (c *Client) directSeq(ctx context.Context, st jetstream.Stream, seq uint64) (*jetstream.RawStreamMsg, error) {
	return c.directGet(ctx, st, directGetRequest{Seq: seq})
}

func (c *Client) directGet(ctx context.Context, st jetstream.Stream, req directGetRequest) (*jetstream.RawStreamMsg, error) {
	info := st.CachedInfo()
	if info == nil || !info.Config.AllowDirect {
		if req.LastFor != "" {
			return st.GetLastMsgForSubject(ctx, req.LastFor)
		}
		return st.GetMsg(ctx, req.Seq)
	}
	req.MaxBytes = 2 * MaxMsgSize
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	prefix := jsAPI
	if c.leaf != nil {
		prefix = jsDomainAPI
	}
	m, err := c.nc.RequestWithContext(ctx, prefix+"DIRECT.GET."+info.Config.Name, body)
	if err != nil {
		return nil, err
	}
	switch status := m.Header.Get("Status"); status {
	case "":
	case "404":
		return nil, jetstream.ErrMsgNotFound
	default:
		return nil, fmt.Errorf("direct get from %s: status %s %s", info.Config.Name, status, m.Header.Get("Description"))
	}
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("direct get from %s: sequence %q", info.Config.Name, m.Header.Get(jetstream.SequenceHeader))
	}
	return &jetstream.RawStreamMsg{Subject: m.Header.Get(jetstream.SubjectHeader), Sequence: seq, Header: m.Header, Data: m.Data}, nil
}

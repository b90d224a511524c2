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

// Limits of the membership stream.
const (
	// MaxMembershipSize bounds one signed document: a deny list of
	// thousands of entries fits.
	MaxMembershipSize = 4<<20 + 8<<10
	// DefaultMembershipPoll is how often [Client.WatchMembership] reads
	// the latest documents again, besides hearing each one published.
	DefaultMembershipPoll = 5 * time.Second
)

// ErrNoDocument is returned (wrapped) by [Client.LatestMembership] when
// the secretariat has published no such document yet.
var ErrNoDocument = errors.New("backbone: no such document published")

// membershipStreamConfig keeps every version of both documents: they are
// evidence of who was on the network and who was denied, when.
func membershipStreamConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        MembershipStream,
		Description: "IANT: the secretariat's signed membership table and deny list, every version",
		Subjects:    []string{membershipSubscribe},
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		MaxMsgSize:  MaxMembershipSize,
		AllowDirect: true,
		DenyDelete:  true,
		DenyPurge:   true,
	}
}

// ProvisionMembership creates or updates [MembershipStream], trying again
// while a new cluster elects its leader like [Client.Provision]. Only the
// secretariat may ([ErrForbidden]).
func (c *Client) ProvisionMembership(ctx context.Context) error {
	if c.self.Role != identity.RoleSecretariatNode {
		return fmt.Errorf("%w: %s may not provision the backbone", ErrForbidden, c.self)
	}
	return c.provisionRetried(ctx, func(ctx context.Context) error {
		if _, err := c.js.CreateOrUpdateStream(ctx, membershipStreamConfig(c.replicas)); err != nil {
			return c.provisionErr("stream "+MembershipStream, err)
		}
		return nil
	})
}

// PublishMembership publishes a signed version of doc and returns once the
// server has synced it. Only the secretariat publishes them
// ([ErrForbidden]; the server's permissions refuse anyone else too).
func (c *Client) PublishMembership(ctx context.Context, doc MembershipDoc, data []byte) error {
	switch {
	case c.self.Role != identity.RoleSecretariatNode:
		return fmt.Errorf("%w: %s may not publish the %s", ErrForbidden, c.self, doc)
	case doc != MembershipTable && doc != DenyList:
		return fmt.Errorf("%w: no document %q", ErrInvalidSubject, doc)
	case len(data) > MaxMembershipSize:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxMembershipSize)
	case c.isClosing():
		return ErrClosed
	}
	subj := membershipSubject(doc)
	if _, err := c.publish(ctx, subj, data, jetstream.WithExpectStream(MembershipStream)); err != nil {
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			return fmt.Errorf("%w: publish %s", ErrNotProvisioned, subj)
		}
		return fmt.Errorf("backbone: publish %s: %w", subj, err)
	}
	return nil
}

// LatestMembership returns the latest published version of doc, as
// published; the caller verifies it. It returns [ErrNoDocument] when there
// is none (or the stream is not provisioned yet).
func (c *Client) LatestMembership(ctx context.Context, doc MembershipDoc) ([]byte, error) {
	if c.isClosing() {
		return nil, ErrClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	st, err := retryUnanswered(ctx, func(ctx context.Context) (jetstream.Stream, error) { return c.js.Stream(ctx, MembershipStream) })
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("%w: %s not provisioned", ErrNoDocument, MembershipStream)
	}
	if err != nil {
		return nil, fmt.Errorf("backbone: membership stream: %w", err)
	}
	m, err := retryUnanswered(ctx, func(ctx context.Context) (*jetstream.RawStreamMsg, error) {
		return c.directLast(ctx, st, membershipSubject(doc))
	})
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNoDocument, doc)
	}
	if err != nil {
		return nil, fmt.Errorf("backbone: latest %s: %w", doc, err)
	}
	return m.Data, nil
}

// WatchMembership calls fn with the secretariat's documents as the
// backbone carries them: first the latest of each (if any), then each new
// version as it is published, and the latest of each again every poll (0
// means [DefaultMembershipPoll]) and as soon as the connection comes back
// after it was lost, so a version published meanwhile is not missed. fn is called on the calling
// goroutine, one document at a time, and may see a version more than once
// or an old one (a replay): it verifies each and keeps the newest.
// WatchMembership returns nil when ctx ends, [ErrClosed] when the client
// closes.
func (c *Client) WatchMembership(ctx context.Context, poll time.Duration, fn func(doc MembershipDoc, data []byte)) error {
	if poll <= 0 {
		poll = DefaultMembershipPoll
	}
	ch := make(chan *nats.Msg, 64)
	sub, err := c.nc.ChanSubscribe(membershipSubscribe, ch)
	if err != nil {
		return fmt.Errorf("backbone: watch membership: %w", err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // the connection may be closing
	if err := c.nc.FlushWithContext(ctx); err != nil && ctx.Err() == nil {
		c.log.Debug("membership subscription not confirmed yet", "err", err)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	// A version published while the connection was down (a suspended
	// node's reinstatement) is read as soon as it is back.
	back := time.NewTicker(reconnectCheck)
	defer back.Stop()
	reconnects := c.nc.Stats().Reconnects
	for {
		c.readLatestMembership(ctx, fn)
		for wait := true; wait; {
			select {
			case <-ctx.Done():
				return nil
			case <-c.life.Done():
				return ErrClosed
			case m := <-ch:
				if doc, ok := strings.CutPrefix(m.Subject, membershipRoot+"."); ok && len(m.Data) <= MaxMembershipSize {
					fn(MembershipDoc(doc), m.Data)
				}
			case <-t.C:
				wait = false
			case <-back.C:
				if n := c.nc.Stats().Reconnects; n != reconnects && c.nc.IsConnected() {
					reconnects, wait = n, false
				}
			}
		}
	}
}

// reconnectCheck is how often WatchMembership looks whether the connection
// came back.
const reconnectCheck = 250 * time.Millisecond

// readLatestMembership hands fn the latest of each document, if any.
func (c *Client) readLatestMembership(ctx context.Context, fn func(MembershipDoc, []byte)) {
	for _, doc := range []MembershipDoc{MembershipTable, DenyList} {
		data, err := c.LatestMembership(ctx, doc)
		switch {
		case err == nil:
			fn(doc, data)
		case errors.Is(err, ErrNoDocument) || ctx.Err() != nil || errors.Is(err, ErrClosed):
		default:
			c.log.Debug("membership document not read", "doc", string(doc), "err", err)
		}
	}
}

// WatchMembership is [Client.WatchMembership].
func (s *StateClient) WatchMembership(ctx context.Context, poll time.Duration, fn func(doc MembershipDoc, data []byte)) error {
	return s.c.WatchMembership(ctx, poll, fn)
}

// LatestMembership is [Client.LatestMembership].
func (s *StateClient) LatestMembership(ctx context.Context, doc MembershipDoc) ([]byte, error) {
	return s.c.LatestMembership(ctx, doc)
}

// ProvisionMembership is [Client.ProvisionMembership].
func (s *SecretariatClient) ProvisionMembership(ctx context.Context) error {
	return s.c.ProvisionMembership(ctx)
}

// PublishMembership is [Client.PublishMembership].
func (s *SecretariatClient) PublishMembership(ctx context.Context, doc MembershipDoc, data []byte) error {
	return s.c.PublishMembership(ctx, doc, data)
}

// LatestMembership is [Client.LatestMembership].
func (s *SecretariatClient) LatestMembership(ctx context.Context, doc MembershipDoc) ([]byte, error) {
	return s.c.LatestMembership(ctx, doc)
}

// Refused reports whether the server has refused this node's user (an
// authorization violation) since the client last connected: the node's
// state is suspended or removed, or its SPIFFE ID denied (see
// [ServerConfig.MembershipKey]). It is cleared when the client connects
// again. A node behind a leaf node cannot tell (its leaf's link is cut as
// by a network fault) and never reports it.
func (c *Client) Refused() bool { return c.refused.Load() }

// Refused is [Client.Refused].
func (s *StateClient) Refused() bool { return s.c.Refused() }

package backbone

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/identity"
)

// What a node's health checks and metrics ask of its connection
// (statenode and secretariat health, docs/operations.md).

// Connected reports whether the client can reach the backbone now:
// connected to a server or, behind a leaf node, with the leaf's link up.
func (c *Client) Connected() bool {
	if c.leaf != nil {
		return c.LeafConnected()
	}
	return c.nc.IsConnected()
}

// ConnectedURL returns the URL of the server the client is connected to
// (the leaf node's, behind one), "" when disconnected.
func (c *Client) ConnectedURL() string {
	if !c.nc.IsConnected() {
		return ""
	}
	return c.nc.ConnectedUrlRedacted()
}

// Behind reports whether the client runs behind its own leaf node.
func (c *Client) Behind() bool { return c.leaf != nil }

// InboxState is a state's inbox consumer as the backbone reports it.
type InboxState struct {
	// Pending is how many copies wait in the inbox, not yet delivered to
	// the node.
	Pending uint64
	// AckPending is how many were delivered and not yet acknowledged.
	AckPending int
	// Redelivered is how many of those were delivered more than once.
	Redelivered int
	// AckFloor is the stream sequence up to which every copy was settled.
	AckFloor uint64
}

// Inbox asks the backbone about this state node's inbox consumer: one
// round trip, so it also proves the backbone answers. Errors wrap
// [ErrForbidden] (not a state node), [ErrNotProvisioned] (no inbox
// consumer yet), [ErrClosed] or the server's error.
func (c *Client) Inbox(ctx context.Context) (InboxState, error) {
	if c.self.Role != identity.RoleNode {
		return InboxState{}, fmt.Errorf("%w: %s has no inbox", ErrForbidden, c.self)
	}
	if c.isClosing() {
		return InboxState{}, ErrClosed
	}
	cons, err := c.consumerOf(ctx, InboxConsumer(c.self.State))
	if err != nil {
		return InboxState{}, err
	}
	info := cons.CachedInfo()
	return InboxState{Pending: info.NumPending, AckPending: info.NumAckPending, Redelivered: info.NumRedelivered,
		AckFloor: info.AckFloor.Stream}, nil
}

// CheckConsumers asks the backbone whether the inbox consumer of each of
// states and the secretariat's receipt consumer exist (the secretariat's
// provisioning holds), one round trip each. It returns an error naming
// every missing one, wrapping [ErrNotProvisioned], or the first other
// error. Only the secretariat may ask ([ErrForbidden]).
func (c *Client) CheckConsumers(ctx context.Context, states []string) error {
	if c.self.Role != identity.RoleSecretariatNode {
		return fmt.Errorf("%w: %s may not look up other states' consumers", ErrForbidden, c.self)
	}
	if c.isClosing() {
		return ErrClosed
	}
	var missing []string
	if _, err := c.js.Consumer(ctx, EventStream, EventConsumer); err != nil {
		if !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("backbone: look up consumer %s: %w", EventConsumer, err)
		}
		missing = append(missing, EventConsumer)
	}
	for _, s := range states {
		_, err := c.consumerOf(ctx, InboxConsumer(s))
		switch {
		case errors.Is(err, ErrNotProvisioned):
			missing = append(missing, InboxConsumer(s))
		case err != nil:
			return err
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %d consumers missing: %v", ErrNotProvisioned, len(missing), missing)
	}
	return nil
}

// Connected is [Client.Connected].
func (s *StateClient) Connected() bool { return s.c.Connected() }

// ConnectedURL is [Client.ConnectedURL].
func (s *StateClient) ConnectedURL() string { return s.c.ConnectedURL() }

// Behind is [Client.Behind].
func (s *StateClient) Behind() bool { return s.c.Behind() }

// Inbox is [Client.Inbox].
func (s *StateClient) Inbox(ctx context.Context) (InboxState, error) { return s.c.Inbox(ctx) }

// Connected is [Client.Connected].
func (s *SecretariatClient) Connected() bool { return s.c.Connected() }

// ConnectedURL is [Client.ConnectedURL].
func (s *SecretariatClient) ConnectedURL() string { return s.c.ConnectedURL() }

// CheckConsumers is [Client.CheckConsumers].
func (s *SecretariatClient) CheckConsumers(ctx context.Context, states []string) error {
	return s.c.CheckConsumers(ctx, states)
}

package backbone

import (
	"context"
	"fmt"

	"github.com/oas-cicte/iant/pkg/identity"
)

// StateClient is a member state node's view of the backbone: the calls its
// permissions allow — publish copies as its own origin, consume and replay
// its own inbox, publish its directory entry and its receipts, read the
// directory and the secretariat's checkpoints, ask for consistency proofs
// and exchange witnessed checkpoints — and no others. Its methods
// are those of [Client].
type StateClient struct{ c *Client }

// ConnectState is [Connect] for a member state's node; an SVID of any
// other principal fails with [ErrNotNode].
func ConnectState(ctx context.Context, cfg ClientConfig) (*StateClient, error) {
	c, err := connectAs(ctx, cfg, identity.RoleNode)
	if err != nil {
		return nil, err
	}
	return &StateClient{c: c}, nil
}

// SecretariatClient is the secretariat node's view of the backbone:
// provision the streams and consumers, consume the receipts, publish
// checkpoints and answer proof requests, read the directory and the
// witnessed checkpoints. Its methods are those of [Client].
type SecretariatClient struct{ c *Client }

// ConnectSecretariat is [Connect] for the secretariat's node; an SVID of
// any other principal fails with [ErrNotNode].
func ConnectSecretariat(ctx context.Context, cfg ClientConfig) (*SecretariatClient, error) {
	c, err := connectAs(ctx, cfg, identity.RoleSecretariatNode)
	if err != nil {
		return nil, err
	}
	return &SecretariatClient{c: c}, nil
}

// connectAs connects and checks that the SVID is a node of role.
func connectAs(ctx context.Context, cfg ClientConfig, role identity.Role) (*Client, error) {
	c, err := Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if c.self.Role != role {
		c.Close()
		return nil, fmt.Errorf("%w: %s is not a %s", ErrNotNode, c.self, role)
	}
	return c, nil
}

// Principal is [Client.Principal].
func (s *StateClient) Principal() identity.Principal { return s.c.Principal() }

// PublishInbox is [Client.PublishInbox].
func (s *StateClient) PublishInbox(ctx context.Context, recipient, origin, id string, data []byte) (PubAck, error) {
	return s.c.PublishInbox(ctx, recipient, origin, id, data)
}

// PublishInboxBatch is [Client.PublishInboxBatch].
func (s *StateClient) PublishInboxBatch(ctx context.Context, copies []InboxCopy) ([]PubAck, error) {
	return s.c.PublishInboxBatch(ctx, copies)
}

// BatchEnabled is [Client.BatchEnabled].
func (s *StateClient) BatchEnabled() bool { return s.c.BatchEnabled() }

// InboxBacklog is [Client.InboxBacklog].
func (s *StateClient) InboxBacklog() Backlog { return s.c.InboxBacklog() }

// ConsumeInbox is [Client.ConsumeInbox].
func (s *StateClient) ConsumeInbox(ctx context.Context, h Handler) error {
	return s.c.ConsumeInbox(ctx, h)
}

// InboxAckFloor is [Client.InboxAckFloor].
func (s *StateClient) InboxAckFloor(ctx context.Context) (uint64, error) {
	return s.c.InboxAckFloor(ctx)
}

// ReplayInbox is [Client.ReplayInbox].
func (s *StateClient) ReplayInbox(ctx context.Context, upTo uint64, h Handler) (int, error) {
	return s.c.ReplayInbox(ctx, upTo, h)
}

// PublishDirectoryEntry is [Client.PublishDirectoryEntry].
func (s *StateClient) PublishDirectoryEntry(ctx context.Context, data []byte) error {
	return s.c.PublishDirectoryEntry(ctx, data)
}

// DirectoryEntry is [Client.DirectoryEntry].
func (s *StateClient) DirectoryEntry(ctx context.Context, state string) ([]byte, error) {
	return s.c.DirectoryEntry(ctx, state)
}

// PublishEvent is [Client.PublishEvent].
func (s *StateClient) PublishEvent(ctx context.Context, id string, data []byte) (PubAck, error) {
	return s.c.PublishEvent(ctx, id, data)
}

// PublishEventBatch is [Client.PublishEventBatch].
func (s *StateClient) PublishEventBatch(ctx context.Context, events []EventData) ([]PubAck, error) {
	return s.c.PublishEventBatch(ctx, events)
}

// EventBatchEnabled is [Client.EventBatchEnabled].
func (s *StateClient) EventBatchEnabled() bool { return s.c.EventBatchEnabled() }

// LatestCheckpoint is [Client.LatestCheckpoint].
func (s *StateClient) LatestCheckpoint(ctx context.Context) (seq uint64, data []byte, err error) {
	return s.c.LatestCheckpoint(ctx)
}

// CheckpointAt is [Client.CheckpointAt].
func (s *StateClient) CheckpointAt(ctx context.Context, seq uint64) ([]byte, error) {
	return s.c.CheckpointAt(ctx, seq)
}

// RequestProof is [Client.RequestProof].
func (s *StateClient) RequestProof(ctx context.Context, data []byte) ([]byte, error) {
	return s.c.RequestProof(ctx, data)
}

// PublishWitnessed is [Client.PublishWitnessed].
func (s *StateClient) PublishWitnessed(ctx context.Context, data []byte) error {
	return s.c.PublishWitnessed(ctx, data)
}

// Witnessed is [Client.Witnessed].
func (s *StateClient) Witnessed(ctx context.Context, state string) ([]byte, error) {
	return s.c.Witnessed(ctx, state)
}

// LeafConnected is [Client.LeafConnected].
func (s *StateClient) LeafConnected() bool { return s.c.LeafConnected() }

// TakeLegacyOutbox is [Client.TakeLegacyOutbox].
func (s *StateClient) TakeLegacyOutbox(ctx context.Context, take func([]LegacyCopy) error) (int, error) {
	return s.c.TakeLegacyOutbox(ctx, take)
}

// Close is [Client.Close].
func (s *StateClient) Close() error { return s.c.Close() }

// Principal is [Client.Principal].
func (s *SecretariatClient) Principal() identity.Principal { return s.c.Principal() }

// Provision is [Client.Provision].
func (s *SecretariatClient) Provision(ctx context.Context, states []string) error {
	return s.c.Provision(ctx, states)
}

// ConsumeEventBatches is [Client.ConsumeEventBatches].
func (s *SecretariatClient) ConsumeEventBatches(ctx context.Context, h BatchHandler) error {
	return s.c.ConsumeEventBatches(ctx, h)
}

// PublishCheckpoint is [Client.PublishCheckpoint].
func (s *SecretariatClient) PublishCheckpoint(ctx context.Context, data []byte) (uint64, error) {
	return s.c.PublishCheckpoint(ctx, data)
}

// LatestCheckpoint is [Client.LatestCheckpoint].
func (s *SecretariatClient) LatestCheckpoint(ctx context.Context) (seq uint64, data []byte, err error) {
	return s.c.LatestCheckpoint(ctx)
}

// ServeProofs is [Client.ServeProofs].
func (s *SecretariatClient) ServeProofs(ctx context.Context, h ProofHandler) error {
	return s.c.ServeProofs(ctx, h)
}

// Witnessed is [Client.Witnessed].
func (s *SecretariatClient) Witnessed(ctx context.Context, state string) ([]byte, error) {
	return s.c.Witnessed(ctx, state)
}

// DirectoryEntry is [Client.DirectoryEntry].
func (s *SecretariatClient) DirectoryEntry(ctx context.Context, state string) ([]byte, error) {
	return s.c.DirectoryEntry(ctx, state)
}

// Close is [Client.Close].
func (s *SecretariatClient) Close() error { return s.c.Close() }

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
	"github.com/oas-cicte/iant/pkg/region"
)

// MaxWitnessSize bounds a proof request, a proof reply and a witnessed
// checkpoint message.
const MaxWitnessSize = 16 << 10

// ErrNoWitness is returned (wrapped) by [Client.Witnessed] when a state has
// published no witnessed checkpoint yet.
var ErrNoWitness = errors.New("backbone: no witnessed checkpoint")

// witnessStreamConfig keeps each state's last witnessed checkpoints, none
// older than maxAge ([Retention.Witness]), readable by direct get; they
// are evidence of what each state saw, so they cannot be deleted or
// purged.
func witnessStreamConfig(replicas int, maxAge time.Duration) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              WitnessStream,
		Description:       "IANT: checkpoints of the audit log each state's node accepted",
		Subjects:          []string{witnessRoot + ".*"},
		Storage:           jetstream.FileStorage,
		Replicas:          replicas,
		MaxMsgsPerSubject: witnessHistory,
		MaxMsgSize:        MaxWitnessSize,
		MaxAge:            maxAge,
		AllowDirect:       true,
		DenyDelete:        true,
		DenyPurge:         true,
	}
}

// provisionWitness creates or updates the witness stream.
func (c *Client) provisionWitness(ctx context.Context) error {
	if _, err := c.js.CreateOrUpdateStream(ctx, witnessStreamConfig(c.replicas, c.retention.Witness)); err != nil {
		return c.provisionErr("stream "+WitnessStream, err)
	}
	return nil
}

// RequestProof sends data, an encoded consistency proof request, to the
// secretariat on this state's proof subject and returns the reply. Errors
// wrap [ErrUnavailable] (no secretariat is listening), [ErrTooLarge],
// [ErrForbidden] (not a state node), [ErrClosed] or the context's error;
// without a ctx deadline a 5 s timeout applies.
func (c *Client) RequestProof(ctx context.Context, data []byte) ([]byte, error) {
	switch {
	case c.self.Role != identity.RoleNode:
		return nil, fmt.Errorf("%w: %s does not witness the audit log", ErrForbidden, c.self)
	case len(data) > MaxWitnessSize:
		return nil, fmt.Errorf("%w: proof request of %d bytes, limit %d", ErrTooLarge, len(data), MaxWitnessSize)
	case c.isClosing():
		return nil, ErrClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	m, err := c.nc.RequestWithContext(ctx, proofSubject(c.self.State), data)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, fmt.Errorf("%w: no secretariat answers proof requests", ErrUnavailable)
	case errors.Is(err, nats.ErrConnectionClosed):
		return nil, ErrClosed
	case err != nil:
		return nil, fmt.Errorf("backbone: proof request: %w", err)
	}
	return m.Data, nil
}

// ProofHandler answers one proof request of state's node: it returns the
// encoded reply.
type ProofHandler func(ctx context.Context, state string, request []byte) []byte

// ServeProofs answers the state nodes' proof requests with h until ctx
// ends (nil) or the client closes ([ErrClosed]). Only the secretariat
// serves them ([ErrForbidden]); the server lets no state node receive
// another's requests, and lets the secretariat answer only requests it
// received. Requests are handled one at a time.
func (c *Client) ServeProofs(ctx context.Context, h ProofHandler) error {
	if h == nil {
		panic("backbone: ServeProofs with nil handler")
	}
	if c.self.Role != identity.RoleSecretariatNode {
		return fmt.Errorf("%w: %s may not answer proof requests", ErrForbidden, c.self)
	}
	sub, err := c.nc.Subscribe(proofRoot+".*", func(m *nats.Msg) {
		state, ok := strings.CutPrefix(m.Subject, proofRoot+".")
		if !ok || !region.IsMember(state) || m.Reply == "" || len(m.Data) > MaxWitnessSize {
			c.log.Warn("proof request ignored", "subject", m.Subject)
			return
		}
		if err := m.Respond(h(ctx, state, m.Data)); err != nil {
			c.log.Warn("proof reply not sent", "peer", state, "err", err)
		}
	})
	if err != nil {
		return fmt.Errorf("backbone: serve proofs: %w", err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // the connection may be closing
	select {
	case <-ctx.Done():
		return nil
	case <-c.life.Done():
		return ErrClosed
	}
}

// PublishWitnessed publishes data, this state's witnessed checkpoint
// message, on its subject of [WitnessStream], and returns once the server
// has synced it. Only a state node publishes one, under its own state.
func (c *Client) PublishWitnessed(ctx context.Context, data []byte) error {
	switch {
	case c.self.Role != identity.RoleNode:
		return fmt.Errorf("%w: %s does not witness the audit log", ErrForbidden, c.self)
	case len(data) > MaxWitnessSize:
		return fmt.Errorf("%w: witnessed checkpoint of %d bytes, limit %d", ErrTooLarge, len(data), MaxWitnessSize)
	case c.isClosing():
		return ErrClosed
	}
	subj := witnessSubject(c.self.State)
	if _, err := c.publish(ctx, subj, data, jetstream.WithExpectStream(WitnessStream)); err != nil {
		return publishErr(subj, err)
	}
	return nil
}

// Witnessed returns the last witnessed checkpoint message state published,
// as published (the caller verifies it), or an error wrapping
// [ErrNoWitness].
func (c *Client) Witnessed(ctx context.Context, state string) ([]byte, error) {
	if !region.IsMember(state) {
		return nil, fmt.Errorf("%w: %q is not a member state", ErrInvalidSubject, state)
	}
	if c.isClosing() {
		return nil, ErrClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	st, err := c.js.Stream(ctx, WitnessStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("%w: %s not provisioned", ErrNoWitness, WitnessStream)
	}
	if err != nil {
		return nil, fmt.Errorf("backbone: witness stream: %w", err)
	}
	m, err := c.directLast(ctx, st, witnessSubject(state))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("%w of %s", ErrNoWitness, state)
	}
	if err != nil {
		return nil, fmt.Errorf("backbone: witnessed checkpoint of %s: %w", state, err)
	}
	return m.Data, nil
}

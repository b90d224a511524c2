package backbone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/identity"
)

// CheckpointStream holds the audit log checkpoints the secretariat
// publishes, in order, on one subject; every node reads them by direct get
// to check that the log only grows (see [Client.LatestCheckpoint]).
const CheckpointStream = "IANT_CHECKPOINTS"

const checkpointSubject = "iant.checkpoint"

// MaxCheckpointSize bounds one published checkpoint message.
const MaxCheckpointSize = 64 << 10

// ErrNoCheckpoint is returned (wrapped) by [Client.LatestCheckpoint] and
// [Client.CheckpointAt] when there is no such checkpoint message.
var ErrNoCheckpoint = errors.New("backbone: no checkpoint")

// checkpointStreamConfig keeps every published checkpoint for maxAge
// ([Retention.Checkpoints]), readable by direct get; they are evidence,
// so they cannot be deleted or purged.
func checkpointStreamConfig(replicas int, maxAge time.Duration) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        CheckpointStream,
		Description: "IANT: signed checkpoints of the secretariat's audit log",
		Subjects:    []string{checkpointSubject},
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		MaxMsgSize:  MaxCheckpointSize,
		MaxAge:      maxAge,
		AllowDirect: true,
		DenyDelete:  true,
		DenyPurge:   true,
	}
}

// checkpointReadPermissions let a node find the checkpoint stream and read
// its messages by direct get.
func checkpointReadPermissions() []string {
	return []string{
		jsAPI + "STREAM.INFO." + CheckpointStream,
		jsAPI + "DIRECT.GET." + CheckpointStream + ".>",
		jsAPI + "DIRECT.GET." + CheckpointStream,
	}
}

// PublishCheckpoint appends data, an encoded signed checkpoint, to
// [CheckpointStream] and returns its stream sequence. Only the secretariat
// publishes checkpoints ([ErrForbidden]).
func (c *Client) PublishCheckpoint(ctx context.Context, data []byte) (uint64, error) {
	if c.self.Role != identity.RoleSecretariatNode {
		return 0, fmt.Errorf("%w: %s may not publish checkpoints", ErrForbidden, c.self)
	}
	if len(data) > MaxCheckpointSize {
		return 0, fmt.Errorf("%w: checkpoint of %d bytes, limit %d", ErrTooLarge, len(data), MaxCheckpointSize)
	}
	if c.isClosing() {
		return 0, ErrClosed
	}
	ack, err := c.publish(ctx, checkpointSubject, data, jetstream.WithExpectStream(CheckpointStream))
	if err != nil {
		return 0, publishErr(checkpointSubject, err)
	}
	return ack.Sequence, nil
}

// LatestCheckpoint returns the last published checkpoint message and its
// stream sequence, or an error wrapping [ErrNoCheckpoint] when none was
// published yet.
func (c *Client) LatestCheckpoint(ctx context.Context) (seq uint64, data []byte, err error) {
	return c.getCheckpoint(ctx, func(ctx context.Context, st jetstream.Stream) (*jetstream.RawStreamMsg, error) {
		return c.directLast(ctx, st, checkpointSubject)
	})
}

// CheckpointAt returns the checkpoint message at stream sequence seq, or an
// error wrapping [ErrNoCheckpoint].
func (c *Client) CheckpointAt(ctx context.Context, seq uint64) ([]byte, error) {
	_, data, err := c.getCheckpoint(ctx, func(ctx context.Context, st jetstream.Stream) (*jetstream.RawStreamMsg, error) {
		return c.directSeq(ctx, st, seq)
	})
	return data, err
}

func (c *Client) getCheckpoint(ctx context.Context, get func(context.Context, jetstream.Stream) (*jetstream.RawStreamMsg, error)) (uint64, []byte, error) {
	if c.isClosing() {
		return 0, nil, ErrClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	st, err := c.js.Stream(ctx, CheckpointStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil, fmt.Errorf("%w: %s not provisioned", ErrNoCheckpoint, CheckpointStream)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("backbone: checkpoints: %w", err)
	}
	m, err := get(ctx, st)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil, ErrNoCheckpoint
	}
	if err != nil {
		return 0, nil, fmt.Errorf("backbone: checkpoint: %w", err)
	}
	return m.Sequence, m.Data, nil
}

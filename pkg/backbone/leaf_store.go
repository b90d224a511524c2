package backbone

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// keptDirectoryStreamConfig keeps the last directory entry read per state.
func keptDirectoryStreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              KeptDirectoryStream,
		Description:       "IANT: the last directory entry read from the backbone, per state",
		Subjects:          []string{keptRoot + ".*"},
		Storage:           jetstream.FileStorage,
		Replicas:          1,
		MaxMsgsPerSubject: 1,
		MaxMsgSize:        64 << 10,
		AllowDirect:       true,
	}
}

// provisionLeaf creates the stream of the leaf's own JetStream; the node
// is the only user there.
func (c *Client) provisionLeaf(ctx context.Context) error {
	if _, err := c.local.CreateOrUpdateStream(ctx, keptDirectoryStreamConfig()); err != nil {
		return fmt.Errorf("backbone: leaf stream %s: %w", KeptDirectoryStream, err)
	}
	return nil
}

// LegacyCopy is a copy that an earlier version queued in its leaf node's
// own JetStream, not yet forwarded to the backbone: the tokens of its
// inbox subject ([InboxSubject]) and the sealed copy.
type LegacyCopy struct {
	Recipient, Origin, ID string
	Data                  []byte
}

// TakeLegacyOutbox hands the copies that an earlier version left queued in
// this client's leaf node (stream IANT_OUTBOX) to take, in the order they
// were queued, and once take returned nil removes the stream: copies are
// now queued in the node's own database and published from there. take
// must store them durably and be idempotent (a crash before the removal
// hands them over again). Without a leaf node, or when there is no such
// stream, it does nothing. It returns how many copies it handed over.
func (c *Client) TakeLegacyOutbox(ctx context.Context, take func([]LegacyCopy) error) (int, error) {
	if c.leaf == nil {
		return 0, nil
	}
	st, err := c.local.Stream(ctx, legacyOutboxStream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("backbone: old leaf outbox: %w", err)
	}
	copies, err := c.readLegacyOutbox(ctx, st)
	if err != nil {
		return 0, fmt.Errorf("backbone: old leaf outbox: %w", err)
	}
	if len(copies) > 0 {
		if err := take(copies); err != nil {
			return 0, fmt.Errorf("backbone: old leaf outbox: %w", err)
		}
	}
	if err := c.local.DeleteStream(ctx, legacyOutboxStream); err != nil {
		return 0, fmt.Errorf("backbone: remove old leaf outbox: %w", err)
	}
	c.log.Info("copies of the old leaf outbox handed to the node's outbox", "copies", len(copies))
	return len(copies), nil
}

// readLegacyOutbox reads every copy still in the old outbox stream.
func (c *Client) readLegacyOutbox(ctx context.Context, st jetstream.Stream) ([]LegacyCopy, error) {
	info, err := st.Info(ctx)
	if err != nil {
		return nil, err
	}
	var out []LegacyCopy
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // forwarded (a work queue removes what was acked)
		}
		if err != nil {
			return nil, fmt.Errorf("read seq %d: %w", seq, err)
		}
		r, o, id, err := parseLegacyOutboxSubject(m.Subject)
		if err != nil {
			c.log.Error("malformed copy in the old leaf outbox skipped", "subject", m.Subject, "err", err)
			continue
		}
		out = append(out, LegacyCopy{Recipient: r, Origin: o, ID: id, Data: m.Data})
	}
	return out, nil
}

// keepEntry stores the directory entry of state read from the backbone in
// the leaf, unless it is the one already kept.
func (c *Client) keepEntry(ctx context.Context, state string, data []byte) {
	c.keptMu.Lock()
	same := string(c.kept[state]) == string(data)
	c.keptMu.Unlock()
	if same {
		return
	}
	subj := keptSubject(state)
	if _, err := c.publishTo(ctx, c.local, subj, data, jetstream.WithExpectStream(KeptDirectoryStream)); err != nil {
		c.log.Warn("directory entry not kept at the leaf", "state", state, "err", err)
		return
	}
	c.keptMu.Lock()
	c.kept[state] = data
	c.keptMu.Unlock()
}

// keptEntry returns the directory entry of state last kept at the leaf.
func (c *Client) keptEntry(ctx context.Context, state string) ([]byte, error) {
	st, err := c.local.Stream(ctx, KeptDirectoryStream)
	if err != nil {
		return nil, err
	}
	m, err := st.GetLastMsgForSubject(ctx, keptSubject(state))
	if err != nil {
		return nil, err
	}
	return m.Data, nil
}

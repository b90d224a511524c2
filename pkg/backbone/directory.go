package backbone

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// DirectoryStream holds the signed key directory: one subject per member
// state, iant.directory.<CC>, whose last message is the state node's current
// signed directory entry (public keys). Older entries stay as history.
const DirectoryStream = "IANT_DIRECTORY"

const (
	directoryRoot    = "iant.directory"
	directoryHistory = 16
)

// DirectorySubject is the subject of state's directory entries.
func DirectorySubject(state string) string { return directoryRoot + "." + state }

// ErrNoEntry is returned (wrapped) by [Client.DirectoryEntry] when a state
// has published no entry yet.
var ErrNoEntry = errors.New("backbone: no directory entry")

// directoryStreamConfig keeps the last entries per state, readable by
// direct get; entries are evidence of which keys a state used, so they
// cannot be deleted or purged.
func directoryStreamConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              DirectoryStream,
		Description:       "IANT: signed key directory, one subject per state",
		Subjects:          []string{directoryRoot + ".*"},
		Storage:           jetstream.FileStorage,
		Replicas:          replicas,
		MaxMsgsPerSubject: directoryHistory,
		MaxMsgSize:        64 << 10,
		AllowDirect:       true,
		DenyDelete:        true,
		DenyPurge:         true,
	}
}

// directoryPermissions are what every state node may do with the
// directory: publish only its own entry, read anyone's latest entry.
func directoryPermissions(state string) []string {
	return []string{
		DirectorySubject(state),
		jsAPI + "STREAM.INFO." + DirectoryStream,
		jsAPI + "DIRECT.GET." + DirectoryStream + ".>",
		jsAPI + "DIRECT.GET." + DirectoryStream,
	}
}

// PublishDirectoryEntry publishes this node's signed directory entry. The
// server lets a node publish only under its own state.
func (c *Client) PublishDirectoryEntry(ctx context.Context, data []byte) error {
	if c.self.Role != identity.RoleNode {
		return fmt.Errorf("%w: %s has no directory entry", ErrForbidden, c.self)
	}
	if c.isClosing() {
		return ErrClosed
	}
	subj := DirectorySubject(c.self.State)
	if _, err := c.publish(ctx, subj, data, jetstream.WithExpectStream(DirectoryStream)); err != nil {
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			return fmt.Errorf("%w: publish %s", ErrNotProvisioned, subj)
		}
		return fmt.Errorf("backbone: publish %s: %w", subj, err)
	}
	return nil
}

// DirectoryEntry returns the latest signed directory entry of state, as
// published; the caller verifies it. It returns [ErrNoEntry] when there is
// none.
//
// Behind a leaf node, each entry read is also kept at the leaf; while the
// backbone cannot be reached (the link is cut), DirectoryEntry returns the
// entry kept for state, if any, so the node can still seal for states
// whose keys it knows. The caller's verification (signature, validity
// period) then decides whether that entry is still good. A read the
// backbone did not answer returns an error wrapping [ErrUnreachable].
func (c *Client) DirectoryEntry(ctx context.Context, state string) ([]byte, error) {
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
	if c.leaf == nil {
		return c.hubDirectoryEntry(ctx, state)
	}
	var data []byte
	err := fmt.Errorf("backbone: directory entry of %s: %w: the link to the backbone is down", state, ErrUnreachable)
	if c.LeafConnected() {
		data, err = c.hubDirectoryEntry(ctx, state)
	}
	switch {
	case err == nil:
		c.keepEntry(ctx, state, data)
		return data, nil
	case errors.Is(err, ErrNoEntry), ctx.Err() != nil:
		return nil, err
	}
	kept, kerr := c.keptEntry(ctx, state)
	if kerr != nil {
		return nil, err
	}
	c.log.Debug("backbone unreachable; using the directory entry kept at the leaf", "state", state, "err", err)
	return kept, nil
}

// hubDirectoryEntry reads state's latest entry from the backbone.
func (c *Client) hubDirectoryEntry(ctx context.Context, state string) ([]byte, error) {
	st, err := c.js.Stream(ctx, DirectoryStream)
	if err != nil {
		return nil, fmt.Errorf("backbone: directory: %w: %w", ErrUnreachable, err)
	}
	m, err := st.GetLastMsgForSubject(ctx, DirectorySubject(state))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("%w for %s", ErrNoEntry, state)
	}
	if err != nil {
		return nil, fmt.Errorf("backbone: directory entry of %s: %w: %w", state, ErrUnreachable, err)
	}
	return m.Data, nil
}

package backbone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// DirectoryStream holds the signed key directory: one subject per member
// state, iant.directory.<CC>, whose last message is the state node's current
// signed directory entry (public keys). Older entries stay as history.
const DirectoryStream = "IANT_DIRECTORY"

const (
	directoryRoot     = "iant.directory"
	directoryHistory  = 16
	maxDirectoryEntry = 64 << 10 // one signed entry
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
		MaxMsgSize:        maxDirectoryEntry,
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
	// The read from the backbone never waits longer than defaultTimeout,
	// whatever the caller's deadline: a server that cannot answer (cut
	// off from its cluster's quorum) must not hold a post for its whole
	// deadline when an entry known before would do (tests/wan).
	hctx, cancel := context.WithTimeout(ctx, defaultTimeout)
	defer cancel()
	if c.leaf == nil {
		return c.hubDirectoryEntry(hctx, state)
	}
	var data []byte
	err := fmt.Errorf("backbone: directory entry of %s: %w: the link to the backbone is down", state, ErrUnreachable)
	if c.LeafConnected() {
		data, err = c.hubDirectoryEntry(hctx, state)
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

// hubDirectoryEntry reads state's latest entry from the backbone, trying
// again while a server reloads its configuration (retryUnanswered).
func (c *Client) hubDirectoryEntry(ctx context.Context, state string) ([]byte, error) {
	return retryUnanswered(ctx, func(ctx context.Context) ([]byte, error) { return c.hubDirectoryEntryOnce(ctx, state) })
}

// hubDirectoryEntryOnce makes one attempt at hubDirectoryEntry.
func (c *Client) hubDirectoryEntryOnce(ctx context.Context, state string) ([]byte, error) {
	st, err := c.js.Stream(ctx, DirectoryStream)
	if err != nil {
		return nil, fmt.Errorf("backbone: directory: %w: %w", ErrUnreachable, err)
	}
	m, err := c.directLast(ctx, st, DirectorySubject(state))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("%w for %s", ErrNoEntry, state)
	}
	if err != nil {
		return nil, fmt.Errorf("backbone: directory entry of %s: %w: %w", state, ErrUnreachable, err)
	}
	return m.Data, nil
}

// directorySubscribe is what a reader subscribes to, to hear each entry
// as it is published.
const directorySubscribe = directoryRoot + ".*"

// WatchDirectory calls fn with each directory entry as it is published,
// with the state its subject names, until ctx ends: a state's new entry
// (a signing key retired, or marked compromised) reaches every node at
// once rather than when its cached copy expires. The messages are core
// NATS deliveries, at most once: one published while the connection was
// down is not repeated, so readers keep reading entries again on their
// own schedule ([Client.DirectoryEntry]). fn is called on the calling
// goroutine, one entry at a time, with whatever was published, an old or
// forged entry included: it verifies each and keeps only a newer one.
//
// Entries waiting for fn are kept one per state, the latest heard: a
// state's entry replaces its own earlier one still waiting, never another
// state's. Each node may publish on its own subject as often as it likes,
// and fn verifies each entry; a queue shared by all states (or the NATS
// client's drop of a full channel) would let a compromised node, flooding
// its subject, push out the entry another state published meanwhile —
// the one marking its stolen key compromised. States waiting are handed
// to fn in the order first heard.
//
// WatchDirectory returns nil when ctx ends, [ErrClosed] when the client
// closes.
func (c *Client) WatchDirectory(ctx context.Context, fn func(state string, data []byte)) error {
	var (
		mu      sync.Mutex
		waiting = map[string][]byte{}
		order   []string
	)
	wake := make(chan struct{}, 1)
	sub, err := c.nc.Subscribe(directorySubscribe, func(m *nats.Msg) {
		state, ok := strings.CutPrefix(m.Subject, directoryRoot+".")
		if !ok || !region.IsMember(state) || len(m.Data) > maxDirectoryEntry {
			return
		}
		mu.Lock()
		if _, queued := waiting[state]; !queued {
			order = append(order, state)
		}
		waiting[state] = m.Data
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return fmt.Errorf("backbone: watch directory: %w", err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // the connection may be closing
	if err := c.nc.FlushWithContext(ctx); err != nil && ctx.Err() == nil {
		c.log.Debug("directory subscription not confirmed yet", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.life.Done():
			return ErrClosed
		case <-wake:
		}
		for {
			mu.Lock()
			if len(order) == 0 {
				mu.Unlock()
				break
			}
			state := order[0]
			order = order[1:]
			data := waiting[state]
			delete(waiting, state)
			mu.Unlock()
			if ctx.Err() != nil {
				return nil
			}
			fn(state, data)
		}
	}
}

// WatchDirectory is [Client.WatchDirectory].
func (s *StateClient) WatchDirectory(ctx context.Context, fn func(state string, data []byte)) error {
	return s.c.WatchDirectory(ctx, fn)
}

// WatchDirectory is [Client.WatchDirectory].
func (s *SecretariatClient) WatchDirectory(ctx context.Context, fn func(state string, data []byte)) error {
	return s.c.WatchDirectory(ctx, fn)
}

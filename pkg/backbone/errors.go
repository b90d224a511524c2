package backbone

import "errors"

// Sentinel errors of the backbone, matched with [errors.Is]. Returned errors
// wrap them with detail.
var (
	// ErrReject is returned (wrapped) by a [Handler] to refuse a message for
	// good: it is terminated on the server and never redelivered.
	ErrReject = errors.New("backbone: message rejected")

	// ErrClosed is returned by the methods of a [Client] after [Client.Close].
	ErrClosed = errors.New("backbone: client closed")

	// ErrNotProvisioned is returned by [Client.PublishInbox] when the inbox
	// stream does not exist yet: the secretariat has not called
	// [Client.Provision]. [Client.ConsumeInbox] waits instead.
	ErrNotProvisioned = errors.New("backbone: inbox not provisioned")

	// ErrForbidden is returned when the client's principal may not do what
	// was asked: a state node provisioning, publishing as another origin or
	// the secretariat consuming an inbox. The client refuses before asking;
	// the server's permissions would refuse too.
	ErrForbidden = errors.New("backbone: not allowed for this principal")

	// ErrUnavailable is returned by publishing methods when no backbone
	// server has been reachable for [ReconnectGrace]. An earlier attempt of
	// the same publish may have been stored; publishing again is safe, as
	// the copy's Nats-Msg-Id de-duplicates it.
	ErrUnavailable = errors.New("backbone: unavailable")

	// ErrUnreachable is returned (wrapped) by [Client.DirectoryEntry]
	// when the backbone did not answer the read (no server, a timeout,
	// the leaf node's link cut with nothing kept): a failure to read,
	// unlike [ErrNoEntry], which is the directory's answer.
	ErrUnreachable = errors.New("backbone: unreachable")

	// ErrNotNode is returned by [Connect] when the SVID is not that of a
	// state node or a secretariat node.
	ErrNotNode = errors.New("backbone: identity is not a node")

	// ErrInvalidConfig is returned by [ServerConfig.Validate], [StartServer]
	// and [Connect] for a bad configuration; the error names the field.
	ErrInvalidConfig = errors.New("backbone: invalid config")

	// ErrInvalidSubject is returned for a malformed subject or for subject
	// tokens (state codes, bulletin ids) that cannot be used in one.
	ErrInvalidSubject = errors.New("backbone: invalid subject")

	// ErrTooLarge is returned by [Client.PublishInbox] for data larger than
	// [MaxDataSize].
	ErrTooLarge = errors.New("backbone: message too large")
)

package backbone

import "time"

// Backlog is how far behind a node's inbox consumer is, as last seen
// when a copy was handed to its handler the first time: the copies still
// waiting after it in the consumer (JetStream's num_pending) and how long
// that copy had waited since the server stored it. Redeliveries are not
// counted: a copy retried for a while (its signer's entry not published
// yet) says the inbox waits for something, not that the node is slow.
type Backlog struct {
	// Pending counts copies behind the one last handed over.
	Pending uint64
	// Waited is how long that copy had waited in the inbox.
	Waited time.Duration
	// At is when it was handed over; zero before the first copy.
	At time.Time
}

// Lag is how long copies wait in the inbox before they are handled: the
// last one's wait when others waited behind it, none when it was the
// last.
func (b Backlog) Lag() time.Duration {
	if b.Pending == 0 {
		return 0
	}
	return b.Waited
}

// InboxBacklog returns the backlog of this node's inbox consumer as last
// seen by [Client.ConsumeInbox] (zero before it handed over a copy). A
// node uses it for admission control: a node that cannot keep up with
// its own inbox should not take more work.
func (c *Client) InboxBacklog() Backlog {
	if b := c.backlog.Load(); b != nil {
		return *b
	}
	return Backlog{}
}

// observeBacklog records the backlog when a copy is handed over.
func (c *Client) observeBacklog(pending uint64, published time.Time) {
	now := time.Now()
	waited := time.Duration(0)
	if !published.IsZero() && now.After(published) {
		waited = now.Sub(published)
	}
	c.backlog.Store(&Backlog{Pending: pending, Waited: waited, At: now})
}

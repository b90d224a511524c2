package backbone

import "time"

// Backlog is how far behind a node's inbox consumer is, as last seen
// when a copy was handed to its handler: the copies still waiting after
// it in the consumer (JetStream's num_pending) and how long that copy had
// waited since the server stored it.
type Backlog struct {
	// Pending counts copies behind the one last handed over.
	Pending uint64
	// Waited is how long that copy had waited in the inbox.
	Waited time.Duration
	// At is when it was handed over; zero before the first copy.
	At time.Time
}

// Lag estimates how long the oldest copy not yet handled has waited, at
// now: none when the last copy handed over had none behind it, else its
// wait plus the time since (the next copy is at least that old).
func (b Backlog) Lag(now time.Time) time.Duration {
	if b.Pending == 0 || b.At.IsZero() {
		return 0
	}
	return b.Waited + now.Sub(b.At)
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

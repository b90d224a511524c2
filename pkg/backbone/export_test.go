package backbone

import "github.com/nats-io/nats.go"

// LeafConn opens a plain nats.go connection to the leaf node of c (which
// must run behind one), with the reply prefix of c's state, for tests that
// probe what the backbone lets through the leaf's link.
func LeafConn(c *Client) (*nats.Conn, error) {
	return nats.Connect("", nats.InProcessServer(c.leaf), nats.CustomInboxPrefix(ReplyPrefix(c.self.State)), nats.NoReconnect())
}

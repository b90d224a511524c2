package backbone

import (
	"time"

	"github.com/nats-io/nats.go"
)

// LeafConn opens a plain nats.go connection to the leaf node of c (which
// must run behind one), with the reply prefix of c's state, for tests that
// probe what the backbone lets through the leaf's link.
func LeafConn(c *Client) (*nats.Conn, error) {
	return nats.Connect("", nats.InProcessServer(c.leaf), nats.CustomInboxPrefix(ReplyPrefix(c.self.State)), nats.NoReconnect())
}

// StopDiskWatch makes servers started from now on measure their free
// space only when a test calls CheckDisk (and once at start); restore
// undoes it.
func StopDiskWatch() (restore func()) {
	prev := diskWatchEvery
	diskWatchEvery = 365 * 24 * time.Hour
	return func() { diskWatchEvery = prev }
}

// CheckDisk makes s measure its free space now, as its watch does.
func CheckDisk(s *Server) { s.checkDisk() }

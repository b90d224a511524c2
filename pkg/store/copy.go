package store

// Copy is one sealed copy in the node's outbox: committed at this node,
// to be published to its recipient's inbox on the backbone.
type Copy struct {
	// Seq is the copy's place in commit order (set by the store).
	Seq uint64
	// Recipient is the state whose inbox the copy goes to.
	Recipient string
	// Origin is the publishing state: this node's.
	Origin string
	// BulletinOrigin is the bulletin's origin: Origin for a copy of this
	// node's own bulletin (empty means that), another state for a
	// forward.
	BulletinOrigin string
	// BulletinID is the bulletin's id.
	BulletinID string
	// Kind and Revision say which message of the bulletin's life the copy
	// carries (bulletin.Kind; 0 means a first version, revision 1): a
	// revision and a revocation are other copies than the first version.
	Kind, Revision int
	// Data is the sealed copy.
	Data []byte
}

// message is c's kind and revision, with their defaults.
func (c *Copy) message() (kind, revision int) {
	kind, revision = c.Kind, c.Revision
	if kind == 0 {
		kind = 1
	}
	if revision == 0 {
		revision = 1
	}
	return kind, revision
}

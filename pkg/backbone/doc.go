// Package backbone carries released bulletin copies between IANT nodes over
// NATS JetStream (DESIGN.md, "Backbone: NATS JetStream").
//
// Every copy is published to its recipient state's subject,
// "iant.inbox.<recipient>.<origin>.<id>" ([InboxSubject]), on the file-backed
// stream [InboxStream], with a Nats-Msg-Id bound to the recipient, the
// origin, the id and the copy's bytes, so a retried publish is stored once
// and no other state can claim the id first. The secretariat provisions the stream and one
// durable pull consumer per state ([InboxConsumer]); each state node reads
// only its own consumer, so a node that was down catches up where it left
// off. A node that lost its database reads its inbox again, up to its
// inbox consumer's ack floor ([Client.InboxAckFloor]), through a second
// pre-created consumer of its own ([Client.ReplayInbox]). Subjects,
// streams and consumers are named only in subjects.go.
//
// Identity is the node's X.509 SVID: the server requires mTLS with a SVID of
// the trust domain and maps the certificate's SPIFFE ID to a NATS user of
// the same name (verify_and_map). A state node of CC may publish copies only
// as origin CC, and may only look up, pull from and ack its own consumer;
// it cannot create, change, delete or purge streams or consumers.
//
// The delivery audit travels beside the copies: each node publishes its
// signed receipts under its own state ([Client.PublishEvent], read only by
// the secretariat); the secretariat publishes its log's checkpoints
// ([Client.PublishCheckpoint]) and answers the state nodes' consistency
// proof requests ([Client.RequestProof], [Client.ServeProofs]); each state
// node publishes the checkpoint it accepted under its own state and reads
// the others' ([Client.PublishWitnessed], [Client.Witnessed]).
//
// The secretariat's signed documents, the membership table and the deny
// list (package membership), travel on [MembershipStream]: only the
// secretariat publishes them ([Client.PublishMembership]); every node
// reads them ([Client.WatchMembership]) and verifies them itself. A server
// configured with the secretariat's membership verifier key
// ([ServerConfig.MembershipKey]) reads them too, through a connection of
// its own, and applies them by a configuration reload: a state node is a
// NATS user only while its state is active, a denied identity is none, a
// denied certificate fails the TLS handshake, and the open connections
// (clients and leaf nodes) of what is no longer allowed are cut, while
// every other connection stays up.
//
// Walk-through:
//
//	srv, err := backbone.StartServer(ctx, backbone.ServerConfig{
//		StoreDir: dir, TrustDomain: td, SVID: svid, Bundle: bundle,
//		Nodes: []spiffeid.ID{secretariatID, mxID, caID},
//	})
//	defer srv.Close()
//
//	sec, err := backbone.Connect(ctx, backbone.ClientConfig{URLs: []string{srv.ClientURL()}, ...})
//	err = sec.Provision(ctx, region.Codes())        // secretariat only
//
//	mx, err := backbone.Connect(ctx, ...)            // with MX's node SVID
//	ack, err := mx.PublishInbox(ctx, "CA", "MX", id, sealed)
//
//	ca, err := backbone.Connect(ctx, ...)            // with CA's node SVID
//	err = ca.ConsumeInbox(ctx, func(ctx context.Context, m backbone.Msg) error {
//		return store(m)                              // nil acks, ErrReject terminates
//	})
//
// # Durability
//
// The embedded server syncs every write before acknowledging it
// (sync_interval: always), so a [PubAck] is a commit point; a publish that
// got no answer is sent again under the same Nats-Msg-Id. The streams deny
// message deletion and purge: messages leave them only by age, after the
// [Retention] the secretariat provisions them with. A handled copy is
// acked with confirmation, retried across reconnects.
//
// No node may read a stored copy by sequence or subject, the
// secretariat's included; tests that check what the backbone stores read
// it as an inspector ([ServerConfig.Inspectors]), an identity outside the
// IANT scheme that production configurations never name.
//
// # Leaf nodes
//
// A state node may run behind a NATS leaf node embedded in its own process
// ([ClientConfig.Leaf], [LeafConfig]): the leaf has a JetStream of its own
// in domain [LeafDomain] and one link to the backbone's leaf node port,
// made with the node's SVID, over which the backbone applies exactly the
// node's permissions (publish is what the leaf may send in, subscribe what
// the backbone sends out). Copies, the inbox, directory, receipts and
// checkpoints all go through the link, the backbone's JetStream addressed
// by [HubDomain]; while the link is cut [Client.PublishInbox] fails at once
// and the node keeps its copies in its own outbox until it returns.
// Directory entries read are kept at the leaf ([KeptDirectoryStream]) and
// used while the link is cut.
//
// # Operations
//
// A [Server] keeps [ServerConfig.MinFreeDisk] free on its store's
// filesystem: below it JetStream refuses new messages at once
// ([ErrStorageFull] at the publisher) until space returns, and a
// JetStream that failed a write for want of space is restarted
// in-process once there is room again (disk.go). [Server.Health] says
// whether it is fit to take messages, and [Server.Collector] reads its
// figures (iant_backbone_*) from the embedded nats-server at each scrape.
// A [Client] tells its node whether it reaches the backbone and how its
// inbox consumer stands (health.go).
//
// # Concurrency
//
// A [Client] is safe for concurrent use. [Client.ConsumeInbox] calls its
// [Handler] on the calling goroutine, one copy at a time, in stream order:
// the consumer allows a single unacknowledged copy, so a copy that fails
// transiently is redelivered before any later one. When ConsumeInbox stops,
// a copy received but not handled is handed back at once; one lost with a
// crashed node is redelivered after [AckWait], and the inbox waits for it.
// [Client.Close] stops running ConsumeInbox calls and waits for them before
// it drains the connection. [Server] methods are safe for concurrent use.
package backbone

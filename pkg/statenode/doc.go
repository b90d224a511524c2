// Package statenode is a member state's IANT node: the gRPC service its
// focal points and analysts call, composed of the identity, bulletin,
// policy, seal, store, audit and backbone packages on the
// [nodeserver] scaffold.
//
// A state node terminates its people's mTLS gRPC calls (only people of its
// own state), checks who they are from the SPIFFE ID of the connection,
// validates and posts bulletins to every recipient state's inbox on the
// backbone, consumes its own inbox into its SQLite store, and pushes new
// bulletins to open subscriptions. It publishes its keys in the directory
// on the backbone and opens only copies the directory proves genuine.
//
// A post is one durable decision (post.go, outbox.go): the sent bulletin,
// one sealed copy per recipient and its posted and released receipts
// commit in one transaction of the node's database before the author is
// answered, keyed by the author's idempotency key when the request has
// one (a retry returns the same bulletin). One drainer publishes the
// copies, each recipient's in commit order, marks each published on its
// acknowledgement and retries until the backbone takes it, after restarts
// too; the post waits up to [Config.PostWait] and answers with the
// recipients whose copies still wait. Copies leave the node this one way,
// whether it connects directly or through its leaf node. At
// [Config.MaxPendingCopies] waiting copies, posts are refused.
//
//	n, err := statenode.Start(ctx, statenode.Config{...})
//	defer n.Close()
//	fmt.Println(n.Addr())
//
// Membership (membership.go): the node reads the secretariat's membership
// table and deny list from the backbone, checks them with
// Config.MembershipKey and keeps the newest in DataDir. It releases among
// the states the table releases to (a region means its members), refuses
// its people while its own state is not active or the backbone refuses
// the node, and refuses denied certificates on every call (the
// [nodeserver] ends their open streams).
//
// Authorization: focal points post, acknowledge and forward; focal points
// and analysts read, each bulletin through the one read decision of the
// policy (read.go): an explicit request it refuses is PermissionDenied
// and audited, a list or stream leaves the bulletin out. Releasability
// decides which states receive a copy; a state's store only ever holds
// what was released to it, sent by it, or forwarded to it under the
// policy. Bulletins are named by origin and id (another state's bulletin
// of the same id is another bulletin).
//
// Receiving (receive.go) opens each copy of the inbox, stores it with the
// sealed copy as received and its delivered receipt, and rejects for good
// only on a cryptographic or policy verdict; a copy it cannot decide now
// (an unknown format version, a signer whose directory entry is missing)
// is parked (park.go): kept in the node's database and acknowledged, so
// that no copy holds back those behind it, tried again until decided,
// and bounded per publishing state ([Config.Park]); only a local, brief
// failure (the store, a closing node) has the copy redelivered. The table
// in receive.go classifies every failure. Forwarding (forward.go)
// re-wraps the content key of the origin's sealed copy for the target
// ([seal.Forward]) with the node's signed statement, through the outbox;
// the receiver checks both signatures ([seal.OpenForwarded]) and its
// policy, and shows the bulletin as the origin's, forwarded by the
// forwarder.
//
// Delivery audit (audit*.go): the node signs a receipt with its SVID for
// each bulletin posted, released, delivered, read (once per person),
// acknowledged or refused ([audit.SignReceipt]) — the posted and
// delivered ones carrying the header attestation of what the origin
// signed ([seal.Attestation]), and every receipt of a state a forward
// reached the forwarder's ([seal.ForwardAttestation]) — queues it in its
// database (with the post or the delivery it reports, in the same
// transaction) and publishes it on the backbone in the background. It
// witnesses the secretariat's log ([audit.Witness], with the configured
// verifier key): it checks the latest published checkpoint against the
// last it accepted with one consistency proof asked of the secretariat
// whatever the gap, tells the other states the checkpoint it accepted and
// compares theirs; two checkpoints no append-only log explains together
// are an alarm ([Node.AuditAlarms], logged at Error with both signed
// notes). Recording never fails or blocks a person's call beyond one
// local write.
//
// Keys (keys.go, retention.go, dirmark.go): the node's keys live in
// [Config.KeyFile], apart from the data it can rebuild. It rotates its KEM
// key ([Node.RotateKeys], [Config.KeyRotation]) and keeps each retired one
// for [Config.InboxRetention] plus [KeyRetentionMargin], pruning it then;
// it rotates its origin signing key ([Node.RotateSignKey],
// [Config.SignKeyRotation]) by announcing the retired key in its
// directory entry before the new key signs; [Node.RotateSignKeyWith]
// retires it as compromised, and every node then rejects whatever that
// key signed that it does not hold already (compromised.go, rule
// receive.key_compromised) and withdraws what it held that the key
// signed (withdraw.go: kept, shown by no read path), with the
// translations and pending consent requests that state sent on that key;
// the origin then signs its own bulletins and its translations again
// with its new key and re-sends them (reattest.go), and recipients put
// back what they withdrew. It keeps every signing key it verified in
// another state's entry (signkeys.go), so that a key the entry no longer
// lists still verifies what it signed before. It accepts another state's
// directory entry only if it is not older than the newest it accepted of
// that state (kept in its database): a replayed entry is refused and
// logged (rule directory.replay). An hourly maintenance prunes keys and
// outbox markers past their retention ([Config.OutboxRetention]) and
// publishes the node's own entry again when it ages or was replaced.
// Health and metrics (health.go, status.go, observe.go): the node checks
// every [HealthConfig.Interval] that the backbone answers, its inbox
// consumer exists, its directory entry is current and fresh, its disks
// have [HealthConfig.MinFreeDisk] free and its SVID is valid, and answers
// SERVING only then; GetStatus describes it to its people. Below the
// free disk minimum it refuses posts (Unavailable, naming its disk). It
// records its figures (package metrics) in Config.Metrics under
// node=<state code>.
//
// # Concurrency
//
// A Node is safe for concurrent use. Its goroutines (gRPC server, inbox
// consumer, parked copies' retries, copy drainer, receipt publisher,
// witness) are owned by the
// Node and stopped by Close, which waits for them. Bulletins reach each
// subscription in store-cursor order, and each recipient's inbox this
// node's copies in commit order.
package statenode

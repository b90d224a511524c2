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
// Authorization: focal points post, acknowledge and forward; focal points
// and analysts read, each bulletin through the read decision of the
// policy. Releasability decides which states receive a copy; a state's
// store only ever holds what was released to it or sent by it.
//
// Delivery audit (audit*.go): the node signs a receipt with its SVID for
// each bulletin posted, released, delivered, read (once per person),
// acknowledged or refused ([audit.SignReceipt]) — the posted and
// delivered ones carrying the header attestation of what the origin
// signed (or the forwarder's statement, [attest]) — queues it in its
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
// consumer, copy drainer, receipt publisher, witness) are owned by the
// Node and stopped by Close, which waits for them. Bulletins reach each
// subscription in store-cursor order, and each recipient's inbox this
// node's copies in commit order.
package statenode

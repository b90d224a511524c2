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
// SQLite outbox and publishes it on the backbone in the background. It
// witnesses the secretariat's log ([audit.Witness], with the configured
// verifier key): it checks the latest published checkpoint against the
// last it accepted with one consistency proof asked of the secretariat
// whatever the gap, tells the other states the checkpoint it accepted and
// compares theirs; two checkpoints no append-only log explains together
// are an alarm ([Node.AuditAlarms], logged at Error with both signed
// notes). Recording never fails or blocks a person's call beyond one
// local write.
//
// # Concurrency
//
// A Node is safe for concurrent use. Its goroutines (gRPC server, inbox
// consumer, receipt publisher, witness) are owned by the Node and stopped
// by Close, which waits for them. Bulletins reach each subscription in
// store-cursor order.
package statenode

// Package node is an IANT node: the gRPC service a member state (or the
// secretariat) runs for its people, composed of the identity, bulletin,
// store and backbone packages.
//
// A state node terminates its people's mTLS gRPC calls, checks who they
// are from the SPIFFE ID of the connection, validates and posts bulletins
// to every recipient state's inbox on the backbone, consumes its own inbox
// into its SQLite store, and pushes new bulletins to open subscriptions.
// The secretariat node provisions the backbone (the inbox stream and one
// durable consumer per state) and serves the directory.
//
//	n, err := node.Start(ctx, node.Config{...})
//	defer n.Close()
//	fmt.Println(n.Addr())
//
// Authorization in this slice: a caller must be a person of the node's own
// state (secretariat people at the secretariat node); focal points post
// and acknowledge; focal points and analysts read. Releasability decides
// which states receive a copy; a state's store only ever holds what was
// released to it or sent by it.
//
// Delivery audit (audit*.go): a state node signs a receipt with its SVID
// for each bulletin posted, released, delivered, read (once per person),
// acknowledged or refused, queues it in its SQLite outbox and publishes it
// on the backbone in the background; it also checks each checkpoint the
// secretariat publishes against the last it accepted ([audit.Witness]).
// The secretariat node verifies the receipts into its [audit.Log],
// publishes checkpoints, escalates overdue acknowledgements and serves the
// AuditService. Recording never fails or blocks a person's call beyond
// one local write.
//
// # Concurrency
//
// A Node is safe for concurrent use. Its goroutines (gRPC server, inbox
// consumer) are owned by the Node and stopped by Close, which waits for
// them. Bulletins reach each subscription in store-cursor order.
package node

// Package secretariat is the secretariat's IANT node: it provisions the
// backbone (the streams and one durable consumer per member state), keeps
// the delivery audit log, and serves the AuditService and the directory to
// the secretariat's auditors, on the [nodeserver] scaffold.
//
//	n, err := secretariat.Start(ctx, secretariat.Config{...})
//	defer n.Close()
//	vkey := n.AuditVerifierKey() // every state node is configured with it
//	mkey := n.MembershipVerifierKey() // every node and backbone server too
//
// The node verifies each receipt a state node publishes — signed by that
// node's SVID, about something that state may speak for
// ([audit.VerifyReceipt]) — and the evidence it carries: the header the
// bulletin's origin signed ([seal.Attestation]), and a forwarder's
// statement ([seal.ForwardAttestation]), checked against the directory's
// signing keys, current or retired (Config.Verifiers overrides). It submits
// them to its [audit.Log], which takes only what agrees with the signed
// header; a receipt whose bulletin's header is not logged yet is
// redelivered for Audit.HeaderWait. It publishes signed checkpoints with
// consistency proofs on the backbone, answers the state nodes' requests
// for consistency proofs between any two sizes, and escalates
// acknowledgements past their deadline. Only secretariat people may call
// it, except a state's focal point asking for the delivery report of a
// bulletin its own state originated.
//
// The node also authors the membership table and the deny list (package
// membership), signed with its membership key (DataDir/membership.key):
// it signs the genesis table from Config.ProvisionStates on its first
// start, and its AdminService lets secretariat administrators add,
// suspend, reinstate and remove states (provisioning a new state's inbox
// first) and deny or allow identities; auditors read both. Each new
// version is kept in DataDir before it is published on the backbone, and
// published again until the backbone carries it.
// Health and metrics (health.go): the node checks that the backbone
// answers, every consumer it provisioned exists, its disk has room and
// its SVID is valid, serves GetStatus to the secretariat's people, and
// records its figures (escalations, overdue acknowledgements, the log's
// size) in Config.Metrics under node=secretariat.
//
// # Concurrency
//
// A Node is safe for concurrent use. Its goroutines (gRPC server, receipt
// consumer, checkpoint publisher, proof server, escalations, membership
// republisher) are owned by the Node and
// stopped by Close, which waits for them.
package secretariat

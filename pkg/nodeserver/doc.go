// Package nodeserver is the gRPC server scaffold every IANT node runs, a
// member state's node ([statenode]) and the secretariat's ([secretariat])
// alike: mTLS with the node's SVID, the caller's identity read from the
// connection, an admission rule per node kind, the one mapping of
// [problem] kinds to gRPC status codes, health, reflection and the
// DirectoryService.
//
//	s, err := nodeserver.Listen(nodeserver.Config{SVID: svid, Bundle: b, TrustDomain: td, Admit: admit})
//	iantv1.RegisterBulletinServiceServer(s.GRPC(), svc)
//	s.Serve()          // in the background; Stop ends it
//	p := nodeserver.Caller(ctx)   // in a handler: the authenticated person
//
// Authorization never reads a field of the request: [Caller] is the
// principal of the peer's verified SPIFFE ID, and the node's [Admission]
// decides who may call it at all before any handler runs. With
// Config.Membership, a certificate the secretariat's deny list names (by
// serial number or SPIFFE ID) is refused every call, and open streams are
// judged again whenever the node accepts a new document ([Server.Recheck]):
// a stream whose caller is denied, or refused by the admission rule by
// then, ends with PermissionDenied at once.
//
// Health (health.go): the node reports the results of its health checks
// with [Server.SetChecks]; the gRPC health service then answers SERVING
// only while all pass, and each check under [CheckService] (e.g.
// "iant.check.disk"). [Server.RegisterStatus] serves the StatusService
// the node answers. With Config.Metrics the server counts every call by
// method and code, and every PermissionDenied by its rule.
//
// [statenode]: github.com/oas-cicte/iant/pkg/statenode
// [secretariat]: github.com/oas-cicte/iant/pkg/secretariat
//
// # Concurrency
//
// A Server is safe for concurrent use; Serve runs the gRPC server on a
// goroutine the Server owns, and Stop waits for it.
package nodeserver

// Package metrics defines IANT's Prometheus metrics, every series named
// iant_*, and serves them over HTTP for a scraper (docs/operations.md).
//
// A node ([statenode], [secretariat]) records into a [Node] and registers
// it with the process's registry wrapped in its own constant label
// node="<state code>" or node="secretariat" ([Register]); a backbone
// server registers its collector ([backbone.Server.Collector]) wrapped in
// server="<name>". One registry per process, never Prometheus's global
// one: iantd and iant-backbone each have one, and `iant demo` has one for
// its 35 nodes and its backbone, whose series differ by that label alone,
// so a dashboard reads a demo and a deployment alike. A node unregisters
// its collector when it closes, so a restarted node registers again.
//
//	reg := prometheus.NewRegistry()
//	m := metrics.NewNode(metrics.StateNode)
//	unregister, err := metrics.Register(reg, "MX", m)
//	m.Posted(bulletin.Flash)          // in the post path
//	srv, err := metrics.Listen(metrics.ServerConfig{Addr: "127.0.0.1:9464", Gatherer: reg})
//	fmt.Println(srv.URL())            // http://127.0.0.1:9464/metrics
//
// # Names
//
// Counters end in _total, durations are in seconds, sizes in bytes, times
// are Unix timestamps in seconds (_timestamp_seconds). Labels carry only
// bounded sets: precedence, a rule id of the policy or of a refusal, a
// decision point, a health check's name, a state code. Bulletin ids,
// people and texts never appear. Families planned by issue 16 fit the
// same scheme: membership changes as iant_membership_*, revoked
// identities as iant_revocations_* and refusals of a revoked caller under
// iant_refusals_total{rule="caller.revoked"}.
//
// A label set known in advance (the four precedences, the seal failure
// reasons) is exported at zero from the start, so a rate is defined before
// the first event; other label values appear with their first event.
//
// # Concurrency
//
// A [Node] is safe for concurrent use; a nil *Node records nothing. A
// [Server] serves on a goroutine it owns until Close.
//
// [statenode]: github.com/oas-cicte/iant/pkg/statenode
// [secretariat]: github.com/oas-cicte/iant/pkg/secretariat
// [backbone.Server.Collector]: github.com/oas-cicte/iant/pkg/backbone#Server.Collector
package metrics

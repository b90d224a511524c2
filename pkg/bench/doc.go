// Package bench measures the speed of a whole IANT network end to end and,
// in the same run, of what sits under it: the bare JetStream backbone and
// sealing alone. `iant bench` is its command line.
//
// [Run] starts a network in this process on loopback ([testenv]): the
// embedded backbone, the secretariat node and a node per state, with one
// analyst of every state subscribed to its node. It then runs each
// scenario ([Bilateral], [Regional], [Broadcast], [Mixed]) in three
// phases over the same plan of bulletins (origins round robin among the
// states):
//
//  1. the ceiling: seal once and open once per recipient, on every CPU,
//     with nothing else ([Ceiling]);
//  2. IANT: focal points post through the public gRPC API (mTLS, policy,
//     sealing, JetStream, SQLite), and the figures are taken where people
//     see them: the author's answer, the copy stored at each recipient
//     node, the push to each recipient's analyst, and the headline, the
//     push to the last recipient's analyst;
//  3. the baseline: the same number of messages, of the sealed size, to
//     the same recipients, published with backbone.Client.PublishInbox and
//     consumed with ConsumeInbox on a second embedded JetStream server with
//     the same configuration and mTLS, without IANT's layers.
//
// Walk-through:
//
//	rep, err := bench.Run(ctx, bench.Options{States: bench.PickStates(6), Scenarios: bench.AllScenarios(), Rate: 20}, os.Stderr)
//	rep.WriteTable(os.Stdout)
//	json.NewEncoder(f).Encode(rep)
//	rep.WriteChart(svg)   // CDF of post → last recipient, per scenario
//
// Posting is open loop at Options.Rate bulletins/s (each post's clock
// starts when it was due, so a stall is not hidden) or, with Rate 0,
// closed loop with Options.Concurrency posters. A phase ends at
// Options.Count bulletins or Options.Duration, whichever comes first, and
// then waits (up to Options.DrainTimeout) for every delivery. Before each
// phase Run waits (up to a minute) until the process is nearly idle, so
// that work a phase leaves behind, such as the delivery audit catching up,
// is not charged to the next. Each delivery is counted once per
// recipient: duplicates and missing copies are reported, never hidden.
//
// Everything runs in one process, so CPU time (getrusage) and memory
// (VmRSS, VmHWM) are the process's, bench clients included; per-node
// memory is the process's divided by the number of nodes.
//
// # Concurrency
//
// Run may be called again after it returns but not concurrently with
// itself in one process: the process-wide CPU and memory figures would mix.
// Run owns every goroutine it starts and stops them before it returns.
// A [Report] is plain data.
package bench

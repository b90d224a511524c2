// Package health runs a node's health checks and keeps their outcomes:
// each check is a named function that returns nil when the node is well
// in that respect, or an error that says, for an operator, what is wrong.
// A [Monitor] runs them together on a schedule and reports every outcome
// (to the gRPC health service and the metrics, in the node), so that
// "serving" means the checks pass, not merely that the process runs.
//
//	m := health.NewMonitor([]health.Check{
//		{Name: "disk", Run: health.Disk{Dirs: dirs, Min: 256 << 20}.Check},
//		{Name: "svid", Run: func(ctx context.Context) error { _, err := health.SVID(src, time.Now()); return err }},
//	}, health.Options{Report: report})
//	m.CheckNow(ctx)               // once, before serving
//	go m.Run(ctx, 10*time.Second) // then on a schedule until ctx ends
//	ok := health.Healthy(m.Results())
//
// The helpers measure free disk space ([FreeBytes], [Disk], [Room]) and
// an SVID's validity ([SVID]).
//
// # Concurrency
//
// A Monitor is safe for concurrent use; its checks run concurrently with
// each other, each bounded by a timeout, and Report is called from the
// goroutine that ran CheckNow.
package health

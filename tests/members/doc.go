// Package members runs whole networks (package testenv: the embedded
// backbone applying the secretariat's documents by configuration reload,
// real mTLS, real nodes) through membership changes and denials: a state
// joins a running network and receives its region's bulletins, a
// suspended state is cut off and gets its queued copies once reinstated,
// a denied person loses an open subscription at once and a denied node
// its backbone connections, while everyone else's traffic goes on. The
// times from a denial to the cut-off are measured and logged, not bounded.
package members

// Package spire holds the SPIRE integration test of IANT, and nothing else:
// it runs real spire-server and spire-agent binaries (v1.13.3, built by
// scripts/install-spire.sh) with the configuration in deploy/spire,
// registers entries with deploy/spire/register.sh, and runs iantd nodes as
// separate processes, each under its own unix uid, that take their SVIDs
// from the SPIFFE Workload API. The test then checks that bulletins flow
// from MX to a US analyst and that an SVID rotation mid-traffic drops no
// connection and no bulletin.
//
// The test finds the binaries through IANT_SPIRE_DIR:
//
//	export IANT_SPIRE_DIR=$(scripts/install-spire.sh)
//	go test ./tests/spire
//
// Without it the test is skipped, or fails when CI=true. It must run as
// root, to start each node under its own uid.
package spire

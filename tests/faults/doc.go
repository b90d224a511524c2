// Package faults holds the fault tests of IANT: a whole network run as
// separate processes by deploy/local-cluster.sh (three backbone servers in
// one JetStream cluster, the secretariat and state nodes), into which the
// tests inject crashes and outages while bulletins flow, and then count
// what was posted, acknowledged, delivered, duplicated and lost.
package faults

// Package wan runs IANT over a simulated inter-American WAN: the three
// backbone servers (iant-backbone) and several state nodes (iantd), real
// processes, each in a network namespace of its own at a site of the
// region, joined by links with the round trip times between those sites
// (20 to 150 ms), ±10% jitter and 1% loss each way. It checks that
// bulletins flow and reports their latencies, cuts and heals a state's
// link (its node behind a leaf node), partitions a backbone server from
// the other two, and runs `iant bench` against the cluster over the WAN.
//
// The links are emulated in this process by a Switch over TAP devices
// rather than with `tc qdisc ... netem`: the kernels this runs on in CI
// are built without sch_netem (CONFIG_NET_SCH_NETEM unset), and a TAP
// device needs only the TUN driver. The switch does what netem does on
// each link: a delay per pair of sites, jitter, loss; it keeps each
// pair's frames in order.
//
// It needs root (network namespaces) and skips, saying why, without it,
// without `ip netns` or without /dev/net/tun; CI runs it as root.
package wan

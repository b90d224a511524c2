package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// Kind says which node a [Node] measures: the families differ.
type Kind int

// Node kinds.
const (
	// StateNode is a member state's node.
	StateNode Kind = iota + 1
	// SecretariatNode is the secretariat's node.
	SecretariatNode
)

// SealFailureReasons are the values of the reason label of
// iant_seal_failures_total, each exported from the start.
var SealFailureReasons = []string{"signature", "signer", "key", "expired", "not_recipient", "decrypt",
	"malformed", "version", "directory", "other"}

// LatencyBuckets are the bounds, in seconds, of the delivery latency
// histogram: from a LAN's tens of milliseconds to the FLASH
// acknowledgement deadline (15 minutes) and beyond.
var LatencyBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

// Node holds the metrics of one node. Create it with [NewNode]; a nil
// *Node records nothing.
type Node struct {
	kind Kind
	// every node
	rpcs       *prometheus.CounterVec
	refusals   *prometheus.CounterVec
	checks     *prometheus.GaugeVec
	diskFree   *prometheus.GaugeVec
	diskMin    *prometheus.GaugeVec
	svidExpiry *prometheus.GaugeVec
	svidIssued *prometheus.GaugeVec
	backboneUp *prometheus.GaugeVec
	// state nodes
	posted, received *prometheus.CounterVec
	latency          *prometheus.HistogramVec
	policy           *prometheus.CounterVec
	sealFailures     *prometheus.CounterVec
	copiesPending    *prometheus.GaugeVec
	copiesLimit      *prometheus.GaugeVec
	copiesPublished  *prometheus.CounterVec
	receiptsPending  *prometheus.GaugeVec
	inboxPending     *prometheus.GaugeVec
	inboxAckPending  *prometheus.GaugeVec
	leafLink         *prometheus.GaugeVec
	entryExpiry      *prometheus.GaugeVec
	// the secretariat
	escalations *prometheus.CounterVec
	overdue     *prometheus.GaugeVec
	logSize     *prometheus.GaugeVec

	all []prometheus.Collector
}

// NewNode returns the metrics of a node of kind k.
func NewNode(k Kind) *Node {
	m := &Node{kind: k}
	m.rpcs = m.counter("iant_grpc_requests_total", "gRPC calls answered by the node, by method and status code.", "method", "code")
	m.refusals = m.counter("iant_refusals_total", "Refusals by the rule that refused: a call refused by policy or rule (PermissionDenied), a copy rejected on receipt (receive.*), a post refused for want of room (node.disk_full, node.outbox_full).", "rule")
	m.checks = m.gauge("iant_health_check_ok", "1 when the health check passes, 0 when it fails (see iant status).", "check")
	m.diskFree = m.gauge("iant_disk_free_bytes", "Free bytes on the filesystem of each directory the node writes (data, leaf).", "dir")
	m.diskMin = m.gauge("iant_disk_min_free_bytes", "The free space the node keeps (disk.min_free): below it the disk check fails and posts are refused.")
	m.svidExpiry = m.gauge("iant_svid_expiry_timestamp_seconds", "When the node's X.509 SVID expires (NotAfter).")
	m.svidIssued = m.gauge("iant_svid_issued_timestamp_seconds", "When the node's X.509 SVID became valid (NotBefore).")
	m.backboneUp = m.gauge("iant_backbone_connected", "1 while the node has a working connection to the backbone (through its leaf node's link, if any).")
	switch k {
	case StateNode:
		m.stateFamilies()
	case SecretariatNode:
		m.escalations = m.counter("iant_escalations_total", "Acknowledgements escalated past their deadline, by precedence.", "precedence")
		m.overdue = m.gauge("iant_acknowledgements_overdue", "Recipient states that have not acknowledged a bulletin past its deadline, by precedence, at the last escalation pass.", "precedence")
		m.logSize = m.gauge("iant_audit_log_entries", "Entries in the secretariat's audit log.")
		for _, p := range bulletin.Precedences() {
			m.escalations.WithLabelValues(p.String())
			m.overdue.WithLabelValues(p.String())
		}
	}
	return m
}

func (m *Node) stateFamilies() {
	m.posted = m.counter("iant_bulletins_posted_total", "Bulletins posted by this state's focal points, by precedence.", "precedence")
	m.received = m.counter("iant_bulletins_received_total", "Bulletins received from other states and stored, by precedence.", "precedence")
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "iant_delivery_latency_seconds",
		Help:    "From a bulletin's signed creation time at its origin to its copy stored at this node, by precedence.",
		Buckets: LatencyBuckets}, []string{"precedence"})
	m.all = append(m.all, m.latency)
	m.policy = m.counter("iant_policy_decisions_total", "Policy decisions by decision point (post, release, read, forward), outcome (allow, deny) and deciding rule id.", "point", "decision", "rule")
	m.sealFailures = m.counter("iant_seal_failures_total", "Bulletins that could not be sealed (op=seal) or copies that did not open (op=open), by reason.", "op", "reason")
	m.copiesPending = m.gauge("iant_outbox_copies_pending", "Sealed copies committed at this node and not yet acknowledged by the backbone.")
	m.copiesLimit = m.gauge("iant_outbox_copies_limit", "The copies the outbox may hold (backbone.max_pending_copies): at the limit, posts are refused.")
	m.copiesPublished = m.counter("iant_outbox_copies_published_total", "Copies the backbone acknowledged to this node, duplicates included.")
	m.receiptsPending = m.gauge("iant_receipts_pending", "Signed receipts queued at this node for the backbone (the receipt backlog).")
	m.inboxPending = m.gauge("iant_inbox_pending", "Copies in this state's inbox not yet delivered to its node (the inbox consumer's pending count).")
	m.inboxAckPending = m.gauge("iant_inbox_ack_pending", "Copies delivered to this node and not yet acknowledged (the inbox consumer's ack pending count).")
	m.leafLink = m.gauge("iant_leaf_link_up", "1 while the node's leaf node has its link to the backbone; absent for a node connected directly.")
	m.entryExpiry = m.gauge("iant_directory_entry_expiry_timestamp_seconds", "When this node's directory entry, as the backbone holds it, expires.")
	for _, p := range bulletin.Precedences() {
		m.posted.WithLabelValues(p.String())
		m.received.WithLabelValues(p.String())
		m.latency.WithLabelValues(p.String())
	}
	for _, op := range []string{"seal", "open"} {
		for _, r := range SealFailureReasons {
			m.sealFailures.WithLabelValues(op, r)
		}
	}
	m.copiesPublished.WithLabelValues()
}

func (m *Node) counter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	m.all = append(m.all, c)
	return c
}

// gauge makes a gauge family; one without labels is exported only once
// it is set, so a figure never measured does not read as zero.
func (m *Node) gauge(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	m.all = append(m.all, g)
	return g
}

// Describe implements prometheus.Collector.
func (m *Node) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.all {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Node) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.all {
		c.Collect(ch)
	}
}

// Call counts a gRPC call of method answered with code.
func (m *Node) Call(method, code string) {
	if m != nil {
		m.rpcs.WithLabelValues(method, code).Inc()
	}
}

// Refused counts a refusal by rule.
func (m *Node) Refused(rule string) {
	if m != nil && rule != "" {
		m.refusals.WithLabelValues(rule).Inc()
	}
}

// Check records the outcome of health check name.
func (m *Node) Check(name string, ok bool) {
	if m != nil {
		m.checks.WithLabelValues(name).Set(b2f(ok))
	}
}

// DiskFree records the free bytes on the filesystem of directory dir
// (a short name: data, leaf, store).
func (m *Node) DiskFree(dir string, free uint64) {
	if m != nil {
		m.diskFree.WithLabelValues(dir).Set(float64(free))
	}
}

// DiskMin records the free space the node keeps.
func (m *Node) DiskMin(min uint64) {
	if m != nil {
		m.diskMin.WithLabelValues().Set(float64(min))
	}
}

// SVID records the validity of the node's SVID.
func (m *Node) SVID(notBefore, notAfter time.Time) {
	if m != nil {
		m.svidIssued.WithLabelValues().Set(unix(notBefore))
		m.svidExpiry.WithLabelValues().Set(unix(notAfter))
	}
}

// BackboneConnected records whether the node reaches the backbone.
func (m *Node) BackboneConnected(ok bool) {
	if m != nil {
		m.backboneUp.WithLabelValues().Set(b2f(ok))
	}
}

func b2f(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

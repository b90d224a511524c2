package metrics

import (
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
)

// The methods below record what only a state node measures (or only the
// secretariat's); on a node of the other kind, or a nil *Node, they
// record nothing.

func (m *Node) state() bool       { return m != nil && m.kind == StateNode }
func (m *Node) secretariat() bool { return m != nil && m.kind == SecretariatNode }

// Posted counts a bulletin posted at this node.
func (m *Node) Posted(p bulletin.Precedence) {
	if m.state() {
		m.posted.WithLabelValues(p.String()).Inc()
	}
}

// Received counts a bulletin received and stored, and observes its
// delivery latency: from created, the time its origin signed, to at.
func (m *Node) Received(p bulletin.Precedence, created, at time.Time) {
	if !m.state() {
		return
	}
	m.received.WithLabelValues(p.String()).Inc()
	m.latency.WithLabelValues(p.String()).Observe(max(at.Sub(created), 0).Seconds())
}

// PolicyDecision counts a decision of the policy at point (post, release,
// read, forward) decided by rule.
func (m *Node) PolicyDecision(point string, allowed bool, rule string) {
	if !m.state() {
		return
	}
	d := "deny"
	if allowed {
		d = "allow"
	}
	m.policy.WithLabelValues(point, d, rule).Inc()
}

// SealFailed counts a failure to seal (op "seal") or to open (op "open")
// for reason, one of [SealFailureReasons].
func (m *Node) SealFailed(op, reason string) {
	if m.state() {
		m.sealFailures.WithLabelValues(op, reason).Inc()
	}
}

// CopyPublished counts a copy the backbone acknowledged.
func (m *Node) CopyPublished() {
	if m.state() {
		m.copiesPublished.WithLabelValues().Inc()
	}
}

// Queues records the node's outboxes: copies and receipts waiting for
// the backbone.
func (m *Node) Queues(copies, receipts int) {
	if m.state() {
		m.copiesPending.WithLabelValues().Set(float64(copies))
		m.receiptsPending.WithLabelValues().Set(float64(receipts))
	}
}

// OutboxLimit records how many copies the outbox may hold.
func (m *Node) OutboxLimit(n int) {
	if m.state() {
		m.copiesLimit.WithLabelValues().Set(float64(n))
	}
}

// Inbox records the state's inbox consumer as the backbone reports it.
func (m *Node) Inbox(pending uint64, ackPending int) {
	if m.state() {
		m.inboxPending.WithLabelValues().Set(float64(pending))
		m.inboxAckPending.WithLabelValues().Set(float64(ackPending))
	}
}

// LeafLink records whether the node's leaf node has its link up; call it
// only for a node behind a leaf node.
func (m *Node) LeafLink(up bool) {
	if m.state() {
		m.leafLink.WithLabelValues().Set(b2f(up))
	}
}

// DirectoryEntryExpiry records when the node's directory entry expires.
func (m *Node) DirectoryEntryExpiry(t time.Time) {
	if m.state() {
		m.entryExpiry.WithLabelValues().Set(unix(t))
	}
}

// Escalated counts an acknowledgement escalated past its deadline.
func (m *Node) Escalated(p bulletin.Precedence) {
	if m.secretariat() {
		m.escalations.WithLabelValues(p.String()).Inc()
	}
}

// Overdue records how many recipient states are past their deadline
// without an acknowledgement, by precedence; precedences absent from
// counts are set to zero.
func (m *Node) Overdue(counts map[bulletin.Precedence]int) {
	if !m.secretariat() {
		return
	}
	for _, p := range bulletin.Precedences() {
		m.overdue.WithLabelValues(p.String()).Set(float64(counts[p]))
	}
}

// AuditLogSize records the number of entries in the audit log.
func (m *Node) AuditLogSize(n uint64) {
	if m.secretariat() {
		m.logSize.WithLabelValues().Set(float64(n))
	}
}

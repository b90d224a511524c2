package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/identity"
)

// Delivery audit defaults.
const (
	// DefaultCheckpointInterval is how often the secretariat node publishes
	// a checkpoint of its audit log and state nodes check the latest one.
	DefaultCheckpointInterval = time.Minute
	// DefaultEscalationInterval is how often the secretariat node looks
	// for acknowledgements past their deadline.
	DefaultEscalationInterval = 10 * time.Second
)

// Files of the delivery audit in a node's DataDir.
const (
	outboxFile    = "outbox.db"     // state node: receipts waiting for the backbone
	auditDBFile   = "audit.db"      // secretariat: the audit log
	auditKeyFile  = "audit.key"     // secretariat: the log's note signing key (0600)
	auditVKeyFile = "audit.vkey"    // the log's verifier key: written by the secretariat, pinned by a state node
	witnessFile   = "audit.witness" // state node: the last checkpoint it accepted
)

// AuditConfig configures the delivery audit (DESIGN.md, "Delivery audit").
// Zero values mean the documented defaults.
type AuditConfig struct {
	// CheckpointInterval is how often the secretariat node publishes a
	// signed checkpoint of its audit log on the backbone (only when the log
	// grew), and how often a state node checks the latest one against the
	// last it accepted. Default [DefaultCheckpointInterval].
	CheckpointInterval time.Duration
	// EscalationInterval is how often the secretariat node escalates
	// acknowledgements past their deadline. Default
	// [DefaultEscalationInterval].
	EscalationInterval time.Duration
	// Deadlines are the acknowledgement deadlines by precedence, counted
	// from posting; the zero value is FLASH 15m, IMMEDIATE 1h, PRIORITY
	// 24h, ROUTINE none (see [audit.Deadlines]).
	Deadlines audit.Deadlines
	// VerifierKey is the secretariat audit log's note verifier key
	// ("<origin>+<hash>+<key>", the secretariat writes it to
	// DataDir/audit.vkey), with which a state node checks checkpoints.
	// Empty trusts the key that comes with the first checkpoint the node
	// sees and pins it in the node's DataDir/audit.vkey.
	VerifierKey string
}

// validate names the first bad field.
func (c AuditConfig) validate() error {
	switch {
	case c.CheckpointInterval < 0:
		return errors.New("node: config: Audit.CheckpointInterval is negative")
	case c.EscalationInterval < 0:
		return errors.New("node: config: Audit.EscalationInterval is negative")
	}
	if c.VerifierKey != "" {
		if _, err := note.NewVerifier(c.VerifierKey); err != nil {
			return fmt.Errorf("node: config: Audit.VerifierKey: %w", err)
		}
	}
	return nil
}

func (c AuditConfig) checkpointInterval() time.Duration {
	if c.CheckpointInterval == 0 {
		return DefaultCheckpointInterval
	}
	return c.CheckpointInterval
}

func (c AuditConfig) escalationInterval() time.Duration {
	if c.EscalationInterval == 0 {
		return DefaultEscalationInterval
	}
	return c.EscalationInterval
}

// auditState is the node's part in the delivery audit: a state node queues
// signed receipts in its outbox and witnesses the log's checkpoints; the
// secretariat node keeps the log.
type auditState struct {
	// state nodes
	outbox  *outbox
	witness witnessState

	// secretariat node
	log      *audit.Log
	vkey     string
	verifier note.Verifier
	kick     chan struct{} // asks the checkpoint publisher to publish now
	escalate escalationHub
}

// logOrigin names the secretariat's audit log in its checkpoints.
func logOrigin(n *Node) string { return n.cfg.TrustDomain.Name() + "/audit" }

// openAudit opens the outbox (state node) or the audit log (secretariat).
func (n *Node) openAudit(ctx context.Context) error {
	if n.self.Role == identity.RoleNode {
		ob, err := openOutbox(ctx, filepath.Join(n.cfg.DataDir, outboxFile))
		if err != nil {
			return fmt.Errorf("node: receipt outbox: %w", err)
		}
		n.audit.outbox = ob
		return nil
	}
	signer, vkey, err := loadLogKey(n.cfg.DataDir, logOrigin(n))
	if err != nil {
		return fmt.Errorf("node: audit log key: %w", err)
	}
	if n.audit.verifier, err = note.NewVerifier(vkey); err != nil {
		return fmt.Errorf("node: audit log key: %w", err)
	}
	lg, err := audit.OpenLog(ctx, filepath.Join(n.cfg.DataDir, auditDBFile), signer, logOrigin(n),
		audit.WithClock(n.now))
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.audit.log, n.audit.vkey, n.audit.kick = lg, vkey, make(chan struct{}, 1)
	n.log.Info("audit log open", "origin", lg.Origin(), "size", lg.Size())
	return nil
}

// runAudit starts the audit goroutines on n.wg: a state node's receipt
// publisher and checkpoint witness; the secretariat's receipt consumer,
// checkpoint publisher and escalations.
func (n *Node) runAudit(ctx context.Context) {
	var fns []func(context.Context)
	if n.self.Role == identity.RoleNode {
		fns = append(fns, n.publishReceipts, n.witnessCheckpoints)
	} else {
		fns = append(fns, n.consumeReceipts, n.publishCheckpoints, n.escalateOverdue)
	}
	for _, fn := range fns {
		n.wg.Go(func() { fn(ctx) })
	}
}

// closeAudit closes what openAudit opened; the goroutines have stopped.
func (n *Node) closeAudit() error {
	var errs []error
	if n.audit.outbox != nil {
		errs = append(errs, n.audit.outbox.close())
	}
	if n.audit.log != nil {
		errs = append(errs, n.audit.log.Close())
	}
	n.audit.escalate.closeAll()
	return errors.Join(errs...)
}

// AuditVerifierKey returns the note verifier key of the secretariat's audit
// log: at the secretariat node its own, at a state node the one it
// checks checkpoints with ("" before it has seen one, unless configured).
func (n *Node) AuditVerifierKey() string {
	if n.audit.log != nil {
		return n.audit.vkey
	}
	return n.audit.witness.verifierKey()
}

// AuditCheckpoint returns the last checkpoint of the secretariat's audit
// log that this state node checked and accepted; ok is false before the
// first, and always at the secretariat node.
func (n *Node) AuditCheckpoint() (cp audit.Checkpoint, ok bool) {
	return n.audit.witness.last()
}

// escalationHub fans escalations out to WatchEscalations streams.
type escalationHub struct {
	mu     sync.Mutex
	subs   map[chan audit.OverdueItem]struct{}
	closed bool
}

// escalationBuffer is how many escalations a slow watcher may lag behind
// before its stream is ended.
const escalationBuffer = 256

// subscribe returns a channel of new escalations, closed when the watcher
// fell behind or the node stops, and a func to unsubscribe.
func (h *escalationHub) subscribe() (<-chan audit.OverdueItem, func()) {
	ch := make(chan audit.OverdueItem, escalationBuffer)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(ch)
		return ch, func() {}
	}
	if h.subs == nil {
		h.subs = map[chan audit.OverdueItem]struct{}{}
	}
	h.subs[ch] = struct{}{}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// publish hands items to every watcher without blocking; a watcher whose
// buffer is full is dropped (its channel closed).
func (h *escalationHub) publish(items []audit.OverdueItem) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		for _, it := range items {
			select {
			case ch <- it:
			default:
				delete(h.subs, ch)
				close(ch)
			}
			if _, ok := h.subs[ch]; !ok {
				break
			}
		}
	}
}

// closeAll ends every watcher.
func (h *escalationHub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		close(ch)
	}
	h.subs = nil
}

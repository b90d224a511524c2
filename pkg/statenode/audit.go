package statenode

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
)

// DefaultCheckpointInterval is how often a state node checks the latest
// checkpoint of the secretariat's audit log.
const DefaultCheckpointInterval = time.Minute

// Files of the delivery audit in a node's DataDir.
const (
	outboxFile    = "outbox.db"     // receipts waiting for the backbone
	auditVKeyFile = "audit.vkey"    // the log's verifier key, pinned
	witnessFile   = "audit.witness" // the last checkpoint the node accepted
)

// AuditConfig configures a state node's part in the delivery audit
// (DESIGN.md, "Delivery audit"). Zero values mean the documented defaults.
type AuditConfig struct {
	// CheckpointInterval is how often the node checks the latest
	// checkpoint the secretariat published against the last it accepted.
	// Default [DefaultCheckpointInterval].
	CheckpointInterval time.Duration
	// VerifierKey is the secretariat audit log's note verifier key
	// ("<origin>+<hash>+<key>", the secretariat writes it to
	// DataDir/audit.vkey), with which the node checks checkpoints.
	// Empty trusts the key that comes with the first checkpoint the node
	// sees and pins it in the node's DataDir/audit.vkey.
	VerifierKey string
}

// validate names the first bad field.
func (c AuditConfig) validate() error {
	switch {
	case c.CheckpointInterval < 0:
		return errors.New("statenode: config: Audit.CheckpointInterval is negative")
	}
	if c.VerifierKey != "" {
		if _, err := note.NewVerifier(c.VerifierKey); err != nil {
			return fmt.Errorf("statenode: config: Audit.VerifierKey: %w", err)
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

// auditState is the node's part in the delivery audit: it queues signed
// receipts in its outbox and witnesses the log's checkpoints.
type auditState struct {
	outbox  *outbox
	witness witnessState
}

// openAudit opens the receipt outbox.
func (n *Node) openAudit(ctx context.Context) error {
	ob, err := openOutbox(ctx, filepath.Join(n.cfg.DataDir, outboxFile))
	if err != nil {
		return fmt.Errorf("statenode: receipt outbox: %w", err)
	}
	n.audit.outbox = ob
	return nil
}

// runAudit starts the receipt publisher and the checkpoint witness on n.wg.
func (n *Node) runAudit(ctx context.Context) {
	n.wg.Go(func() { n.publishReceipts(ctx) })
	n.wg.Go(func() { n.witnessCheckpoints(ctx) })
}

// closeAudit closes what openAudit opened; the goroutines have stopped.
func (n *Node) closeAudit() error {
	if n.audit.outbox != nil {
		return n.audit.outbox.close()
	}
	return nil
}

// AuditVerifierKey returns the note verifier key with which the node
// checks the secretariat's checkpoints ("" before it has seen one, unless
// configured).
func (n *Node) AuditVerifierKey() string { return n.audit.witness.verifierKey() }

// AuditCheckpoint returns the last checkpoint of the secretariat's audit
// log that this node checked and accepted; ok is false before the first.
func (n *Node) AuditCheckpoint() (cp audit.Checkpoint, ok bool) {
	return n.audit.witness.last()
}

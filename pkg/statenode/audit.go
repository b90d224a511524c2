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
	outboxFile  = "outbox.db"     // receipts waiting for the backbone
	witnessFile = "audit.witness" // the last checkpoint the node accepted
)

// AuditConfig configures a state node's part in the delivery audit
// (DESIGN.md, "Delivery audit"). Zero values mean the documented defaults.
type AuditConfig struct {
	// CheckpointInterval is how often the node checks the latest
	// checkpoint the secretariat published against the last it accepted,
	// and compares the checkpoints the other states accepted with it.
	// Default [DefaultCheckpointInterval].
	CheckpointInterval time.Duration
	// VerifierKey is the secretariat audit log's note verifier key
	// ("<origin>+<hash>+<key>", the secretariat writes it to
	// DataDir/audit.vkey), with which the node checks checkpoints.
	// Required: a key offered by the backbone is never trusted.
	VerifierKey string
}

// validate names the first bad field.
func (c AuditConfig) validate() error {
	switch {
	case c.CheckpointInterval < 0:
		return errors.New("statenode: config: Audit.CheckpointInterval is negative")
	case c.VerifierKey == "":
		return errors.New("statenode: config: Audit.VerifierKey is required: the secretariat audit log's verifier key (its audit.vkey)")
	}
	if _, err := note.NewVerifier(c.VerifierKey); err != nil {
		return fmt.Errorf("statenode: config: Audit.VerifierKey: %w", err)
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
	witness *audit.Witness
	gossip  gossipState
}

// openAudit opens the receipt outbox and the witness.
func (n *Node) openAudit(ctx context.Context) error {
	v, err := note.NewVerifier(n.cfg.Audit.VerifierKey)
	if err != nil {
		return fmt.Errorf("statenode: audit verifier key: %w", err)
	}
	w, err := audit.OpenWitness(filepath.Join(n.cfg.DataDir, witnessFile), v.Name(), v)
	if err != nil {
		return fmt.Errorf("statenode: %w", err)
	}
	ob, err := openOutbox(ctx, filepath.Join(n.cfg.DataDir, outboxFile))
	if err != nil {
		return fmt.Errorf("statenode: receipt outbox: %w", err)
	}
	n.audit.outbox, n.audit.witness = ob, w
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
// checks the secretariat's checkpoints (the configured one).
func (n *Node) AuditVerifierKey() string { return n.cfg.Audit.VerifierKey }

// AuditCheckpoint returns the last checkpoint of the secretariat's audit
// log that this node checked and accepted; ok is false before the first.
func (n *Node) AuditCheckpoint() (cp audit.Checkpoint, ok bool) {
	if n.audit.witness == nil {
		return audit.Checkpoint{}, false
	}
	cp, _, ok = n.audit.witness.Last()
	return cp, ok
}

package statenode

import (
	"context"
	"errors"
	"fmt"
	"os"
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
	witnessFile = "audit.witness" // the last checkpoint the node accepted
	// legacyOutboxFile held the receipts waiting for the backbone before
	// they moved into node.db; openAudit takes them over.
	legacyOutboxFile = "outbox.db"
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
// receipts in the node's database and witnesses the log's checkpoints.
type auditState struct {
	wake    chan struct{} // has a token when receipts were queued
	witness *audit.Witness
	gossip  gossipState
}

// openAudit opens the witness of the secretariat's log and takes over the
// receipts of the separate outbox file earlier versions kept, if there is
// one, removing it.
func (n *Node) openAudit(ctx context.Context) error {
	n.audit.wake = make(chan struct{}, 1)
	v, err := note.NewVerifier(n.cfg.Audit.VerifierKey)
	if err != nil {
		return fmt.Errorf("statenode: audit verifier key: %w", err)
	}
	if n.audit.witness, err = audit.OpenWitness(filepath.Join(n.cfg.DataDir, witnessFile), v.Name(), v); err != nil {
		return fmt.Errorf("statenode: %w", err)
	}
	old := filepath.Join(n.cfg.DataDir, legacyOutboxFile)
	if _, err := os.Stat(old); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	added, err := n.store.ImportReceipts(ctx, old)
	if err != nil {
		return fmt.Errorf("statenode: receipt outbox: %w", err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(old + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("statenode: remove the old receipt outbox: %w", err)
		}
	}
	n.log.Info("receipts of the old outbox file moved into the node's database", "added", added)
	return nil
}

// runAudit starts the receipt publisher and the checkpoint witness on n.wg.
func (n *Node) runAudit(ctx context.Context) {
	n.wg.Go(func() { n.publishReceipts(ctx) })
	n.wg.Go(func() { n.witnessCheckpoints(ctx) })
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

package secretariat

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/store"
)

// Delivery audit defaults.
const (
	// DefaultCheckpointInterval is how often the secretariat node publishes
	// a checkpoint of its audit log (when the log grew).
	DefaultCheckpointInterval = time.Minute
	// DefaultEscalationInterval is how often the secretariat node looks
	// for acknowledgements past their deadline.
	DefaultEscalationInterval = 10 * time.Second
	// DefaultHeaderWait is how long a receipt about a bulletin whose
	// signed header the log does not hold is offered again before it is
	// refused (receipt.no_header).
	DefaultHeaderWait = 10 * time.Minute
)

// auditDBFile is the audit log's database in the node's DataDir.
const auditDBFile = "audit.db"

// signKeysDBFile keeps, in the node's DataDir, the signing keys verified
// in the states' directory entries (keys.go).
const signKeysDBFile = "signkeys.db"

// AuditConfig configures the delivery audit (DESIGN.md, "Delivery audit").
// Zero values mean the documented defaults.
type AuditConfig struct {
	// CheckpointInterval is how often the node publishes a signed
	// checkpoint of its audit log on the backbone (only when the log
	// grew). Default [DefaultCheckpointInterval].
	CheckpointInterval time.Duration
	// EscalationInterval is how often the node escalates acknowledgements
	// past their deadline. Default [DefaultEscalationInterval].
	EscalationInterval time.Duration
	// Deadlines are the acknowledgement deadlines by precedence, counted
	// from the signed creation time; the zero value is FLASH 15m,
	// IMMEDIATE 1h, PRIORITY 24h, ROUTINE none (see [audit.Deadlines]).
	Deadlines audit.Deadlines
	// HeaderWait is how long a receipt about a bulletin whose signed
	// header the log does not hold yet is redelivered (with backoff)
	// before it is refused as receipt.no_header. An honest origin's posted
	// receipt, or a recipient's delivered receipt, brings the header;
	// the wait bounds what a state can park on the backbone with receipts
	// about bulletins that never existed. Default [DefaultHeaderWait].
	HeaderWait time.Duration
}

// validate names the first bad field.
func (c AuditConfig) validate() error {
	switch {
	case c.CheckpointInterval < 0:
		return errors.New("secretariat: config: Audit.CheckpointInterval is negative")
	case c.EscalationInterval < 0:
		return errors.New("secretariat: config: Audit.EscalationInterval is negative")
	case c.HeaderWait < 0:
		return errors.New("secretariat: config: Audit.HeaderWait is negative")
	}
	return nil
}

func (c AuditConfig) checkpointInterval() time.Duration {
	if c.CheckpointInterval == 0 {
		return DefaultCheckpointInterval
	}
	return c.CheckpointInterval
}

func (c AuditConfig) headerWait() time.Duration {
	if c.HeaderWait == 0 {
		return DefaultHeaderWait
	}
	return c.HeaderWait
}

func (c AuditConfig) escalationInterval() time.Duration {
	if c.EscalationInterval == 0 {
		return DefaultEscalationInterval
	}
	return c.EscalationInterval
}

// auditState is the secretariat's audit log and what serves it.
type auditState struct {
	log      *audit.Log
	vkey     string
	verifier note.Verifier
	verify   audit.Verifiers // of the evidence receipts carry
	// chains are the receipts' certificate chains verified (reset when
	// the membership table or deny list changes).
	chains   *audit.ChainCache
	keys     keyCache        // verified directory keys of origins
	kept     *store.SignKeys // the signing keys verified in directory entries (keys.go)
	kick     chan struct{}   // asks the checkpoint publisher to publish now
	escalate escalationHub
}

// logOrigin names the secretariat's audit log in its checkpoints.
func logOrigin(n *Node) string { return n.cfg.TrustDomain.Name() + "/audit" }

// openAudit opens the audit log and its key.
func (n *Node) openAudit(ctx context.Context) error {
	signer, vkey, err := audit.LoadLogKey(n.cfg.DataDir, logOrigin(n))
	if err != nil {
		return fmt.Errorf("secretariat: audit log key: %w", err)
	}
	if n.audit.verifier, err = note.NewVerifier(vkey); err != nil {
		return fmt.Errorf("secretariat: audit log key: %w", err)
	}
	lg, err := audit.OpenLog(ctx, filepath.Join(n.cfg.DataDir, auditDBFile), logOrigin(n),
		audit.Signers{Checkpoint: signer, Entries: n.cfg.SVID}, audit.WithClock(n.now))
	if err != nil {
		return fmt.Errorf("secretariat: %w", err)
	}
	kept, err := store.OpenSignKeys(ctx, filepath.Join(n.cfg.DataDir, signKeysDBFile))
	if err != nil {
		return errors.Join(fmt.Errorf("secretariat: %w", err), lg.Close())
	}
	n.audit.log, n.audit.kept, n.audit.vkey, n.audit.kick = lg, kept, vkey, make(chan struct{}, 1)
	n.audit.verify, n.audit.chains = n.cfg.Verifiers, audit.NewChainCache(0)
	if n.audit.verify.Header == nil || n.audit.verify.Forward == nil {
		n.audit.verify = n.verifiers()
	}
	n.log.Info("audit log open", "origin", lg.Origin(), "size", lg.Size())
	return nil
}

// runAudit starts the receipt consumer, checkpoint publisher, proof
// server and escalations on n.wg.
func (n *Node) runAudit(ctx context.Context) {
	for _, fn := range []func(context.Context){n.consumeReceipts, n.publishCheckpoints, n.serveProofs, n.escalateOverdue} {
		n.wg.Go(func() { fn(ctx) })
	}
}

// closeAudit closes what openAudit opened; the goroutines have stopped.
func (n *Node) closeAudit() error {
	n.audit.escalate.closeAll()
	var errs []error
	if n.audit.kept != nil {
		errs = append(errs, n.audit.kept.Close())
	}
	if n.audit.log != nil {
		errs = append(errs, n.audit.log.Close())
	}
	return errors.Join(errs...)
}

// AuditVerifierKey returns the note verifier key of the audit log: the
// key every state node must be configured with.
func (n *Node) AuditVerifierKey() string { return n.audit.vkey }

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

// Package audit is the secretariat's delivery audit (DESIGN.md, "Delivery
// audit"): an append-only, verifiable log of every post, release, receipt,
// refusal and escalation, the signed checkpoints and proofs that let member
// states check it offline, and the delivery reports computed from it.
//
// # The log
//
// Each entry is one leaf of an RFC 6962 Merkle tree (SHA-256,
// transparency-dev/merkle). Since leaf format 2 ([LeafReceipt]) a leaf is
// a signed [Receipt]: the event, the evidence it carried, and the
// signature and SVID chain of the node that said it — a state's node for
// what happened at that state, the secretariat's node for the log's own
// refusals and escalations — so an auditor re-verifies who said what
// ([ParseLeaf], [Receipt.Verify]). Entries of format 1 (the event alone,
// [LeafEvent]) stay as they were logged.
//
//	lg, err := audit.OpenLog(ctx, filepath.Join(dir, "audit.db"), "iant.example/audit",
//		audit.Signers{Checkpoint: noteSigner, Entries: secretariatSVID})
//	defer lg.Close()
//
//	r, err := audit.VerifyReceipt(data, bundle, td, scope, published) // a state node's signed receipt
//	h, err := verifiers.Header(ctx, r.Header)                       // what the origin signed
//	out, err := lg.Submit(ctx, []audit.Submission{{Receipt: r, Header: &h, Published: published}})
//	// out[0].Err: nil (logged), *ReceiptError (refused, and the refusal logged), ErrNoHeader (later)
//
//	i, err := lg.Append(ctx, audit.Event{Kind: audit.EventRefused, ...}) // the log's own, signed
//	signed, err := lg.Checkpoint(ctx)              // C2SP tlog-checkpoint, signed note
//	p, err := lg.InclusionProof(ctx, i, lg.Size())
//	c, err := lg.ConsistencyProof(ctx, oldSize, lg.Size())
//	e, raw, err := lg.Entry(ctx, i)
//
// Appends are idempotent by event key (kind, origin, bulletin, state,
// actor): the backbone may deliver a receipt twice and the log counts it
// once.
//
// # Who may say what
//
// A bulletin is named by its origin and id: two states may use one id,
// and neither touches the other's report. [VerifyReceipt] checks that a
// receipt was signed by the node of the state it was published under,
// and that this state may report the event (posted and released by the
// origin, forwarded by the forwarder, the rest by the state they happened
// at). [Log.Submit] then
// checks the event against what the origin signed in the bulletin's
// sealed header — carried as a header attestation by the posted receipt
// and by a recipient's delivered receipt, verified by a [HeaderVerifier]
// with the origin's directory key: the posted precedence and time are the
// signed ones, and only a signed recipient, or a state a verified forward
// ([ForwardVerifier]) reached, reports delivered, read, acknowledged or
// refused; a forwarded event must carry the forwarder's own verified
// statement, about a bulletin the origin released to it. Reports take
// precedence, creation time and recipients from the signed header only. A receipt about a bulletin whose header the log
// does not hold yet is not logged ([ErrNoHeader]): the secretariat offers
// it again later.
//
// # The bulletin's life
//
// Revisions, revocations, replies and consents are signed messages too
// (lifecycle.go): the origin's revised and revocation receipts carry their
// header attestations, each holder confirms a revocation with a signed
// revoked receipt, which the log accepts only from a state the
// revocation's signed header names (or a state one of them forwarded the
// bulletin to), and each event names the revision it is about
// ([Event.Revision], part of its key). Reports show the latest revision,
// each state's latest delivered revision and its confirmation of a
// revocation (pending, confirmed, escalated past the precedence deadline
// counted from when it was sent), and the thread of replies and consents
// about the bulletin: what they were and when, never their content.
//
// # Verifying, offline
//
// What the CLI's "iant audit verify" and a member state's node run, with
// only the log's public key (and the trust bundle for who said what):
//
//	cp, err := audit.VerifyCheckpoint(signed, origin, verifier)
//	err = audit.VerifyInclusion(cp, i, raw, p)      // this entry is in that tree
//	err = audit.VerifyConsistency(saved, cp, c)     // the tree only grew since saved
//	err = audit.VerifyLog(ctx, dump, cp, saved...)  // a full dump: *LogError names the first bad index
//	leaf, err := audit.ParseLeaf(raw)
//	who, err := leaf.Receipt.Verify(bundle, td, leaf.Receipt.LeafCertificate().NotBefore)
//
// # Witnesses
//
// A state node keeps a [Witness] of the last checkpoint it accepted. It
// asks the secretariat for one consistency proof from that size to the
// newest, whatever the gap ([ProofRequest], [ProofReply] on the
// backbone), and compares the checkpoints the other states accepted
// ([WitnessedCheckpoint], [Witness.Compare]): two checkpoints no
// append-only log explains together are a [*ForkError] holding both
// signed notes.
//
//	w, err := audit.OpenWitness(path, origin, verifier) // remembers the last checkpoint
//	_, err = w.Update(ctx, signed, prove)              // *ForkError on a split view or rewrite
//	_, err = w.Compare(ctx, peersSigned, prove)        // another state's view
//
// A root hash only tells whether everything below it is intact, so
// [VerifyLog] pins a changed entry between the last kept checkpoint that
// still matches and the first that does not; the more checkpoints an
// auditor keeps, the more exactly it names the index.
//
// # Reports
//
//	r, err := lg.Report(ctx, origin, id)                  // per recipient: delivered, read, acked, latencies
//	page, err := lg.Recent(ctx, audit.RecentQuery{Limit: 20})   // the newest bulletins' reports; next page: After = &key of the last
//	                                                      // (ReportKey.Token / ParseReportToken carry it as a page token)
//	late, err := lg.Overdue(ctx, now, audit.Deadlines{})  // default FLASH 15m, IMMEDIATE 1h, PRIORITY 24h; unconfirmed revocations too
//	esc, err := lg.Escalations(ctx, now, audit.Deadlines{}) // appends "escalated" once per bulletin and state
//	st, err := lg.Stats(ctx, from, to)                    // per state: counts, p50 and p95 latencies
//	st, err = lg.StatsOf(ctx, audit.StatsQuery{From: from, To: to, Now: now}) // and per precedence: histograms over LatencyBounds, overdue
//
// Reports read two index tables (bulletins, recipients) that Submit and
// Append keep up to date in the same transaction as the leaf, never a
// scan of the log.
//
// # Storage, and why
//
// The log is one SQLite file (pure-Go modernc.org/sqlite, WAL,
// synchronous=FULL: an Append that returned is on disk). It holds the
// leaves, the event keys, and every tree node that roots a perfect subtree
// (level 0 being the leaf hashes), as the compact range's visitor reports
// them; the open tree is a compact range in memory, rebuilt from those
// nodes at open. A proof reads O(log n) stored nodes.
//
// The issue allowed a JetStream stream that denies delete and purge
// instead. SQLite was chosen because the log must answer indexed questions
// (reports, proofs by node, idempotence by key) that a stream cannot, and
// a second store would have to be kept in step with the first; the
// receipts stream on the backbone remains the durable input and a second
// copy of the evidence.
//
// "Only grows" is enforced twice. SQL triggers abort every UPDATE and
// DELETE of leaves, event keys, tree nodes and the log's origin, and any
// insert of a leaf at other than the next index. They guard against
// mistakes — a wrong statement in a later change, a careless manual
// repair — not against someone who controls the file: such a person can
// drop the triggers or edit the pages. Against that, the defence is
// cryptographic: checkpoints that states keep and witness, which no
// rewritten or truncated log can match. INSERT OR REPLACE is refused too:
// SQLite resolves its conflict by deleting the old row without firing
// DELETE triggers, so each evidence table also has a BEFORE INSERT trigger
// that aborts on a clash. The report tables are derived and updated in
// place.
//
// # Concurrency
//
// A *Log is safe for concurrent use. Appends (Submit, Append, Escalations) are
// serialized inside the Log and commit in index order; readers (proofs,
// entries, reports, checkpoints) run in parallel with each other and with
// an append and see only committed entries. Size, Root and Checkpoint read
// one committed head: a proof for any size up to Size is always available.
// One Log must be the only writer of its file; Append reports
// [ErrOtherWriter] if the file grew under it. Close waits for calls in
// progress. A *Witness is safe for concurrent use; Update calls are
// serialized, so a proof is always checked against the checkpoint it was
// fetched for.
package audit

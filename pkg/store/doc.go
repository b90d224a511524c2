// Package store is a node's embedded database of the bulletins its state
// sent and received: idempotent storage keyed by origin and bulletin ID
// (a state chooses its own bulletins' ids, so another state's bulletin of
// the same id is another bulletin, never a replay), filtered
// lists, full-text search for analysts, acknowledgement receipts, and the
// node-local cursor that subscriptions resume from (DESIGN.md, "Node
// storage").
//
// The database is one SQLite file reached through the pure-Go driver
// modernc.org/sqlite, in WAL mode with synchronous=FULL, so a Put that
// returned has reached the disk. Losing the file loses nothing the backbone
// still holds: a node can rebuild it from its inbox stream, and Put is
// idempotent so replays are harmless.
//
//	st, err := store.Open(ctx, filepath.Join(dataDir, "node.db"))
//	defer st.Close()
//
//	rec, inserted, err := st.Put(ctx, b, store.Received, time.Now())
//	// replay of the same bulletin: (rec, false, nil)
//	// same origin and ID, other content: errors.Is(err, store.ErrConflict)
//	rec, err = st.Get(ctx, origin, id)      // origin "" when the id is held once: else ErrAmbiguous
//
//	f := store.Filter{Categories: []bulletin.Category{bulletin.CBRN}, AfterCursor: last}
//	recs, err := st.List(ctx, f) // ascending cursor order: a subscription's backlog
//	if f.Match(rec) { ... }      // the same filter, for a live push
//
//	hits, err := st.Search(ctx, "manpads panama", store.Filter{Descending: true})
//	rec, first, err := st.Acknowledge(ctx, origin, id, focalPointID, time.Now())
//
// A Record's Cursor is a strictly increasing insertion sequence of this node
// (SQLite AUTOINCREMENT): it survives restarts and is never reused, so a
// subscriber that remembers the last cursor it saw misses nothing. Cursors
// mean nothing at another node.
//
// A bulletin lives (lifecycle.go): [Store.Apply] applies the messages of
// its life — a newer revision, the tombstone of its revocation, a reply —
// in the order of the revisions its origin signed, whatever order they
// arrive in (an older revision never replaces a newer one, revoked
// content never comes back: [ErrStale]). Each change moves the bulletin
// to a new cursor, so that subscriptions deliver it again; earlier
// revisions are kept for [Store.History]; a revocation removes content,
// history and indexed text and scrubs the file (scrub.go: secure_delete,
// the full-text index merged, the write-ahead log truncated), as
// [Store.PurgeExpired] does for bulletins past their expiry and the
// node's retention. Replies are threaded ([Store.Thread]). Its
// acknowledgement (first time and focal point) is recorded once.
//
//	a, err := st.Apply(ctx, store.Change{Bulletin: revision, Direction: store.Received, At: now, Delivery: d, Receipts: rs})
//	h, err := st.History(ctx, origin, id)        // earlier revisions, oldest first
//	replies, err := st.Thread(ctx, origin, id)
//	n, err := st.PurgeExpired(ctx, now.Add(-retention))
//
// A received row records the origin signing key its message rests on
// (withdraw.go): when the origin declares that key compromised,
// [Store.WithdrawSignedBy] withdraws the row (kept; List, Search and
// Thread leave it out; Get returns it marked [Record.Withdrawn]), and a
// copy of the same bulletin signed by another key puts it back through
// [Store.Apply] (Applied.Reinstated, or Applied.Replaced with the
// withdrawn row kept as evidence).
//
//	ws, err := st.WithdrawSignedBy(ctx, "MX", compromisedKeyIDs, now)
//
// The translations a state added to other states' bulletins and the
// consent requests it sent record its signing key too
// (withdraw_more.go): [Store.WithdrawTranslationsSignedBy] takes those
// resting on a compromised key out of their bulletins (kept as
// evidence) and [Store.WithdrawConsentsSignedBy] withdraws the pending
// requests ([ConsentRequest.Withdrawn]).
//
// The node keeps the forwards it made ([Store.QueueForward],
// [Store.Forwards]: a revocation is relayed along them) and consent
// requests ([Store.PutConsent], [Store.Grant]: a grant serves one
// forward).
//
// The same file holds the node's outboxes, so that what a decision
// produces commits with it: [Store.CommitPost] stores a sent bulletin, its
// sealed copies (outbox.go: published later in commit order, each marked
// once the backbone acknowledged it), its receipts (receipts.go: audit
// events, de-duplicated by event id, kept once published) and the author's
// idempotency key, in one transaction; [Store.PutReceived] stores a
// received bulletin with its "delivered" receipt, the sealed copy as it
// arrived (which a forward re-wraps) and the state whose forward brought
// it ([Store.ReceivedCopy]). Unlike received
// bulletins, copies and receipts not yet published are not on the
// backbone: a lost database loses them. The markers of published copies
// and sent receipts are kept for the node's outbox retention
// ([Store.PruneOutbox], retention.go).
//
// It also keeps, per state, the newest directory entry the node accepted
// ([Store.DirectoryMark], directory.go), so that a replay of an older
// entry is refused after a restart too.
//
//	rec, existing, err := st.CommitPost(ctx, store.Post{Bulletin: b, At: now, Copies: cs, Receipts: rs, Key: k, MaxPending: 10000})
//	cs, err := st.PendingCopies(ctx, 256)        // commit order
//	err = st.MarkCopiesPublished(ctx, seqs, now)
//	rs, err := st.PendingReceipts(ctx, 64)
//	err = st.MarkReceiptsSent(ctx, ids, now)
//	copies, receipts, err := st.PruneOutbox(ctx, now.Add(-retention))
//
// It also keeps the copies from the inbox the node could not decide yet
// (park.go), bounded per publishing state, until they are decided:
//
//	added, err := st.Park(ctx, p, store.ParkLimits{MaxCopies: 500, MaxBytes: 16 << 20}) // ErrParkFull beyond
//	ps, err := st.DueParked(ctx, now, 64) // park order
//	err = st.Unpark(ctx, p.Seq)           // stored or rejected
//
// # Concurrency
//
// A *Store is safe for concurrent use. Writes (Put, CommitPost,
// Acknowledge, the outboxes' queueing and marking, parking) are serialized inside
// the Store, so the consume loop and gRPC handlers may
// call them at the same time; reads run in parallel with each other and
// with a write, and see only committed records. Cursors are assigned in
// commit order: once Put returns a record, every later Put returns a larger
// cursor, so a reader that lists after being told of a new record sees it.
//
// Close waits for calls in progress to finish; after it, every method
// returns [ErrClosed].
package store

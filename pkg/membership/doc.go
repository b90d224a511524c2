// Package membership is what the secretariat may say about the network
// (DESIGN.md, "Threat model"): the membership table, which member states
// are on the network and how they stand (active, suspended, removed), and
// the deny list, the SPIFFE IDs and certificate serial numbers that no node
// and no backbone server accepts any more. Both are versioned documents
// signed with the secretariat's membership key (a signed note, like the
// audit log's checkpoints, with a key of its own) and carried on the
// backbone; every node and every backbone server is configured with the
// verifier key and never learns it from the network.
//
//	signer, vkey, err := membership.LoadOrCreateKey(dataDir, "iant.test")   // the secretariat
//	t, err := membership.Genesis("iant.test", states, now)
//	t, err = t.Change(membership.Change{Kind: membership.Add, State: "CA", Region: region.NorthAmerica}, now)
//	signed, err := t.Sign(signer)
//
//	h, err := membership.NewHolder("iant.test", vkey, dataDir)               // every reader
//	res, err := h.Offer(signed)   // verified, never older than what h holds
//	t, ok := h.Table()
//	recipients := bulletin.Resolve(origin, rel, t.Receiving())
//	if e, denied := h.DenyList().DeniesCert(cert); denied { ... }
//
// A [Holder] keeps the newest version of each document it verified, and
// stores it in its directory so that a restart never goes back to an
// older one: an older version offered later (a replay) is ignored with
// [ErrStale], and a different document under a version it already holds
// is refused with [ErrConflict] (the secretariat signed two histories).
//
// The table's genesis ([Genesis]) lists the states the secretariat
// provisions, all active. A state can join only if it is in the region
// table the nodes run ([region]): every node validates state codes against
// it, so a state outside it needs a new region table version first.
//
// # Concurrency
//
// Tables and deny lists are plain values. A [Holder] is safe for
// concurrent use; [Holder.Changed] returns a channel closed at the next
// change, so waiters never miss one.
package membership

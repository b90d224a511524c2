package taxii

import (
	"context"
	"time"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// Source is what the server needs of a state node. Every method decides
// as the node's gRPC API does for person p: only bulletins p may read are
// returned, and a post is validated and decided like any post. Errors are
// *problem.Error values whose kind the server maps to an HTTP status.
type Source interface {
	// List returns the bulletins stored after q.After, in cursor order,
	// that p may read and that match q, looking at no more than q.Limit
	// stored bulletins.
	List(ctx context.Context, p identity.Principal, q Query) (Page, error)
	// Get returns the bulletin with IANT id from origin, if p may read it;
	// one p may not read is not found.
	Get(ctx context.Context, p identity.Principal, origin, id string) (Entry, error)
	// Post posts draft as p.
	Post(ctx context.Context, p identity.Principal, draft bulletin.Bulletin) (Entry, error)
}

// Query selects bulletins for [Source.List].
type Query struct {
	// After is the cursor to list after (0: from the start).
	After uint64
	// Limit bounds how many stored bulletins are looked at, readable or
	// not; at least 1.
	Limit int
	// Regions, when not empty, keeps bulletins whose origin is in one.
	Regions []region.Region
	// Categories, when not empty, keeps bulletins of one.
	Categories []bulletin.Category
	// AddedAfter, when not zero, keeps bulletins stored after it; the
	// others are skipped (but counted in Page.Readable if p may read
	// them).
	AddedAfter time.Time
}

// Page is one answer of [Source.List].
type Page struct {
	// Entries are the readable matching bulletins, in cursor order.
	Entries []Entry
	// Scanned is the cursor of the last stored bulletin looked at
	// (readable or not); the next List starts after it.
	Scanned uint64
	// More reports that bulletins after Scanned were not looked at.
	More bool
	// Readable is how many of the stored bulletins looked at p may read,
	// whether or not they match q (AddedAfter); LastReadable is the
	// cursor of the last of them. A listing's work budget counts these
	// only, so that what it answers depends only on what p may read.
	Readable     int
	LastReadable uint64
}

// Entry is a stored bulletin and what its STIX form needs.
type Entry struct {
	Bulletin bulletin.Bulletin
	// Cursor is the node's store cursor of the bulletin.
	Cursor uint64
	// Added is when the node stored it: TAXII's date_added.
	Added time.Time
	// First and FirstCreated name the first version of a revision;
	// Modified is when this version was made (a revocation: when it was
	// revoked); Superseded says a later version is stored. The node fills
	// them with the bulletin lifecycle; zero values serve each bulletin as
	// its own first version.
	First        string
	FirstCreated time.Time
	Modified     time.Time
	Superseded   bool
	// Earlier are the earlier versions of the bulletin the node holds
	// (its revisions before this one), oldest first, each Superseded:
	// the versions endpoint serves them. [Source.Get] fills them; List
	// need not.
	Earlier []Entry
}

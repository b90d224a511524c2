package taxii_test

import (
	"net/url"
	"slices"
	"testing"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/taxii"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestListingBudgetCountsOnlyWhatTheReaderMayRead: a listing that looks
// at its budget of bulletins without filling its page answers more and a
// next token. Counted over every stored bulletin, that budget made more
// and next count the bulletins the reader may not read: the US analyst,
// walking a collection with a filter that matches nothing (from any next
// they craft), was told by the tokens how many TLP:RED bulletins the node
// holds and where. The walk must answer the same tokens before and after
// two RED bulletins arrive. (The budget is made one bulletin, one per
// batch, so that four bulletins show what 2000 would.)
func TestListingBudgetCountsOnlyWhatTheReaderMayRead(t *testing.T) {
	taxii.SetScanBudget(t, 1, 1)
	nw := startNetwork(t)
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	post := func(title string, marking iantv1.Marking) string {
		t.Helper()
		b := nettest.Draft(title, "US")
		b.Marking = marking
		id := nettest.Post(t, mx, b).GetBulletin().GetId()
		nettest.WaitStored(t, us, id) // one at a time: store order is post order
		return id
	}
	post("Courier on CM471", iantv1.Marking_MARKING_AMBER)
	post("Courier on CM472", iantv1.Marking_MARKING_AMBER)

	analyst := newClient(t, nw, testenv.Analyst("US"), "US")
	root, cs := analyst.discover()
	all := collectionTitled(t, cs, "Bulletins released to US")
	// tokens walks the collection matching nothing and returns the next
	// tokens answered on the way.
	tokens := func() []string {
		t.Helper()
		q := url.Values{"match[id]": {"report--00000000-0000-4000-8000-000000000000"}}
		var toks []string
		for range 20 {
			env, _ := analyst.page(root, all.ID, q)
			if len(env.Objects) != 0 {
				t.Fatalf("a filter matching nothing answered %d objects", len(env.Objects))
			}
			if !env.More {
				return toks
			}
			toks = append(toks, env.Next)
			q.Set("next", env.Next)
		}
		t.Fatalf("walk did not end after 20 pages: %v", toks)
		return nil
	}
	before := tokens()
	if len(before) == 0 {
		t.Fatal("the walk over two readable bulletins with a budget of one answered no next")
	}

	post("Named source in danger", iantv1.Marking_MARKING_RED)
	post("Second named source", iantv1.Marking_MARKING_RED)
	if after := tokens(); !slices.Equal(after, before) {
		t.Errorf("next tokens with two RED bulletins the analyst may not read = %v, before they arrived %v: the listing counts them", after, before)
	}
	// The focal point, who may read them, still walks every bulletin.
	focal := newClient(t, nw, testenv.FocalPoint("US"), "US")
	objs, _ := focal.walk(root, all.ID, url.Values{})
	if n := len(reportsOf(objs)); n != 4 {
		t.Errorf("the focal point walks %d reports, want 4", n)
	}
}

package taxii_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// startNetwork runs MX, US and JM with a TAXII server at every node.
func startNetwork(t *testing.T) *testenv.Network {
	t.Helper()
	return nettest.Start(t, testenv.Options{States: []string{"MX", "US", "JM"}, TAXII: true})
}

// reportsOf returns the bulletin ids of the reports among objs, in order.
func reportsOf(objs []map[string]any) []string {
	var ids []string
	for _, o := range objs {
		if o["type"] == "report" {
			ids = append(ids, o["x_iant_bulletin_id"].(string))
		}
	}
	return ids
}

// TestWalkWhileAnotherPosts walks a collection page by page (following
// next, then polling with added_after from the last page's
// X-TAXII-Date-Added-Last, as a TAXII client does) while another
// goroutine posts: every object comes exactly once, in the node's store
// order.
func TestWalkWhileAnotherPosts(t *testing.T) {
	nw := startNetwork(t)
	// MX posts to US (the US node stores copies it receives) while US
	// posts its own (the US node stores what it sends): two writers.
	const each = 10
	const n = 2 * each
	posted := make(chan string, n)
	done := make(chan error, 2)
	for _, from := range []struct{ state, to string }{{"MX", "US"}, {"US", "MX"}} {
		c := nettest.Dial(t, nw, testenv.FocalPoint(from.state))
		go func() {
			for i := range each {
				b := nettest.Draft(fmt.Sprintf("%s bulletin %02d", from.state, i), from.to)
				b.Indicators = append(b.Indicators, &iantv1.Indicator{Type: iantv1.IndicatorType_INDICATOR_TYPE_FLIGHT, Value: fmt.Sprintf("%s%03d", from.state, i)})
				resp, err := c.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: b})
				if err != nil {
					done <- err
					return
				}
				posted <- resp.GetBulletin().GetBulletin().GetId()
			}
			done <- nil
		}()
	}

	c := newClient(t, nw, testenv.Analyst("US"), "US")
	root, cs := c.discover()
	all := collectionTitled(t, cs, "Bulletins released to US")
	if !all.CanRead || all.CanWrite || !slices.Equal(all.MediaTypes, []string{"application/stix+json;version=2.1"}) {
		t.Errorf("an analyst's collection = %+v, want can_read, not can_write, STIX 2.1", all)
	}
	seen := map[string]int{}
	var reports []string
	q := url.Values{"limit": {"2"}}
	deadline := time.Now().Add(nettest.Eventually)
	for distinct := 0; distinct < n; {
		if time.Now().After(deadline) {
			t.Fatalf("after %v saw %d of %d reports", nettest.Eventually, distinct, n)
		}
		objs, last := c.walk(root, all.ID, q)
		for _, o := range objs {
			if seen[o["id"].(string)]++; o["type"] == "report" && seen[o["id"].(string)] == 1 {
				distinct++
			}
		}
		reports = append(reports, reportsOf(objs)...)
		q = url.Values{"limit": {"2"}, "added_after": q["added_after"]}
		if last != "" {
			q.Set("added_after", last) // poll for what was added since
		}
		if len(objs) == 0 {
			time.Sleep(20 * time.Millisecond) // nothing new yet
		}
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	close(posted)
	for id, k := range seen {
		if k != 1 {
			t.Errorf("object %s came %d times", id, k)
		}
	}
	// Every bulletin posted came, once, in the US node's store order.
	var want []string
	for id := range posted {
		want = append(want, id)
	}
	us := nettest.Dial(t, nw, testenv.Analyst("US"))
	resp, err := us.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, b := range resp.GetBulletins() {
		stored = append(stored, b.GetBulletin().GetId())
	}
	if !slices.Equal(reports, stored) {
		t.Errorf("reports in TAXII order %v, want the store's order %v", reports, stored)
	}
	slices.Sort(want)
	slices.Sort(reports)
	if !slices.Equal(reports, want) {
		t.Errorf("reports seen %v, want the posted %v", reports, want)
	}
	// 5 TLP markings, 35 states, and 3 objects per bulletin.
	if len(seen) != 5+35+3*n {
		t.Errorf("saw %d objects, want %d", len(seen), 5+35+3*n)
	}
}

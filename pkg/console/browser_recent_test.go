package console_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// testRecentMatrix: the auditor's matrix shows a newly posted bulletin's
// row without anyone typing its id, under the bulletin followed earlier
// (followed), and its US cell turns delivered live.
func testRecentMatrix(t *testing.T, br *tab, c *consoles, followed string) {
	mx := nettest.Dial(t, c.nw, testenv.FocalPoint("MX"))
	sec := br.newTab()
	sec.run(t, "auditor opens the secretariat page", signIn(c.au), chromedp.WaitVisible(css(`#matrix tr[data-id="`+followed+`"]`)))
	id := nettest.Post(t, mx, nettest.Draft("New, nobody follows it", "US")).GetBulletin().GetId()
	row := `#matrix tr[data-id="` + id + `"]`
	sec.run(t, "its row appears", chromedp.WaitVisible(css(row)),
		chromedp.WaitVisible(css(row+` td[data-state="US"]:is([data-status="delivered"], [data-status="read"], [data-status="acknowledged"])`)))
	rows := eval[[]string](t, sec, `[...document.querySelectorAll("#matrix tbody tr")].map(tr => tr.dataset.id)`)
	if len(rows) < 2 || rows[0] != followed || rows[1] != id {
		t.Errorf("matrix rows = %q, want the followed %s, then the newest %s", rows, followed, id)
	}
	sec.screenshot(t, "05b-secretariat-recent")
}

// testFeedNewestFirst: with more bulletins than a page, the feed opens on
// the newest, in cursor order; older ones come on scrolling, and a new one
// arrives on top.
func testFeedNewestFirst(t *testing.T, br *tab, c *consoles) {
	mx := nettest.Dial(t, c.nw, testenv.FocalPoint("MX"))
	us := nettest.Dial(t, c.nw, testenv.Analyst("US"))
	const n = 60 // more than the feed's page of 50
	var ids []string
	for i := range n {
		d := nettest.Draft(fmt.Sprintf("Routine note %d", i), "US")
		d.Precedence = iantv1.Precedence_PRECEDENCE_ROUTINE
		ids = append(ids, nettest.Post(t, mx, d).GetBulletin().GetId())
	}
	for _, id := range ids {
		nettest.WaitStored(t, us, id)
	}
	top, err := us.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{NewestFirst: true, PageSize: 1, IncludeRevoked: true})
	if err != nil || len(top.GetBulletins()) != 1 {
		t.Fatalf("ListBulletins(newest first) at US = %v, %v", top, err)
	}
	newest := top.GetBulletins()[0].GetBulletin().GetId()
	if !slices.Contains(ids, newest) {
		t.Fatalf("US's newest bulletin %s is not one just posted", newest)
	}
	an := startConsole(t, c.nw, testenv.Analyst("US"))
	feed := br.newTab()
	feed.run(t, "open the feed", signIn(an), chromedp.WaitReady(css(`#status[data-live="1"]`)),
		chromedp.WaitVisible(css(feedItem(newest))))
	first := eval[string](t, feed, `document.querySelector("#feed li").dataset.id`)
	cursors := eval[[]float64](t, feed, `[...document.querySelectorAll("#feed li")].map(li => Number(li.dataset.cursor))`)
	if first != newest || !slices.IsSortedFunc(cursors, func(a, b float64) int { return int(b - a) }) {
		t.Errorf("feed starts with %s (cursors %v), want the newest %s, newest first", first, cursors, newest)
	}
	feed.screenshot(t, "03d-feed-newest-first")
	feed.run(t, "scroll to the older ones", chromedp.ScrollIntoView(css("#more")), chromedp.WaitVisible(css(feedItem(ids[0]))))
	live := nettest.Post(t, mx, nettest.Draft("Arrives while the feed is open", "US")).GetBulletin().GetId()
	feed.run(t, "a new one arrives", chromedp.WaitVisible(css(feedItem(live))))
	if first := eval[string](t, feed, `document.querySelector("#feed li").dataset.id`); first != live {
		t.Errorf("feed starts with %s after a new bulletin arrived, want it (%s) on top", first, live)
	}
}

func feedItem(id string) string { return `#feed li[data-id="` + id + `"]` }

package console_test

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// chartOf is the selector of US's histogram of kind (delivery, ack) for
// precedence prec.
func chartOf(prec, kind string) string {
	return `#charts figure[data-state="US"][data-precedence="` + prec + `"] svg[data-kind="` + kind + `"]`
}

// barCounts returns the counts of a histogram's bars, bucket by bucket.
func barCounts(t *testing.T, b *tab, chart string) []int {
	t.Helper()
	return eval[[]int](t, b, `[...document.querySelectorAll(`+jsString(chart+" rect.bar")+`)].map(r => Number(r.dataset.count))`)
}

// inBucket is a histogram of 10 buckets with one bulletin in bucket i
// (or none when i is negative).
func inBucket(i int) []int {
	b := make([]int, 10)
	if i >= 0 {
		b[i] = 1
	}
	return b
}

// TestBrowserStatsCharts drives the secretariat page's histograms in a
// real chromium against a real network of MX and US. US's clock runs
// ahead of MX's (less than the log's skew tolerance) so that what its
// node reports lands in a known bucket whatever the machine's speed:
// 20 s when it receives (delivery in (15s, 1m], bucket 3), 3 min when
// its focal point acknowledges (in (1m, 5m], bucket 4). A FLASH bulletin
// with a hostile title and a ROUTINE one arrive in their precedences'
// charts live; the precedence is chosen with the keyboard; the counts are
// in each chart's accessible name and in a table; the acknowledgement
// appears without reload; the title never reaches the charts; the charts
// speak the language chosen.
func TestBrowserStatsCharts(t *testing.T) {
	br := newBrowser(t)
	var usAhead atomic.Int64
	usAhead.Store(int64(20 * time.Second))
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, NodeConfig: func(cc string, c *statenode.Config) {
		if cc == "US" {
			c.Now = func() time.Time { return time.Now().Add(time.Duration(usAhead.Load())) }
		}
	}})
	au := startConsole(t, nw, testenv.Auditor())
	mx, fpUS := nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Dial(t, nw, testenv.FocalPoint("US"))
	const flash, routine = "PRECEDENCE_FLASH", "PRECEDENCE_ROUTINE"

	br.run(t, "the auditor opens the secretariat page: no bulletins yet", signIn(au),
		chromedp.WaitVisible(css("#chart-precedence")), chromedp.WaitVisible(css("#charts p.status")))
	if label := br.text(t, `label:has(#chart-precedence) span`); label != "Precedence" {
		t.Errorf("the precedence selector's label = %q, want Precedence", label)
	}

	flashID := nettest.Post(t, mx, nettest.Draft(hostileTitle, "US")).GetBulletin().GetId()
	d := nettest.Draft("Routine for the charts", "US")
	d.Precedence = iantv1.Precedence_PRECEDENCE_ROUTINE
	nettest.Post(t, mx, d)
	br.run(t, "the FLASH arrives in FLASH's delivery chart, live",
		chromedp.WaitReady(css(chartOf(flash, "delivery")+` rect[data-bucket="3"][data-count="1"]`)))
	if got := barCounts(t, br, chartOf(flash, "delivery")); !slices.Equal(got, inBucket(3)) {
		t.Errorf("US FLASH delivery bars = %v, want the one bulletin in bucket 3 (15s, 1m]: %v", got, inBucket(3))
	}
	if got := barCounts(t, br, chartOf(flash, "ack")); !slices.Equal(got, inBucket(-1)) {
		t.Errorf("US FLASH acknowledgement bars = %v before any acknowledgement, want none", got)
	}
	label := eval[string](t, br, `document.querySelector(`+jsString(chartOf(flash, "delivery"))+`).getAttribute("aria-label")`)
	if !strings.HasPrefix(label, "Delivery time · US · FLASH — ") || !strings.Contains(label, "≤15s: 0, ≤1m: 1, ≤5m: 0") || !strings.HasSuffix(label, "not yet: 0") {
		t.Errorf("delivery chart's accessible name = %q, want its title and every count", label)
	}
	if ack := eval[string](t, br, `document.querySelector(`+jsString(chartOf(flash, "ack"))+`).getAttribute("aria-label")`); !strings.HasSuffix(ack, "not yet: 1") {
		t.Errorf("acknowledgement chart's accessible name = %q, want it to say one not yet acknowledged", ack)
	}
	table := eval[[]string](t, br, `[...document.querySelectorAll('#charts figure[data-state="US"] table.dist tbody tr')].map(tr => [...tr.cells].map(c => c.textContent).join(" "))`)
	if len(table) != 11 || table[3] != "≤1m 1 0" || table[10] != "not yet 0 1" {
		t.Errorf("US FLASH counts table rows = %q, want 10 buckets (≤1m: 1 delivered) and not yet (1 to acknowledge)", table)
	}
	br.screenshot(t, "13-secretariat-charts-flash")

	br.run(t, "choose ROUTINE with the keyboard", chromedp.Focus(css("#chart-precedence")),
		chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown),
		chromedp.WaitReady(css(chartOf(routine, "delivery"))))
	if got := barCounts(t, br, chartOf(routine, "delivery")); !slices.Equal(got, inBucket(3)) {
		t.Errorf("US ROUTINE delivery bars = %v, want its one bulletin in bucket 3: %v", got, inBucket(3))
	}
	if n := eval[int](t, br, `document.querySelectorAll('#charts figure[data-precedence="PRECEDENCE_FLASH"]').length`); n != 0 {
		t.Errorf("%d FLASH charts shown with ROUTINE chosen", n)
	}

	if eval[bool](t, br, `window.pwned !== undefined || document.querySelectorAll("#charts script, #charts img, #charts b, #charts iframe, #charts foreignObject").length > 0`) {
		t.Error("the hostile title became markup in the charts, or ran")
	}
	if eval[bool](t, br, `[document.getElementById("charts").textContent, ...[...document.querySelectorAll("#charts [aria-label]")].map(e => e.getAttribute("aria-label"))].some(s => s.includes("pwned") || s.includes("<"))`) {
		t.Error("the hostile title reached the charts' text")
	}

	br.run(t, "back to FLASH", choose("#chart-precedence", flash), chromedp.WaitReady(css(chartOf(flash, "ack"))))
	nettest.WaitStored(t, fpUS, flashID)
	usAhead.Store(int64(3 * time.Minute))
	if _, err := fpUS.AcknowledgeBulletin(t.Context(), &iantv1.AcknowledgeBulletinRequest{Id: flashID}); err != nil {
		t.Fatal(err)
	}
	br.run(t, "the acknowledgement appears without reload",
		chromedp.WaitReady(css(chartOf(flash, "ack")+` rect[data-bucket="4"][data-count="1"]`)))
	if got := barCounts(t, br, chartOf(flash, "ack")); !slices.Equal(got, inBucket(4)) {
		t.Errorf("US FLASH acknowledgement bars = %v, want bucket 4 (1m, 5m]: %v", got, inBucket(4))
	}
	br.screenshot(t, "14-secretariat-charts-acknowledged")

	br.run(t, "Spanish", choose("#lang", "es"))
	if got := br.text(t, `#charts figure[data-state="US"] .chart-title`); got != "Tiempo de entrega" {
		t.Errorf("chart title in es = %q, want Tiempo de entrega", got)
	}
	if ack := eval[string](t, br, `document.querySelector(`+jsString(chartOf(flash, "ack"))+`).getAttribute("aria-label")`); !strings.HasPrefix(ack, "Tiempo de acuse · US · FLASH") || !strings.HasSuffix(ack, "aún no: 0") {
		t.Errorf("acknowledgement chart's accessible name in es = %q", ack)
	}
	if opt := br.text(t, `#chart-precedence option[value="PRECEDENCE_ROUTINE"]`); opt != "Rutina" {
		t.Errorf("ROUTINE option in es = %q, want Rutina", opt)
	}
	br.screenshot(t, "15-secretariat-charts-es")
}

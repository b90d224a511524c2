package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// Bulletin text in Spanish with a Portuguese translation.
const (
	esTitle = "Viajero sospechoso en el aeropuerto"
	esBody  = "Compró un boleto de ida; documento reportado perdido."
	ptTitle = "Viajante suspeito no aeroporto"
	ptBody  = "Comprou uma passagem só de ida; documento dado como perdido."
)

// testTranslations: the analyst's console shows a bulletin in the
// language chosen when it has a translation into it, says which one is
// shown and which others exist, and the original otherwise.
func testTranslations(t *testing.T, br *tab, c *consoles) {
	mx := nettest.Dial(t, c.nw, testenv.FocalPoint("MX"))
	d := nettest.Draft(esTitle, "US")
	d.Precedence = iantv1.Precedence_PRECEDENCE_ROUTINE
	d.Language, d.Body = iantv1.Language_LANGUAGE_ES, esBody
	d.Translations = []*iantv1.Translation{{Language: iantv1.Language_LANGUAGE_PT, Title: ptTitle, Body: ptBody}}
	id := nettest.Post(t, mx, d).GetBulletin().GetId()
	item := `#feed li[data-id="` + id + `"]`

	br.run(t, "Portuguese, and the bulletin arrives", choose("#lang", "pt"), chromedp.WaitVisible(css(item+`[data-lang="pt"]`)))
	if got := br.text(t, item+" .title"); got != ptTitle {
		t.Errorf("feed title in pt = %q, want the translation %q", got, ptTitle)
	}
	if note := br.text(t, item+" .lang-note"); !strings.Contains(note, "pt (tradução de MX)") || !strings.Contains(note, "também em es (original)") {
		t.Errorf("feed note in pt = %q, want it to say pt is shown (MX's translation), also es (original)", note)
	}
	br.screenshot(t, "08-feed-pt")

	page := br.newTab()
	page.run(t, "open the bulletin", chromedp.Navigate(c.an.BaseURL()+"/bulletin?id="+id+"&origin=MX"),
		chromedp.WaitReady(css(`#lang-note[data-shown="pt"]`)))
	if h1, body := page.text(t, "#title"), page.text(t, "#body"); h1 != ptTitle || body != ptBody {
		t.Errorf("bulletin page in pt = %q / %q, want the Portuguese translation", h1, body)
	}
	want := "Exibido em pt (tradução de MX) · também em es (original)"
	if note := page.text(t, "#lang-note"); note != want {
		t.Errorf("language note = %q, want %q", note, want)
	}
	page.screenshot(t, "09-bulletin-pt")

	page.run(t, "English: no translation, the original", choose("#lang", "en"), chromedp.WaitReady(css(`#lang-note[data-shown="es"]`)))
	if h1 := page.text(t, "#title"); h1 != esTitle {
		t.Errorf("bulletin title in en = %q, want the Spanish original %q", h1, esTitle)
	}
	want = "Shown in es (original) · also in pt (translation by MX)"
	if note := page.text(t, "#lang-note"); note != want {
		t.Errorf("language note = %q, want %q", note, want)
	}
	br.run(t, "feed back to English", chromedp.Reload(), chromedp.WaitVisible(css(item+`[data-lang="es"]`)))
}

// testConfidential: a bulletin whose audience is confidential says so,
// and shows the reader no recipient but what the node returned.
func testConfidential(t *testing.T, br *tab, c *consoles) {
	mx := nettest.Dial(t, c.nw, testenv.FocalPoint("MX"))
	d := nettest.Draft("Confidential warning", "US")
	d.Precedence = iantv1.Precedence_PRECEDENCE_ROUTINE
	d.ConfidentialAudience = true
	id := nettest.Post(t, mx, d).GetBulletin().GetId()
	br.run(t, "see it in the feed", chromedp.WaitVisible(css(`#feed li[data-id="`+id+`"] .aud`)))

	page := br.newTab()
	page.run(t, "open it", chromedp.Navigate(c.an.BaseURL()+"/bulletin?id="+id+"&origin=MX"), chromedp.WaitVisible(css("#fields dd")))
	fields := page.text(t, "#fields")
	if !strings.Contains(fields, "confidential audience — recipients shown to you: US") {
		t.Errorf("fields = %q, want the confidential audience with US only", fields)
	}
	if strings.Contains(fields, "Releasability") {
		t.Errorf("fields = %q: a confidential audience shows no releasability", fields)
	}
	page.screenshot(t, "10-confidential")
}

// testPhone: on a 390×844 window the feed and a bulletin fit the width
// (no horizontal scrolling) and a focal point's actions are on screen.
func testPhone(t *testing.T, br *tab, c *consoles) {
	mx := nettest.Dial(t, c.nw, testenv.FocalPoint("MX"))
	us := nettest.Dial(t, c.nw, testenv.FocalPoint("US"))
	id := nettest.Post(t, mx, nettest.Draft("A bulletin read on a phone, with a rather long title that has to wrap", "US")).GetBulletin().GetId()
	nettest.WaitStored(t, us, id)
	fp := startConsole(t, c.nw, testenv.FocalPoint("US"))
	phone := br.newTab()
	const fits = `document.documentElement.scrollWidth <= window.innerWidth`
	phone.run(t, "phone: the feed", chromedp.EmulateViewport(390, 844), signIn(fp),
		chromedp.WaitVisible(css(`#feed li[data-id="`+id+`"]`)))
	if w := eval[int](t, phone, `window.innerWidth`); w != 390 {
		t.Fatalf("window width = %d, want 390", w)
	}
	if !eval[bool](t, phone, fits) {
		t.Errorf("feed at 390 px scrolls sideways: scrollWidth %d", eval[int](t, phone, `document.documentElement.scrollWidth`))
	}
	phone.screenshot(t, "11-phone-feed")

	phone.run(t, "phone: the bulletin", chromedp.Navigate(fp.BaseURL()+"/bulletin?id="+id+"&origin=MX"), chromedp.WaitVisible(css("#ack")))
	if !eval[bool](t, phone, fits) {
		t.Errorf("bulletin at 390 px scrolls sideways: scrollWidth %d", eval[int](t, phone, `document.documentElement.scrollWidth`))
	}
	// The check can fail: a wider element makes the page scroll sideways.
	if eval[bool](t, phone, `(() => { const d = document.createElement("div"); d.style.width = "600px"; d.style.height = "1px";
		document.body.append(d); const ok = `+fits+`; d.remove(); return ok; })()`) {
		t.Error("a 600 px element did not make the 390 px page overflow: the width check cannot fail")
	}
	off := eval[[]string](t, phone, `[...document.querySelectorAll("#actions button")].filter(b => b.offsetParent !== null).filter(b => {
		const r = b.getBoundingClientRect(); return r.width === 0 || r.left < 0 || r.right > window.innerWidth; }).map(b => b.id || b.textContent)`)
	if len(off) > 0 {
		t.Errorf("action buttons off screen at 390 px: %q", off)
	}
	if n := eval[int](t, phone, `[...document.querySelectorAll("#actions button")].filter(b => b.offsetParent !== null).length`); n < 4 {
		t.Errorf("%d action buttons shown to a focal point of a recipient state, want acknowledge, reply and forward's two", n)
	}
	phone.screenshot(t, "12-phone-bulletin")
}

// TestBrowserNodeLanguage: a person who never chose a language in the
// console sees it in the language their node's configuration gives them,
// and their own choice still wins once made.
func TestBrowserNodeLanguage(t *testing.T) {
	br := newBrowser(t)
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, NodeConfig: func(cc string, c *statenode.Config) {
		if cc == "US" {
			c.Languages = map[string]bulletin.Language{testenv.Analyst("US").ID(c.TrustDomain).String(): bulletin.Portuguese}
		}
	}})
	an := startConsole(t, nw, testenv.Analyst("US"))
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	d := nettest.Draft(esTitle, "US")
	d.Language, d.Body = iantv1.Language_LANGUAGE_ES, esBody
	d.Translations = []*iantv1.Translation{{Language: iantv1.Language_LANGUAGE_PT, Title: ptTitle, Body: ptBody}}
	id := nettest.Post(t, mx, d).GetBulletin().GetId()
	item := `#feed li[data-id="` + id + `"]`

	br.run(t, "the feed, no language chosen", signIn(an), chromedp.WaitVisible(css(item+`[data-lang="pt"]`)))
	if h1 := br.text(t, "h1"); h1 != "Boletins ao vivo" {
		t.Errorf("heading = %q, want the node's preferred Portuguese", h1)
	}
	if got := br.text(t, item+" .title"); got != ptTitle {
		t.Errorf("feed title = %q, want the Portuguese translation", got)
	}
	br.run(t, "choose English", choose("#lang", "en"), chromedp.Reload(), chromedp.WaitVisible(css(item+`[data-lang="es"]`)))
	if h1 := br.text(t, "h1"); h1 != "Live feed" {
		t.Errorf("heading after choosing English and reloading = %q, want the person's choice", h1)
	}
}

package console_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hostileTitle is a title another state could send: markup, a script and
// an event handler, which must all show as text.
const hostileTitle = `<script>window.pwned=1</script><img src=x onerror="window.pwned=2"><b>bold</b> &amp; <iframe src="//evil.example">`

// TestBrowser drives the console in a real chromium against a real
// network (MX and US): the session rules, the live feed with a FLASH
// alert, hostile text, the filters, the language, the post form, an
// acknowledgement and the secretariat's matrix turning acknowledged live,
// recent bulletins in the matrix unfollowed, the feed newest first over
// more than a page, a translation and a confidential audience, and a phone-sized window.
func TestBrowser(t *testing.T) {
	br := newBrowser(t)
	c := startConsoles(t)
	mx := nettest.Dial(t, c.nw, testenv.FocalPoint("MX"))
	us := nettest.Dial(t, c.nw, testenv.Analyst("US"))
	var flashID string

	t.Run("no session cookie, no console", func(t *testing.T) {
		br.run(t, "open without login", chromedp.Navigate(c.an.BaseURL()+"/"))
		if body := br.text(t, "body"); !strings.Contains(body, "no console session") {
			t.Errorf("page without the cookie = %q, want the refusal", body)
		}
		br.screenshot(t, "00-refused")
	})

	t.Run("feed: a FLASH arrives live with its alert", func(t *testing.T) {
		br.run(t, "login", signIn(c.an), chromedp.WaitReady(css(`#status[data-live="1"]`)),
			chromedp.WaitNotVisible(css("#flash-alert")))
		flashID = nettest.Post(t, mx, nettest.Draft("FLASH: suspected travel", "US")).GetBulletin().GetId()
		br.run(t, "see it arrive", chromedp.WaitVisible(css(feedItem(flashID))), chromedp.WaitVisible(css("#flash-alert")))
		if tlp := br.text(t, feedItem(flashID)+" .tlp"); tlp != "TLP:AMBER" {
			t.Errorf("TLP badge = %q, want TLP:AMBER", tlp)
		}
		br.screenshot(t, "01-feed-flash")
	})

	t.Run("the login token leaves no trace, and API calls need the page's key", func(t *testing.T) {
		if loc := eval[string](t, br, `location.href`); loc != c.an.BaseURL()+"/" {
			t.Errorf("address after login = %q, want the feed without the token", loc)
		}
		code := eval[int](t, br, `fetch("/api/rpc/ListBulletins", {method: "POST", headers: {"X-IANT-Session-Key": "wrong"}, body: "{}"}).then(r => r.status)`)
		if code != 401 {
			t.Errorf("POST with a wrong key = %d, want 401", code)
		}
		code = eval[int](t, br, `fetch("/api/rpc/ListBulletins", {method: "POST", body: "{}"}).then(r => r.status)`)
		if code != 401 {
			t.Errorf("POST with the cookie alone = %d, want 401", code)
		}
		code = eval[int](t, br, `fetch("/api/rpc/ListBulletins", {method: "POST", headers: {"X-IANT-Session-Key": localStorage.getItem("iant.console.key")}, body: "{}"}).then(r => r.status)`)
		if code != 200 {
			t.Errorf("POST with the page's key = %d, want 200", code)
		}
	})

	t.Run("another local server gets the cookie but not the key, and the cookie alone opens nothing", func(t *testing.T) {
		cookies := make(chan string, 1)
		// Another local user can serve on the console's own loopback
		// address (found in /proc/net/tcp), on another port.
		host, _, _ := net.SplitHostPort(c.an.Addr())
		evil := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case cookies <- r.Header.Get("Cookie"):
			default:
			}
			// What a page of another origin can read of the console's
			// storage: nothing (localStorage is per origin).
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<p id="k">`+"evil"+`</p>`)
		}))
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatal(err)
		}
		evil.Listener = ln
		evil.Start()
		defer evil.Close()
		tab := br.newTab()
		tab.run(t, "visit another port of this machine", chromedp.Navigate(evil.URL+"/"), chromedp.WaitVisible(css("#k")))
		if k := eval[string](t, tab, `String(localStorage.getItem("iant.console.key"))`); k != "null" {
			t.Errorf("a page of another port reads the console's key: %q", k)
		}
		var stolen string
		select {
		case stolen = <-cookies:
		default:
		}
		if !strings.Contains(stolen, cookieName(c.an)+"=") {
			t.Errorf("the browser did not send the console's cookie to another port (%q): the attack this guards against is not reproduced", stolen)
		}
		for _, r := range []struct{ method, path string }{{"GET", "/api/me"}, {"POST", "/api/rpc/ListBulletins"}, {"GET", "/api/events"}} {
			req, _ := http.NewRequestWithContext(t.Context(), r.method, c.an.BaseURL()+r.path, strings.NewReader("{}"))
			req.Header.Set("Cookie", stolen)
			req.Header.Set("Origin", c.an.BaseURL())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with the cookie the other server got = %s, want 401", r.method, r.path, resp.Status)
			}
		}
	})

	t.Run("hostile text shows as text", func(t *testing.T) {
		id := nettest.Post(t, mx, nettest.Draft(hostileTitle, "US")).GetBulletin().GetId()
		br.run(t, "see it", chromedp.WaitVisible(css(feedItem(id))))
		if title := br.text(t, feedItem(id)+" .title"); title != hostileTitle {
			t.Errorf("title shown = %q, want the text %q", title, hostileTitle)
		}
		if eval[bool](t, br, `window.pwned !== undefined || document.querySelectorAll("#feed script, #feed img, #feed b, #feed iframe").length > 0`) {
			t.Error("the hostile title became markup or ran")
		}
		safe := eval[string](t, br, `IANT.text(document.createElement("span"), "a\u202Eb\u001b[31mc\u2066").textContent`)
		if want := `a\u{202E}b\u{001B}[31mc\u{2066}`; safe != want {
			t.Errorf("bidi and ANSI shown as %q, want %q", safe, want)
		}
		br.screenshot(t, "02-hostile")
	})

	t.Run("filters", func(t *testing.T) {
		br.run(t, "filter routine", choose("#f-precedence", "PRECEDENCE_ROUTINE"), chromedp.WaitNotPresent(css(feedItem(flashID))))
		routine := nettest.Draft("Routine report on border crossings", "US")
		routine.Precedence = iantv1.Precedence_PRECEDENCE_ROUTINE
		id := nettest.Post(t, mx, routine).GetBulletin().GetId()
		br.run(t, "see the routine one", chromedp.WaitVisible(css(feedItem(id))))
		if n := eval[int](t, br, `document.querySelectorAll('#feed li[data-precedence="PRECEDENCE_FLASH"]').length`); n != 0 {
			t.Errorf("%d FLASH bulletins shown under the routine filter", n)
		}
		br.run(t, "all precedences, text filter", choose("#f-precedence", ""),
			chromedp.WaitVisible(css(feedItem(flashID))), setValue("#f-text", "border crossings"))
		visible := eval[[]string](t, br, `[...document.querySelectorAll("#feed li")].filter(li => !li.hidden).map(li => li.dataset.id)`)
		if len(visible) != 1 || visible[0] != id {
			t.Errorf("visible under the text filter = %v, want only %s", visible, id)
		}
		br.screenshot(t, "03-filtered")
		br.run(t, "clear the text filter", setValue("#f-text", ""))
	})

	t.Run("a revocation marks the bulletin live", func(t *testing.T) {
		id := nettest.Post(t, mx, nettest.Draft("To be revoked", "US")).GetBulletin().GetId()
		br.run(t, "see it", chromedp.WaitVisible(css(feedItem(id))))
		nettest.WaitStored(t, us, id)
		nettest.Revoke(t, mx, id, "source retracted")
		br.run(t, "see it marked revoked", chromedp.WaitVisible(css(feedItem(id)+".revoked .mark.revoked")))
		br.screenshot(t, "03b-revoked")
	})

	t.Run("the language is the person's choice, remembered", func(t *testing.T) {
		br.run(t, "switch to Spanish", choose("#lang", "es"))
		if h1 := br.text(t, "h1"); h1 != "Boletines en vivo" {
			t.Errorf("heading in es = %q", h1)
		}
		br.run(t, "reload", chromedp.Reload(), chromedp.WaitReady(css(`#status[data-live="1"]`)))
		if h1 := br.text(t, "h1"); h1 != "Boletines en vivo" {
			t.Errorf("heading after reload = %q, want the chosen Spanish", h1)
		}
		br.run(t, "French", choose("#lang", "fr"))
		if h1 := br.text(t, "h1"); h1 != "Bulletins en direct" {
			t.Errorf("heading in fr = %q", h1)
		}
		br.screenshot(t, "03c-language-fr")
		br.run(t, "back to English", choose("#lang", "en"))
	})

	t.Run("acknowledge, and the secretariat's matrix turns acknowledged live", func(t *testing.T) {
		sec := br.newTab()
		cell := `#matrix tr[data-id="` + flashID + `"] td[data-state="US"]`
		sec.run(t, "auditor follows the bulletin", signIn(c.au), chromedp.WaitVisible(css("#track-id")),
			setValue("#track-origin", "MX"), setValue("#track-id", flashID), chromedp.Click(css("#track-form button")),
			chromedp.WaitVisible(css(cell)))
		if st := eval[string](t, sec, `document.querySelector(`+jsString(cell)+`).dataset.status`); st == "acknowledged" {
			t.Fatalf("cell is %q before the acknowledgement", st)
		}
		fp := br.newTab()
		usFP := startConsole(t, c.nw, testenv.FocalPoint("US"))
		fp.run(t, "US focal point opens the bulletin", signIn(usFP),
			chromedp.Navigate(usFP.BaseURL()+"/bulletin?id="+flashID+"&origin=MX"), chromedp.WaitVisible(css("#ack")))
		fp.screenshot(t, "04-bulletin")
		fp.run(t, "acknowledge", chromedp.Click(css("#ack")), chromedp.WaitReady(css(`#action-result[data-ok="AcknowledgeBulletin"]`)))
		nettest.WaitGet(t, us, "MX", flashID, func(r *iantv1.GetBulletinResponse) bool { return r.GetBulletin().GetAcknowledgeTime() != nil })
		sec.run(t, "matrix cell turns acknowledged", chromedp.WaitVisible(css(cell+`[data-status="acknowledged"]`)))
		sec.screenshot(t, "05-secretariat")
	})

	t.Run("post form: an invalid field is named beside it, then the bulletin arrives", func(t *testing.T) {
		fp := br.newTab()
		fp.run(t, "open the form", signIn(c.fp), chromedp.Navigate(c.fp.BaseURL()+"/post"),
			chromedp.WaitVisible(css(`input[name=state][value="US"]`)),
			chromedp.SendKeys(css("#p-title"), "Posted from the browser"),
			chromedp.SendKeys(css("#p-body"), "Seen at the airport."),
			chromedp.Click(css("#p-submit")))
		if e := fp.text(t, "#p-release > .err"); e == "" {
			t.Error("no error beside the releasability")
		}
		fp.run(t, "release to US, expiry in the past", chromedp.Click(css(`input[name=state][value="US"]`)),
			setValue("#p-expires", "2020-01-01T00:00"), chromedp.Click(css("#p-submit")),
			chromedp.WaitVisible(css(`#p-expires[aria-invalid="true"]`)))
		if e := fp.text(t, "#p-expires ~ .err"); !strings.Contains(e, "expire") {
			t.Errorf("error beside the expiry = %q, want the node's refusal of expire_time", e)
		}
		fp.screenshot(t, "06-post-invalid")
		fp.run(t, "valid", setValue("#p-expires", ""), chromedp.Click(css("#p-submit")), chromedp.WaitVisible(css("#posted-link")))
		id := fp.text(t, "#posted-link")
		fp.screenshot(t, "07-posted")
		nettest.WaitStored(t, us, id)
		br.run(t, "it arrives in the analyst's feed", chromedp.WaitVisible(css(feedItem(id))))
	})

	t.Run("the matrix shows recent bulletins without following them", func(t *testing.T) { testRecentMatrix(t, br, c, flashID) })
	t.Run("the feed opens on the newest of more than a page", func(t *testing.T) { testFeedNewestFirst(t, br, c) })
	t.Run("a translation is shown in the chosen language, saying which", func(t *testing.T) { testTranslations(t, br, c) })
	t.Run("a confidential audience shows the reader only its own state", func(t *testing.T) { testConfidential(t, br, c) })
	t.Run("a phone-sized window: no sideways scrolling, actions on screen", func(t *testing.T) { testPhone(t, br, c) })
	t.Run("a page sending the browser to the login page ends no session", func(t *testing.T) {
		// Any site can open the login page (it is public): without a token,
		// or with a wrong one, it must not throw away the session's key.
		other := br.newTab()
		other.run(t, "login page without a token", chromedp.Navigate(c.an.BaseURL()+"/login"), chromedp.WaitVisible(css("#login-help")))
		other.run(t, "login page with a wrong token", chromedp.Navigate(c.an.BaseURL()+"/login#token=wrong"), chromedp.WaitVisible(css("#login-help")))
		other.run(t, "the feed in a new page", chromedp.Navigate(c.an.BaseURL()+"/"), chromedp.WaitReady(css(`#status[data-live="1"]`)))
		if loc := eval[string](t, other, `location.pathname`); loc != "/" {
			t.Errorf("after another page opened /login, the feed went to %q, want the feed still signed in", loc)
		}
	})
	t.Run("sign out ends the session", func(t *testing.T) {
		br.run(t, "sign out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-help")))
		if st := br.text(t, "#login-status"); st != "Signed out." {
			t.Errorf("after sign out the page says %q, want Signed out.", st)
		}
		br.screenshot(t, "12-signed-out")
		br.run(t, "the feed again", chromedp.Navigate(c.an.BaseURL()+"/"))
		if body := br.text(t, "body"); !strings.Contains(body, "no console session") {
			t.Errorf("the feed after sign out = %q, want the refusal", body)
		}
	})
}

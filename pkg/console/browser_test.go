package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/oas-cicte/iant/pkg/console"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// chromium finds the browser the tests drive. Without one the browser
// tests skip, saying why, unless CI=true: there (.ci/run installs
// Debian's chromium) a missing browser fails them.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium binary on PATH and CI=true: .ci/run installs Debian's chromium (apt-get install -y chromium)")
	}
	t.Skip("no chromium binary on PATH (apt-get install -y chromium): the real-browser tests need one")
	return ""
}

// tab is one browser tab of a headless chromium that the test ends.
type tab struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts chromium with the flags that work on these machines
// (../shared/notes/facts.md §11) and a fresh profile, at 1280×800.
func newBrowser(t *testing.T) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(t.Context()), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &tab{t: t, ctx: ctx}
}

// newTab opens another tab of the same browser.
func (b *tab) newTab() *tab {
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	// The first Do opens the tab and binds its life to ctx: without a
	// timeout, so that the bounded steps after it do not close it.
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open a tab: %v", err)
	}
	return &tab{t: b.t, ctx: ctx}
}

// run runs steps, each wait bounded by nettest.Eventually.
func (b *tab) run(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, nettest.Eventually)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v\npage text:\n%s", what, err, b.pageText())
	}
}

// pageText is the page's text, for failure messages.
func (b *tab) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

// text returns the text content of the first element matching the CSS
// selector, waiting for it.
func (b *tab) text(t testing.TB, selector string) string {
	t.Helper()
	return value(t, b, chromedp.TextContent(chromedp.CSS(selector)))
}

// eval evaluates a JavaScript expression, awaiting a promise.
func eval[T any](t testing.TB, b *tab, expr string) T {
	t.Helper()
	return value(t, b, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

func value[T any](t testing.TB, b *tab, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, nettest.Eventually)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%v\npage text:\n%s", err, b.pageText())
	}
	return v
}

// screenshot writes the page as NAME.png among the test's artifacts
// (go test -artifacts keeps them).
func (b *tab) screenshot(t *testing.T, name string) {
	t.Helper()
	png := value(t, b, chromedp.FullScreenshot(100))
	path := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// choose sets a select's value and fires its change event.
func choose(selector, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector(` + jsString(selector) + `); s.value = ` + jsString(value) +
		`; s.dispatchEvent(new Event("change", {bubbles: true})); })()`)
}

// setValue sets an input's value and fires its input event.
func setValue(selector, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector(` + jsString(selector) + `); s.value = ` + jsString(value) +
		`; s.dispatchEvent(new Event("input", {bubbles: true})); })()`)
}

// css is a CSS selector.
func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// signIn opens a login URL of s and waits until the login page's script
// has spent its token and left for the person's first page. An
// evaluation can fail while the page navigates: it is tried again.
func signIn(s *console.Server) chromedp.Action[chromedp.Void] {
	url := s.LoginURL()
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.Navigate(url)(ctx, t); err != nil {
			return chromedp.Void{}, err
		}
		check := chromedp.Evaluate[bool](`location.pathname !== "/login" && document.readyState === "complete"`)
		for {
			if done, err := check(ctx, t); err == nil && done {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("sign in at %s: %w", s.BaseURL(), ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium package; CI installs it (.ci/run).
const chromiumPath = "/usr/bin/chromium"

// browser is one headless Chromium with a fresh profile, driven by chromedp.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	requests []seenRequest // every request the page made (URL and body)
	console  []string      // console messages and exceptions, for failure reports
}

type seenRequest struct {
	URL, Method, PostData string
}

// newBrowser starts Chromium for t. Without it the test is skipped, except
// in CI (CI set), where a missing browser fails the run.
func newBrowser(t *testing.T, width, height int, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs Chromium at %s (apt-get install chromium): %v", chromiumPath, err)
		}
		t.Skipf("no Chromium at %s (apt-get install chromium); the browser tests are skipped", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.Flag("lang", "en-IN"), // dates as people in India read them
		chromedp.Env("LANGUAGE=en_IN"),
		// A fake camera, so the scan button has a device to open.
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first Do starts the browser. Its context lives as long as the
	// test, so the wait for the start gets its own timer.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("start Chromium: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Chromium did not start within a minute")
	}
	return attach(t, ctx, width, height)
}

// newProfile opens a tab in a new browser context: another person on
// another device, with cookies and storage of its own.
func (b *browser) newProfile(width, height int) *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open a tab: %v", err)
	}
	return attach(b.t, ctx, width, height)
}

// attach starts recording a tab's requests and console and sets its size.
func attach(t *testing.T, ctx context.Context, width, height int) *browser {
	t.Helper()
	b := &browser{t: t, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			b.mu.Lock()
			t.Logf("browser console:\n  %s", strings.Join(b.console, "\n  "))
			b.mu.Unlock()
		}
	})
	if err := chromedp.Listen(ctx, b.record); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatal(err)
	}
	return b
}

// record runs in the tab's event loop: it must return fast.
func (b *browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		r := seenRequest{URL: ev.Request.URL, Method: ev.Request.Method}
		for _, e := range ev.Request.PostDataEntries {
			r.PostData += string(e.Bytes)
		}
		b.requests = append(b.requests, r)
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			parts = append(parts, string(a.Value)+a.Description)
		}
		b.console = append(b.console, string(ev.Type)+": "+strings.Join(parts, " "))
	case *runtime.EventExceptionThrown:
		b.console = append(b.console, "exception: "+(&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
	}
}

// seen returns the requests recorded so far and forgets them.
func (b *browser) seen() []seenRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.requests
	b.requests = nil
	return out
}

// run runs steps with a deadline, failing the test on error.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text returns the text of the element with this id.
func (b *browser) text(id string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID(id)))
	if err != nil {
		b.t.Fatalf("text of #%s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// waitJS waits until the JavaScript expression is truthy. It evaluates
// the expression again and again, so a navigation in between (a login
// redirect, a reload) does not end the wait.
func (b *browser) waitJS(what, expr string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("waiting for %s: not within %s (last error: %v)", what, timeout, last)
}

func (b *browser) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// screenshotDir is where screenshots go: docs/screenshots when
// VAXCERT_SCREENSHOTS=1 (to refresh the README's pictures), otherwise a
// temporary directory, so a plain test run leaves the checkout untouched.
func screenshotDir(t *testing.T) string {
	if os.Getenv("VAXCERT_SCREENSHOTS") == "1" {
		dir := filepath.Join("..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// screenshot saves the viewport as dir/name.png.
func (b *browser) screenshot(dir, name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	// Let fonts and the last layout settle: a screenshot is documentation.
	chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))))`, chromedp.EvalAwaitPromise))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// setOffline cuts the page's network (as DevTools' offline switch does,
// including the service worker's own requests).
func (b *browser) setOffline(offline bool) {
	b.t.Helper()
	params := network.EmulateNetworkConditionsByRuleParams{
		EmulateOfflineServiceWorker: &offline,
		MatchedNetworkConditions:    []*network.Conditions{{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}},
	}
	if _, err := chromedp.Call(b.ctx, network.EmulateNetworkConditionsByRule, params); err != nil {
		b.t.Fatalf("network conditions: %v", err)
	}
	if _, err := chromedp.Call(b.ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		b.t.Fatalf("network state: %v", err)
	}
}

// upload sets the file input's file, which fires its change event.
func (b *browser) upload(inputID, path string) {
	b.t.Helper()
	b.run("upload "+filepath.Base(path), chromedp.SetUploadFiles(chromedp.ID(inputID), []string{path}))
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// download clicks the element (a link with a download attribute) and
// returns the downloaded file's bytes.
func (b *browser) download(sel string) []byte {
	b.t.Helper()
	dir := b.t.TempDir()
	yes := true
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &yes,
		BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID,
	}); err != nil {
		b.t.Fatalf("download behaviour: %v", err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	progress := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadProgress)
	b.run("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("download %s: %v", sel, err)
		}
		switch ev.State {
		case cdpbrowser.DownloadProgressStateCompleted:
			data, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				b.t.Fatal(err)
			}
			return data
		case cdpbrowser.DownloadProgressStateCanceled:
			b.t.Fatalf("download %s was cancelled", sel)
		}
	}
	return nil
}

// assertAccessible checks what a screen reader and a keyboard need on the
// page as it stands: a language, one h1, a label for every visible field,
// a name for every button and link, and alt text on every image.
func (b *browser) assertAccessible(page string) {
	b.t.Helper()
	problems := b.eval(`(() => {
		const out = [];
		const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
		if (!document.documentElement.lang) out.push("no lang on <html>");
		if (document.querySelectorAll("h1").length !== 1) out.push(document.querySelectorAll("h1").length + " h1 elements");
		for (const e of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
			if ((visible(e) || e.type === "file") && !e.labels.length && !e.getAttribute("aria-label")) out.push("unlabelled " + (e.id || e.name || e.type));
		}
		for (const e of document.querySelectorAll("button, a[href]")) {
			if (visible(e) && !(e.textContent.trim() || e.getAttribute("aria-label"))) out.push("nameless " + e.outerHTML.slice(0, 60));
		}
		for (const e of document.querySelectorAll("img")) {
			if (!e.hasAttribute("alt")) out.push("img without alt " + e.getAttribute("src"));
		}
		return out.join("; ");
	})()`)
	if problems != "" {
		b.t.Errorf("%s: %s", page, problems)
	}
}

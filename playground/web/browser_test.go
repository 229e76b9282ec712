package web

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/capspec/capspec/playground"
	"github.com/capspec/capspec/playground/internal/testpolicy"
)

// findChromium returns the Chromium to drive: $CAPSPEC_CHROMIUM, or the
// first of Debian's and the usual names on PATH.
func findChromium() (string, bool) {
	if p := os.Getenv("CAPSPEC_CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// browser starts a headless Chromium with the flags this machine needs
// (no sandbox as root, no GPU, no network of its own: background
// networking, QUIC, component updates and sync off) and a fresh profile,
// and returns a tab's context, bounded by timeout.
func browser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	path, ok := findChromium()
	if !ok {
		t.Skip("no Chromium found (looked for $CAPSPEC_CHROMIUM, chromium, chromium-browser, google-chrome): install Debian's chromium (apt-get install chromium); .ci/run does")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return bctx
}

// openPlayground serves the page, with the wasm built from the current
// sources, on a loopback port, and starts a browser.
func openPlayground(t *testing.T) (context.Context, *httptest.Server) {
	t.Helper()
	if testing.Short() {
		t.Skip("drives a browser; skipped with -short")
	}
	srv := httptest.NewServer(HandlerFS(freshFS(t)))
	t.Cleanup(srv.Close)
	return browser(t, browserTimeout), srv
}

// requestLog records every URL the page requests.
type requestLog struct {
	mu   sync.Mutex
	urls []string
}

func (l *requestLog) add(u string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.urls = append(l.urls, u)
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.urls)
}

// typoPolicy is the policy of the link the test opens: a flag name with a typo.
const typoPolicy = "--allow-outboud=tcp://example.com:443\n"

// TestBrowser drives the playground in a real headless Chromium, as a
// person would: open a shared link, read the diagnostic, apply its fix with
// the keyboard, type requests, read the canonical form and the diff, and
// look at the page on a desktop and at 320 px.
func TestBrowser(t *testing.T) {
	ctx, srv := openPlayground(t)

	var log requestLog
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			log.add(e.Request.URL)
		}
	}); err != nil {
		t.Fatal(err)
	}

	link := srv.URL + "/#" + playground.Fragment(playground.Input{
		Policy:     typoPolicy,
		Old:        "--allow-outbound=tcp://example.com:80\n",
		Interfaces: playground.DefaultInterfaces,
	})
	do(t, ctx, "open the link",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#diagnostics li[data-id="CS001"]`)),
	)
	// The other panels are drawn once the browser is free after the
	// diagnostics: wait for them, so that nothing moves under the mouse.
	waitFor(t, ctx, "the panels of the link", `document.getElementById('diff-summary').textContent !== ''`)

	// The typo is diagnosed, underlined, and has a suggestion.
	diagText := text(t, ctx, `#diagnostics li[data-id="CS001"]`)
	for _, want := range []string{"1:1", "error[CS001]", "unknown flag --allow-outboud; did you mean --allow-outbound?"} {
		if !strings.Contains(diagText, want) {
			t.Errorf("diagnostic %q lacks %q", diagText, want)
		}
	}
	if fix := text(t, ctx, `#diagnostics li[data-id="CS001"] button.fix`); fix != "Fix: use --allow-outbound" {
		t.Errorf("fix button says %q", fix)
	}
	if marked := text(t, ctx, `#policy-highlights mark.error`); marked != "--allow-outboud" {
		t.Errorf("the underlined text is %q, want the flag name", marked)
	}
	shot(t, ctx, "link.png")
	tm := js[map[string]any](t, ctx, `window.capspecTimings`)
	t.Logf("navigation to: wasm instantiated %.0f ms, capspec ready %.0f ms, first diagnostics %.0f ms", tm["instantiated"], tm["ready"], tm["firstDiagnostics"])

	// Hovering the underline shows the message.
	box := js[[]float64](t, ctx, `(() => { const r = document.querySelector('#policy-highlights mark.error').getBoundingClientRect(); return [r.left + r.width/2, r.top + r.height/2]; })()`)
	do(t, ctx, "hover the underline",
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, box[0], box[1]),
		chromedp.WaitVisible(chromedp.CSS(`#tooltip`)),
	)
	if tip := text(t, ctx, `#tooltip`); !strings.Contains(tip, "CS001") || !strings.Contains(tip, "did you mean --allow-outbound?") {
		t.Errorf("tooltip says %q", tip)
	}
	do(t, ctx, "move away", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 5, 5), chromedp.WaitNotVisible(chromedp.CSS(`#tooltip`)))

	// With the keyboard only: put the cursor in the flag name, read the
	// diagnostic under it, Tab to its fix and press Enter.
	do(t, ctx, "move the cursor into the typo",
		chromedp.Focus(chromedp.CSS(`#policy`)),
		chromedp.KeyEvent(kb.ArrowUp),
		chromedp.KeyEvent(kb.Home),
		chromedp.KeyEvent(kb.ArrowRight),
		chromedp.WaitVisible(chromedp.CSS(`#caret-diagnostic button.fix`)),
	)
	if caretText := text(t, ctx, `#caret-diagnostic`); !strings.Contains(caretText, "CS001") || !strings.Contains(caretText, "line 1, column 1") {
		t.Errorf("the diagnostic at the cursor reads %q", caretText)
	}
	do(t, ctx, "Tab to the fix", chromedp.KeyEvent(kb.Tab))
	if focused := js[string](t, ctx, `document.activeElement.textContent`); focused != "Fix: use --allow-outbound" {
		t.Fatalf("Tab from the editor focuses %q, want the fix", focused)
	}
	if outline := js[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle + ' ' + getComputedStyle(document.activeElement).outlineWidth`); outline != "solid 3px" {
		t.Errorf("focused button outline %q, want a visible 3px one", outline)
	}
	do(t, ctx, "apply the fix",
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotPresent(chromedp.CSS(`#diagnostics li[data-id="CS001"]`)),
	)
	fixed := get(t, ctx, "read the policy", chromedp.Value(chromedp.CSS(`#policy`)))
	if fixed != "--allow-outbound=tcp://example.com:443\n" {
		t.Errorf("after the fix the policy is %q", fixed)
	}
	if focused := jsWhen(t, ctx, `document.activeElement.id`, is("policy")); focused != "policy" {
		t.Errorf("after the fix the focus is on %q, want the editor", focused)
	}

	// The canonical form (drawn after the diagnostics), then requests typed
	// and decided live.
	const wantCanonical = "--allow-outbound=tcp://example.com:443"
	if canonical := textWhen(t, ctx, `#canonical`, func(s string) bool { return strings.TrimSpace(s) == wantCanonical }); strings.TrimSpace(canonical) != wantCanonical {
		t.Errorf("canonical form %q", canonical)
	}
	do(t, ctx, "type a request",
		chromedp.Click(chromedp.CSS(`#requests`)),
		chromedp.SendKeys(chromedp.CSS(`#requests`), "connect tcp example.com:443"),
		chromedp.WaitVisible(chromedp.CSS(`#decisions li.allow`)),
	)
	do(t, ctx, "type another request",
		chromedp.SendKeys(chromedp.CSS(`#requests`), "\nconnect tcp example.com:80"),
		chromedp.WaitVisible(chromedp.CSS(`#decisions li.deny`)),
	)
	if v1, v2 := text(t, ctx, `#decisions li.allow .verdict`), text(t, ctx, `#decisions li.deny .verdict`); v1 != "allow" || v2 != "deny" {
		t.Errorf("verdicts %q, %q; want allow, deny", v1, v2)
	}
	if reason := text(t, ctx, `#decisions li.deny .reason`); !strings.Contains(reason, "port 80 not in 443") {
		t.Errorf("the denial says %q, want why", reason)
	}
	if summary := textWhen(t, ctx, `#eval-summary`, is("2 requests: 1 allowed, 1 denied.")); summary != "2 requests: 1 allowed, 1 denied." {
		t.Errorf("eval summary %q", summary)
	}

	// The diff against the old policy of the link.
	wantDiff := []string{
		"+ --allow-outbound=tcp://example.com:443             policy.flags:1",
		"- --allow-outbound=tcp://example.com:80              old.flags:1",
		"1 grant added, 1 removed, 0 mappings changed",
	}
	diff := textWhen(t, ctx, `#diff`, func(s string) bool {
		return !slices.ContainsFunc(wantDiff, func(w string) bool { return !strings.Contains(s, w) })
	})
	for _, want := range wantDiff {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}

	// The link now holds what was typed, in the documented format. The page
	// writes it once typing pauses: wait for the last request to be in it.
	const typedRequests = "connect tcp example.com:443\nconnect tcp example.com:80"
	hash := jsWhen(t, ctx, `location.hash`, func(h string) bool {
		got, err := playground.ParseFragment(h)
		return err == nil && got.Requests == typedRequests
	})
	got, err := playground.ParseFragment(hash)
	if err != nil {
		t.Fatalf("the page wrote a fragment Go cannot read: %q: %v", hash, err)
	}
	if got.Policy != fixed || got.Requests != typedRequests || got.Old != "--allow-outbound=tcp://example.com:80\n" {
		t.Errorf("the link holds %+v", got)
	}

	// Colors: every piece of text on the page against its background.
	checkContrast(t, ctx, "desktop")
	do(t, ctx, "scroll to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	shot(t, ctx, "desktop.png")

	// At 320 px wide: nothing sticks out sideways, and it still renders.
	// Polled at animation frames: once the page is 320 px wide, its resize
	// handlers have run.
	do(t, ctx, "narrow the window", chromedp.EmulateViewport(320, 900),
		chromedp.Poll[chromedp.Void](`window.innerWidth === 320 && document.documentElement.clientWidth === 320`, chromedp.WithPollingTimeout(stepTimeout)))
	overflow := js[[]string](t, ctx, `(() => {
		const out = [];
		if (document.documentElement.scrollWidth > 320) out.push('page: ' + document.documentElement.scrollWidth + 'px');
		const clipped = (e) => { for (let a = e.parentElement; a; a = a.parentElement) if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return true; return false; };
		for (const e of document.querySelectorAll('body *')) {
			const r = e.getBoundingClientRect();
			// What scrolls inside a box that fits (the diff's aligned columns) is fine.
			if (r.width > 0 && r.right > 321 && !e.closest('.skip, [hidden]') && !clipped(e)) out.push(e.tagName + '#' + e.id + '.' + e.className + ': right ' + Math.round(r.right));
		}
		return out.slice(0, 10);
	})()`)
	if len(overflow) > 0 {
		t.Errorf("at 320 px these stick out: %v", overflow)
	}
	checkContrast(t, ctx, "320 px")

	// Long lines wrap the same in the editor and in the backdrop that draws
	// the underlines, so the marks stay under their text.
	do(t, ctx, "type long lines",
		chromedp.Evaluate[chromedp.Void](`(() => { const p = document.getElementById('policy');
			p.value = '# ' + 'a long comment that wraps '.repeat(6) + '\n--allow-outbound=tcp://a-very-long-name.of-a-service.example.com:443,8443,9443 --allow-outbound=tcp://x.example.com:70000\n';
			p.dispatchEvent(new Event('input')); })()`),
		chromedp.WaitVisible(chromedp.CSS(`#diagnostics li[data-id="CS002"]`)),
	)
	mismatch := js[[]string](t, ctx, `(() => {
		const p = document.getElementById('policy'), b = p.parentElement.querySelector('.backdrop');
		const ps = getComputedStyle(p), bs = getComputedStyle(b);
		const out = [];
		for (const k of ['fontFamily', 'fontSize', 'lineHeight', 'letterSpacing', 'paddingTop', 'paddingLeft', 'paddingRight', 'borderTopWidth', 'borderLeftWidth', 'borderRightWidth', 'whiteSpace', 'wordBreak', 'overflowWrap', 'tabSize', 'width'])
			if (ps[k] !== bs[k]) out.push(k + ': ' + ps[k] + ' vs ' + bs[k]);
		if (p.scrollHeight !== b.scrollHeight) out.push('content height: ' + p.scrollHeight + ' vs ' + b.scrollHeight);
		if (p.clientHeight < p.scrollHeight) out.push('the editor scrolls: ' + p.clientHeight + ' < ' + p.scrollHeight);
		const m = document.querySelector('#policy-highlights mark.error').getBoundingClientRect(), r = p.getBoundingClientRect();
		if (m.top < r.top || m.bottom > r.bottom || m.left < r.left || m.right > r.right) out.push('the mark lies outside the editor');
		return out;
	})()`)
	if len(mismatch) > 0 {
		t.Errorf("at 320 px the editor and its underlines differ: %v", mismatch)
	}
	if marked := textWhen(t, ctx, `#policy-highlights mark.error`, is("70000")); marked != "70000" {
		t.Errorf("the underlined text is %q, want the bad port", marked)
	}
	do(t, ctx, "scroll to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	shot(t, ctx, "narrow.png")

	// Every control is reached with Tab, in page order, with a visible focus.
	stops := js[[]string](t, ctx, `(() => {
		const all = [...document.querySelectorAll('a[href], button:not([disabled]), textarea, input, [tabindex="0"]')];
		return all.filter((e) => e.getBoundingClientRect().width > 0 || e.classList.contains('skip')).map((e) => e.id || e.className || e.tagName);
	})()`)
	do(t, ctx, "start from the top", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(); window.scrollTo(0, 0)`))
	var visited []string
	for range len(stops) + 2 {
		do(t, ctx, "press Tab", chromedp.KeyEvent(kb.Tab))
		v := js[[]string](t, ctx, `(() => { const e = document.activeElement, s = getComputedStyle(e); return [e.id || e.className || e.tagName, s.outlineStyle, s.outlineWidth]; })()`)
		if v[0] != "BODY" && (v[1] != "solid" || v[2] != "3px") {
			t.Errorf("%s has focus without a visible outline (%s %s)", v[0], v[1], v[2])
		}
		visited = append(visited, v[0])
	}
	for _, want := range []string{"skip", "policy", "copy-link", "canonical", "explanation", "requests", "interfaces", "old", "diff"} {
		if !slices.Contains(visited, want) {
			t.Errorf("Tab never reaches %s: %v", want, visited)
		}
	}
	before := get(t, ctx, "read the policy", chromedp.Value(chromedp.CSS(`#policy`)))
	do(t, ctx, "follow the skip link",
		chromedp.Focus(chromedp.CSS(`.skip`)),
		// Enter's key down and up: DevTools sends the character of a key as
		// an event of its own, which a browser does not send once the page
		// has handled the key down (as the skip link does).
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
				if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, input.DispatchKeyEventParams{Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}); err != nil {
					return err
				}
			}
			return nil
		}),
	)
	if focused := jsWhen(t, ctx, `document.activeElement.id`, is("policy")); focused != "policy" {
		t.Errorf("the skip link moves the focus to %q", focused)
	}
	if after := get(t, ctx, "read the policy", chromedp.Value(chromedp.CSS(`#policy`))); after != before {
		t.Errorf("the skip link changed the policy to %q", after)
	}
	for _, label := range js[[]string](t, ctx, `[...document.querySelectorAll('textarea, input')].filter((e) => !e.labels || e.labels.length === 0).map((e) => e.id)`) {
		t.Errorf("%s has no label", label)
	}

	// A link pasted into the same tab loads its policy; a damaged one says so.
	other := playground.Fragment(playground.Input{Policy: "--allow-resolve=example.org\n", Interfaces: playground.DefaultInterfaces})
	do(t, ctx, "follow another link",
		chromedp.Evaluate[chromedp.Void](`location.hash = '`+other+`'`),
		chromedp.Poll[chromedp.Void](`document.getElementById('policy').value === '--allow-resolve=example.org\n'`, chromedp.WithPollingTimeout(stepTimeout)),
	)
	do(t, ctx, "follow a damaged link",
		chromedp.Evaluate[chromedp.Void](`location.hash = 'p=***'`),
		chromedp.Poll[chromedp.Void](`document.getElementById('status').textContent.includes('"p" value cannot be read')`, chromedp.WithPollingTimeout(stepTimeout)),
	)

	// Only the page's own files were requested.
	urls := log.all()
	for _, u := range urls {
		if !strings.HasPrefix(u, srv.URL+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s, outside %s", u, srv.URL)
		}
	}
	t.Logf("requests: %v", urls)
	if len(urls) == 0 {
		t.Error("no request recorded: the network log does not work")
	}
}

// TestBrowserExample opens the page without a link: it shows its example,
// which has no errors, with every panel filled.
func TestBrowserExample(t *testing.T) {
	ctx, srv := openPlayground(t)
	do(t, ctx, "open the page",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#decisions li`)),
	)
	if status := textWhen(t, ctx, `#status`, is("Ready.")); status != "Ready." {
		t.Errorf("status %q", status)
	}
	if counts := text(t, ctx, `#diagnostic-counts`); !strings.HasPrefix(counts, "(0 errors, ") {
		t.Errorf("the example has %s", counts)
	}
	for _, sel := range []string{`#canonical`, `#explanation`, `#diff`} {
		if got := text(t, ctx, sel); len(got) < 20 || strings.Contains(got, "error") {
			t.Errorf("%s shows %q", sel, got)
		}
	}
	if summary := text(t, ctx, `#eval-summary`); !strings.HasPrefix(summary, "7 requests: ") {
		t.Errorf("eval summary %q", summary)
	}
	if hash := js[string](t, ctx, `location.hash`); hash != "" {
		t.Errorf("opening the page wrote the link %q before any edit", hash)
	}
	buf := get(t, ctx, "take a full screenshot", chromedp.FullScreenshot(90))
	if dir := os.Getenv("CAPSPEC_SCREENSHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "example.jpg"), buf, 0o644)
	}
	if len(buf) < 10000 {
		t.Errorf("a full screenshot of %d bytes", len(buf))
	}
}

// TestBrowserKeystrokes measures, in the browser, the time from a keystroke
// in a 100-rule policy to the page redrawn with every panel.
func TestBrowserKeystrokes(t *testing.T) {
	ctx, srv := openPlayground(t)
	policy := testpolicy.Hundred(0)
	link := srv.URL + "/#" + playground.Fragment(playground.Input{Policy: policy, Old: policy, Interfaces: playground.DefaultInterfaces,
		Requests: "connect tcp svc0.example.com:443\nlookup svc1.example.com\nlisten tcp localhost:9003\n"})
	do(t, ctx, "open a 100-rule policy",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
	)
	if n := js[int](t, ctx, `document.getElementById('policy').value.split('\n').filter(l => l.startsWith('--')).length`); n != 100 {
		t.Fatalf("the policy has %d rules, want 100", n)
	}
	if allowed := textWhen(t, ctx, `#eval-summary`, is("3 requests: 3 allowed, 0 denied.")); allowed != "3 requests: 3 allowed, 0 denied." {
		t.Errorf("eval summary %q", allowed)
	}
	tm := js[map[string]any](t, ctx, `window.capspecTimings`)
	first := tm["firstDiagnostics"].(float64)
	t.Logf("100-rule policy: navigation to: wasm instantiated %.0f ms, capspec ready %.0f ms, first diagnostics %.0f ms (first analysis %.0f ms)",
		tm["instantiated"], tm["ready"], first, tm["analyze"].([]any)[0])
	const typed = "# a comment typed key by key"
	do(t, ctx, "type at the end",
		chromedp.Focus(chromedp.CSS(`#policy`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const p = document.getElementById('policy'); p.setSelectionRange(p.value.length, p.value.length); window.capspecTimings.keystrokes = []; })()`),
		chromedp.SendKeys(chromedp.CSS(`#policy`), typed),
	)
	do(t, ctx, "let the panels catch up", chromedp.Poll[chromedp.Void](`document.getElementById('canonical').textContent.includes('a comment typed key by key')`,
		chromedp.WithPollingTimeout(stepTimeout)))
	ks := js[[]float64](t, ctx, `window.capspecTimings.keystrokes`)
	if len(ks) != len(typed) {
		t.Fatalf("%d keystrokes timed, want %d", len(ks), len(typed))
	}
	panels := js[[]float64](t, ctx, `window.capspecTimings.panels`)
	// One run of the panels per keystroke, the way a person types (the
	// pause is the typist's, not a wait for the page).
	do(t, ctx, "type slowly", chromedp.Evaluate[chromedp.Void](`window.capspecTimings.panels = []`))
	for _, c := range " slowly" {
		do(t, ctx, "type a key", chromedp.SendKeys(chromedp.CSS(`#policy`), string(c)), chromedp.Sleep(150*time.Millisecond))
	}
	slow := js[[]float64](t, ctx, `window.capspecTimings.panels`)
	lint := js[[]float64](t, ctx, `window.capspecTimings.lint`)
	slices.Sort(lint)
	t.Logf("of which lint in WebAssembly: median %.1f ms, max %.1f ms", lint[len(lint)/2], lint[len(lint)-1])
	slices.Sort(ks)
	slices.Sort(slow)
	t.Logf("100-rule policy: navigation to first diagnostics %.0f ms", first)
	t.Logf("keystroke to diagnostics drawn: median %.1f ms, p90 %.1f ms, max %.1f ms (%d keys)", ks[len(ks)/2], ks[len(ks)*9/10], ks[len(ks)-1], len(ks))
	t.Logf("keystroke to every panel drawn: typed fast, %d runs for %d keys; typed slowly, median %.1f ms, max %.1f ms (%d keys)",
		len(panels), len(typed), slow[len(slow)/2], slow[len(slow)-1], len(slow))
}

// Bounds of the browser tests: generous, for a loaded machine, but bounded.
// The tests wait on conditions (an element shown, a text drawn, a value
// polled), never for a fixed time.
const (
	// browserTimeout bounds a browser test as a whole.
	browserTimeout = 5 * time.Minute
	// stepTimeout bounds each step, and each wait for a condition.
	stepTimeout = 60 * time.Second
	// pollInterval is how often textWhen and jsWhen look again.
	pollInterval = 25 * time.Millisecond
)

// waitFor waits for a JavaScript condition to hold (polled at animation
// frames), failing the test when it does not within stepTimeout.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	do(t, ctx, "wait for "+what, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(stepTimeout)))
}

// is returns a check that a value is want.
func is[T comparable](want T) func(T) bool { return func(v T) bool { return v == want } }

// jsWhen evaluates a JavaScript expression until ok accepts its value, and
// returns the value: the accepted one, or the last one after stepTimeout,
// for the caller's check to report.
func jsWhen[T any](t *testing.T, ctx context.Context, expr string, ok func(T) bool) T {
	t.Helper()
	return when(t, ctx, func() T { return js[T](t, ctx, expr) }, ok)
}

// textWhen reads the text of the element a CSS selector finds until ok
// accepts it (panels drawn after the diagnostics), and returns it: the
// accepted one, or the last one after stepTimeout, for the caller's check
// to report.
func textWhen(t *testing.T, ctx context.Context, css string, ok func(string) bool) string {
	t.Helper()
	return when(t, ctx, func() string { return text(t, ctx, css) }, ok)
}

func when[T any](t *testing.T, ctx context.Context, read func() T, ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		v := read()
		if ok(v) || time.Now().After(deadline) {
			return v
		}
		select {
		case <-ctx.Done():
			return v
		case <-time.After(pollInterval):
		}
	}
}

// do runs browser actions, failing the test with what was being done.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs a browser action that reads a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// js evaluates a JavaScript expression and decodes its value.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	return get(t, ctx, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// text reads the text of the element a CSS selector finds.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	return get(t, ctx, "read "+css, chromedp.Text(chromedp.CSS(css)))
}

// shot takes a screenshot into the test's temporary directory and checks
// that it is not blank: its pixels vary, and it has several colors.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf := get(t, ctx, "take "+name, chromedp.CaptureScreenshot())
	path := filepath.Join(t.TempDir(), name)
	if dir := os.Getenv("CAPSPEC_SCREENSHOTS"); dir != "" {
		path = filepath.Join(dir, name) // kept to look at
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	variance, colors := pixelStats(img)
	t.Logf("%s: %dx%d, luminance variance %.0f, %d colors (%s)", name, img.Bounds().Dx(), img.Bounds().Dy(), variance, colors, path)
	if variance < 100 || colors < 8 {
		t.Errorf("%s looks blank: luminance variance %.1f, %d colors", name, variance, colors)
	}
}

// pixelStats returns the variance of the luminance of an image's pixels
// and how many distinct colors it has (counted up to 1000).
func pixelStats(img image.Image) (float64, int) {
	b := img.Bounds()
	var sum, sum2 float64
	seen := map[uint32]bool{}
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			l := 0.2126*float64(r>>8) + 0.7152*float64(g>>8) + 0.0722*float64(bl>>8)
			sum += l
			sum2 += l * l
			n++
			if len(seen) < 1000 {
				seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			}
		}
	}
	mean := sum / float64(n)
	return math.Max(0, sum2/float64(n)-mean*mean), len(seen)
}

// contrastScript returns, for every element with visible text of its own,
// the contrast ratio of its text color against its background (the first
// opaque background of it or its ancestors) where that is below WCAG AA:
// 4.5:1, or 3:1 for large text (24px, or bold 18.66px).
const contrastScript = `(() => {
	const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
	const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
	const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
	const background = (e) => { for (; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
	const bad = [];
	let checked = 0;
	for (const e of document.querySelectorAll('body *')) {
		const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()) || ((e.tagName === 'TEXTAREA' || e.tagName === 'INPUT') && e.value.trim());
		if (!own || e.closest('[hidden], .backdrop, .visually-hidden')) continue;
		const s = getComputedStyle(e);
		const r = e.getBoundingClientRect();
		if (s.visibility === 'hidden' || s.display === 'none' || r.width === 0 || r.height === 0) continue;
		const fg = parse(s.color);
		if (!fg || fg.a === 0) continue;
		checked++;
		const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
		const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
		const got = ratio(fg, background(e));
		if (got < need) bad.push(e.tagName + '#' + e.id + '.' + e.className + ' "' + (e.textContent || e.value).trim().slice(0, 30) + '": ' + got.toFixed(2) + ' < ' + need);
	}
	return {checked, bad};
})()`

func checkContrast(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	type result struct {
		Checked int      `json:"checked"`
		Bad     []string `json:"bad"`
	}
	res := js[result](t, ctx, contrastScript)
	if res.Checked < 20 {
		t.Errorf("%s: only %d text elements checked for contrast", where, res.Checked)
	}
	for _, b := range res.Bad {
		t.Errorf("%s: contrast below WCAG AA: %s", where, b)
	}
}

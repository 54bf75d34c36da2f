package web

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which scripts/chromium.sh installs.
const chromiumPath = "/usr/bin/chromium"

// chromium is one headless Chromium for a browser test.
type chromium struct {
	ctx       context.Context // the browser's: each step derives its own
	artifacts string          // where screenshots go
}

// needChromium skips the test in -short mode and, outside CI, when Chromium
// is missing; in CI a missing browser fails the test instead.
func needChromium(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is missing: run scripts/chromium.sh first", chromiumPath)
		}
		t.Skipf("%s not found: install it with scripts/chromium.sh (as root) to run the browser test", chromiumPath)
	}
}

// startChromium starts a browser that lives as long as the test, with
// screenshots going to $MINEWATCH_ARTIFACTS (or a temporary directory,
// logged).
func startChromium(t *testing.T) *chromium {
	t.Helper()
	artifacts := os.Getenv("MINEWATCH_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("browser screenshots in %s", artifacts)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	// The first Run starts the browser, which lives as long as that call's
	// context: no timeout there; each step gets its own.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &chromium{ctx: bctx, artifacts: artifacts}
}

// step is a context for one step of t: a wedged browser must fail the test,
// not hang CI.
func (c *chromium) step(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// shot writes a screenshot of the page as an artefact named name.jpg.
func (c *chromium) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(c.artifacts, name+".jpg"), buf, 0o644)
	})
}

// do runs steps, failing t on the first error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

package web

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/index/indextest"
	"github.com/minewatch/minewatch/news"
)

const chromiumPath = "/usr/bin/chromium"

// TestBrowser drives the real pages in headless Chromium over a real embedded
// index: search, filter by country, open an article, the events timeline, and
// a stored XSS attempt that must not run. Screenshots go to
// $MINEWATCH_ARTIFACTS (or a temporary directory, logged).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is missing: run scripts/chromium.sh first", chromiumPath)
		}
		t.Skipf("%s not found: install it with scripts/chromium.sh (as root) to run the browser test", chromiumPath)
	}
	ctx := t.Context()
	store, err := disk.Open(ctx, disk.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })

	var docs []news.Document
	for _, d := range indextest.Fixtures() {
		docs = append(docs, d)
	}
	evil := "https://evil.example/news/xss"
	xss := news.Document{Article: news.Article{
		ID: news.ArticleID(evil), SourceID: "evil", URL: evil, CanonicalURL: evil,
		Title:     `<script>window.__pwned=1</script>`,
		Text:      `<img src=x onerror="window.__pwned=1"> Poland and the Ottawa Convention: landmines again.`,
		Language:  "en",
		Published: time.Date(2025, 11, 30, 10, 0, 0, 0, time.UTC), FirstSeen: time.Date(2025, 11, 30, 10, 5, 0, 0, time.UTC),
	}}
	xss.StoryID = xss.ID
	xss.Classification = news.Classification{Relevant: true, Score: 2,
		Topics:   []news.TopicScore{{Topic: news.TopicTreatyWithdrawal, Score: 2}},
		Entities: []news.Entity{{Country: "PL", Action: news.ActionWithdrawVote, Treaty: news.TreatyOttawa, Evidence: `<img src=x onerror="window.__pwned=1">`}}}
	docs = append(docs, xss)
	if _, err := store.Put(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	pl := indextest.Fixtures()[indextest.KeyPoland]
	for _, ev := range []news.Event{
		{Key: news.EventKey("PL", news.ActionWithdrawVote, news.TreatyOttawa), Country: "PL", Action: news.ActionWithdrawVote,
			Treaty: news.TreatyOttawa, FirstSeen: pl.Published, FirstArticleID: pl.ID, FirstSourceID: pl.SourceID,
			Evidence: "Sejm uchwalił ustawę o wypowiedzeniu Konwencji ottawskiej.", Articles: 2},
		{Key: news.EventKey("PL", news.ActionWithdrawAnnounce, news.TreatyOttawa), Country: "PL", Action: news.ActionWithdrawAnnounce,
			Treaty: news.TreatyOttawa, FirstSeen: pl.Published.AddDate(0, -3, 0), FirstArticleID: pl.ID, Evidence: `<script>window.__pwned=1</script>`, Articles: 1},
	} {
		if _, err := store.RecordEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := New(Options{Searcher: store, Events: store, Saved: store,
		Now: func() time.Time { return time.Date(2025, 12, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	artifacts := os.Getenv("MINEWATCH_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("browser screenshots in %s", artifacts)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
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
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	// The first Run starts the browser, which lives as long as that call's
	// context: no timeout there; each step below gets its own.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step := func(t *testing.T) context.Context {
		// A wedged browser must fail the test, not hang CI.
		ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		t.Cleanup(cancel)
		return ctx
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(artifacts, name+".jpg"), buf, 0o644)
		})
	}
	do := func(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(t *testing.T, ctx context.Context, css string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
		if err != nil {
			t.Fatalf("text of %s: %v", css, err)
		}
		return s
	}
	evalInt := func(t *testing.T, ctx context.Context, js string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return n
	}
	pwned := func(t *testing.T, ctx context.Context) {
		t.Helper()
		kind, err := chromedp.Run(ctx, chromedp.Evaluate[string](`typeof window.__pwned`))
		if err != nil {
			t.Fatal(err)
		}
		if kind != "undefined" {
			t.Fatalf("window.__pwned is %s: injected script ran", kind)
		}
	}

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"search", func(t *testing.T) {
			ctx := step(t)
			do(t, ctx,
				chromedp.Navigate(hs.URL+"/"),
				chromedp.WaitVisible(chromedp.ID("q")),
				chromedp.SendKeys(chromedp.ID("q"), "ottawa OR konwencji"),
				chromedp.Submit(chromedp.ID("q")),
				chromedp.WaitVisible(chromedp.ID("results-h")),
				shot("1-search"),
			)
			if count := text(t, ctx, "#results-h"); !strings.Contains(count, "article") || strings.HasPrefix(count, "0 ") {
				t.Errorf("result count %q", count)
			}
			pwned(t, ctx)
		}},
		{"filter by country", func(t *testing.T) {
			ctx := step(t)
			do(t, ctx,
				chromedp.Click(chromedp.CSS(`nav.facets a[href*="country=PL"]`)),
				chromedp.WaitVisible(chromedp.CSS(`nav.facets a.on`)),
				shot("2-filter-country"),
			)
			url, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(url, "country=PL") {
				t.Errorf("URL %s lacks the filter", url)
			}
			pwned(t, ctx)
		}},
		{"open the malicious article", func(t *testing.T) {
			ctx := step(t)
			do(t, ctx,
				chromedp.Navigate(hs.URL+"/articles/"+xss.ID),
				chromedp.WaitVisible(chromedp.CSS("h1")),
				shot("3-article-xss"),
			)
			if h1 := text(t, ctx, "h1"); h1 != xss.Title {
				t.Errorf("title shown as %q, want the literal text %q", h1, xss.Title)
			}
			if n := evalInt(t, ctx, `document.querySelectorAll("main img, main script").length`); n != 0 {
				t.Errorf("%d img/script elements were created from article text", n)
			}
			pwned(t, ctx)
		}},
		{"open an article from the results", func(t *testing.T) {
			ctx := step(t)
			do(t, ctx,
				chromedp.Navigate(hs.URL+"/?country=PL&relevant=0"),
				chromedp.Click(chromedp.CSS(`ol.hits h3 a`)),
				chromedp.WaitVisible(chromedp.ID("text-h")),
				shot("4-article"),
			)
			if h1 := text(t, ctx, "h1"); h1 == "" {
				t.Error("article has no heading")
			}
			pwned(t, ctx)
		}},
		{"events timeline", func(t *testing.T) {
			ctx := step(t)
			do(t, ctx,
				chromedp.Navigate(hs.URL+"/events"),
				chromedp.WaitVisible(chromedp.CSS(`svg.map`)),
				shot("5-events"),
				chromedp.Click(chromedp.CSS(`table.states a[href="/events/PL"]`)),
				chromedp.WaitVisible(chromedp.CSS(`ol.timeline`)),
				shot("6-timeline-PL"),
			)
			if n := evalInt(t, ctx, `document.querySelectorAll("ol.timeline > li").length`); n != 2 {
				t.Errorf("%d timeline steps, want 2", n)
			}
			if stages := text(t, ctx, "ol.stages"); !strings.Contains(stages, "20 Aug 2025") {
				t.Errorf("stage track lacks the notification date: %q", stages)
			}
			pwned(t, ctx)
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return // later steps depend on the page state
		}
	}
}

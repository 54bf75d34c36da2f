package web

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/index/indextest"
	"github.com/minewatch/minewatch/news"
)

// xssPayload is every way we know of for text to become markup: a script
// element, event handlers on an image and an SVG after breaking out of an
// attribute, a javascript: link and a plain link.
const xssPayload = `<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> "><svg onload=window.__pwned=3> ` +
	`<a href="javascript:window.__pwned=4">click me</a> <a href="https://phish.example/login">log in</a>`

// hostileSources lists sources whose names and errors come from the web.
type hostileSources []SourceStatus

func (h hostileSources) SourceStatuses(context.Context) ([]SourceStatus, error) { return h, nil }

// TestBrowser drives the real pages in headless Chromium over a real embedded
// index: search, filter by country, open an article, the events timeline, and
// a stored XSS attempt that must not run. Screenshots go to
// $MINEWATCH_ARTIFACTS (or a temporary directory, logged).
func TestBrowser(t *testing.T) {
	needChromium(t)
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
	// The stored XSS attempt: every field that comes from the web carries
	// every payload, and the classifier's spans cut through them, so the
	// highlighter has to split markup-looking text into runs.
	evil := "https://evil.example/news/xss"
	xss := news.Document{Article: news.Article{
		ID: news.ArticleID(evil), SourceID: "evil", URL: evil, CanonicalURL: "javascript:window.__pwned=5",
		Title:     "Ottawa " + xssPayload,
		Text:      "Poland and the Ottawa Convention: landmines again. " + xssPayload + " The Sejm voted.",
		Summary:   xssPayload,
		SiteName:  "Evil Daily " + xssPayload,
		Language:  "en",
		Published: time.Date(2025, 11, 30, 10, 0, 0, 0, time.UTC), FirstSeen: time.Date(2025, 11, 30, 10, 5, 0, 0, time.UTC),
	}}
	xss.StoryID = xss.ID
	evStart := strings.Index(xss.Text, xssPayload)
	xss.Classification = news.Classification{Relevant: true, Score: 2,
		Topics: []news.TopicScore{{Topic: news.TopicTreatyWithdrawal, Score: 2, Matches: []news.RuleMatch{{RuleID: "ottawa", Weight: 2, Hits: []news.TermHit{
			{Term: "ottawa", Span: news.Span{Field: news.FieldTitle, Start: 0, End: len("Ottawa")}},
			// Spans from a confused classifier, starting and ending inside tags.
			{Term: "script", Span: news.Span{Field: news.FieldTitle, Start: len("Ottawa <"), End: len("Ottawa <script>window")}},
			{Term: "onerror", Span: news.Span{Field: news.FieldText, Start: evStart + strings.Index(xssPayload, "onerror"), End: evStart + strings.Index(xssPayload, "svg") + 3}},
			{Term: "ottawa", Span: news.Span{Field: news.FieldText, Start: strings.Index(xss.Text, "Ottawa"), End: strings.Index(xss.Text, "Ottawa") + len("Ottawa")}},
		}}}}},
		Entities: []news.Entity{{Country: "PL", CountryName: "Poland " + xssPayload, Action: news.ActionWithdrawVote, Treaty: news.TreatyOttawa,
			Evidence: xssPayload, EvidenceAt: news.Span{Field: news.FieldText, Start: evStart, End: evStart + len(xssPayload)}}}}
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
			Treaty: news.TreatyOttawa, FirstSeen: pl.Published.AddDate(0, -3, 0), FirstArticleID: xss.ID, FirstSourceID: "evil " + xssPayload, Evidence: xssPayload, Articles: 1},
	} {
		if _, err := store.RecordEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SaveSearch(ctx, index.SavedSearch{ID: "evil", Name: "Saved " + xssPayload,
		Query: index.Query{Text: "ottawa"}, Created: time.Date(2025, 11, 30, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	sources := hostileSources{{
		Source: news.Source{ID: "evil", Name: "Evil Daily " + xssPayload, Kind: news.KindFeed, URL: "javascript:window.__pwned=6"},
		State: news.SourceState{LastError: "parse feed: " + xssPayload, LastErrorClass: "parse", ConsecutiveFailures: 2,
			LastAttempt: time.Date(2025, 11, 30, 9, 0, 0, 0, time.UTC)},
	}}
	srv, err := New(Options{Searcher: store, Events: store, Saved: store, Sources: sources,
		Now: func() time.Time { return time.Date(2025, 12, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	browser := startChromium(t)
	bctx := browser.ctx
	// The server's Content-Security-Policy would stop injected scripts and
	// handlers from running even if text did become markup. This test is
	// about escaping, so the browser ignores the CSP: window.__pwned is then
	// a real check, not one the CSP passes for us (server_test.go checks the
	// header itself).
	if _, err := chromedp.Call(bctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatalf("bypass CSP: %v", err)
	}
	step := browser.step
	shot := browser.shot
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

	// clean asserts, in the page as the browser built it, that nothing from
	// the payloads ran or became an element or attribute, and that the
	// payload text is on the page as text when want says it should be.
	clean := func(t *testing.T, ctx context.Context, want ...string) {
		t.Helper()
		pwned(t, ctx)
		for _, c := range []struct{ what, js string }{
			{"img elements", `document.querySelectorAll("img").length`},
			{"svg elements from text (ours all have a viewBox)", `document.querySelectorAll("svg:not([viewBox])").length`},
			{"script elements mentioning __pwned", `Array.from(document.scripts).filter(s => s.textContent.includes("__pwned")).length`},
			{"event-handler attributes", `Array.from(document.querySelectorAll("*")).filter(e => Array.from(e.attributes).some(a => a.name.toLowerCase().startsWith("on"))).length`},
			{"javascript: links", `Array.from(document.querySelectorAll("[href],[src],[action]")).filter(e => /^\s*javascript:/i.test(e.getAttribute("href") || e.getAttribute("src") || e.getAttribute("action"))).length`},
			{"links from the payload", `document.querySelectorAll('a[href*="phish.example"]').length`},
		} {
			if n := evalInt(t, ctx, c.js); n != 0 {
				t.Errorf("%d %s on the page", n, c.what)
			}
		}
		body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("the page does not show %q as text", w)
			}
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
			// The title and the source name of the hit, and the saved
			// search's name in the list.
			clean(t, ctx, "Ottawa "+xssPayload, "Evil Daily "+xssPayload, "Saved "+xssPayload)
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
			// Highlighted terms and the evidence sentence are marks around
			// text, never around markup.
			if n := evalInt(t, ctx, `document.querySelectorAll("mark.term").length`); n == 0 {
				t.Error("no highlighted terms: the spans through the payload were not rendered")
			}
			if n := evalInt(t, ctx, `Array.from(document.querySelectorAll("mark")).filter(m => m.children.length > 0).length`); n != 0 {
				t.Errorf("%d highlight marks contain elements", n)
			}
			clean(t, ctx, "Poland and the Ottawa Convention: landmines again. "+xssPayload, "Evil Daily "+xssPayload)
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
			clean(t, ctx, xssPayload)
		}},
		{"sources page", func(t *testing.T) {
			ctx := step(t)
			do(t, ctx,
				chromedp.Navigate(hs.URL+"/sources"),
				chromedp.WaitVisible(chromedp.CSS("main.sources table")),
				shot("7-sources-xss"),
			)
			clean(t, ctx, "Evil Daily "+xssPayload, "parse feed: "+xssPayload)
		}},
		{"saved search", func(t *testing.T) {
			ctx := step(t)
			do(t, ctx,
				chromedp.Navigate(hs.URL+"/saved/evil"),
				chromedp.WaitVisible(chromedp.ID("results-h")),
				shot("8-saved-xss"),
			)
			url, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(url, "q=ottawa") {
				t.Errorf("saved search led to %s, want its query", url)
			}
			clean(t, ctx, "Ottawa "+xssPayload, "Saved "+xssPayload)
		}},
		{"the checks see a real injection", func(t *testing.T) {
			// A control: the same payload parsed as HTML must run and be
			// seen, or the passing steps above would prove nothing.
			ctx := step(t)
			inject := `document.body.insertAdjacentHTML("beforeend", ` + strconv.Quote(xssPayload) + `)`
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](inject)); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.__pwned !== undefined`)); err != nil {
				t.Fatalf("the injected handlers never ran: %v", err)
			}
			if n := evalInt(t, ctx, `document.querySelectorAll('img, svg:not([viewBox]), a[href*="phish.example"]').length`); n != 3 {
				t.Errorf("the checks found %d of the 3 injected elements", n)
			}
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return // later steps depend on the page state
		}
	}
}

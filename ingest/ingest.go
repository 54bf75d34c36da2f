// Package ingest reads one source (feed, search feed, listing page or sitemap)
// and turns what is new there into news.Article values, fetching pages as needed.
package ingest

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/ingest/canon"
	"github.com/minewatch/minewatch/ingest/charset"
	"github.com/minewatch/minewatch/ingest/extract"
	"github.com/minewatch/minewatch/ingest/feed"
	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/redact"
)

// Defaults for the zero values of Options.
const (
	DefaultPageWorkers = 4
	DefaultMaxNewItems = 100

	// maxSitemapChildren is how many sitemaps of a sitemap index are read:
	// the most recently modified ones, where new articles are.
	maxSitemapChildren = 5
	// maxSitemapBytes is the sitemap protocol's own size limit, for bodies
	// served gzip-compressed as files (not as a Content-Encoding).
	maxSitemapBytes = 50 << 20
)

const (
	acceptFeed    = "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
	acceptHTML    = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
	acceptSitemap = "application/xml, text/xml;q=0.9, */*;q=0.8"
)

// ErrUnknownKind is returned for a source whose Kind ingest cannot read.
var ErrUnknownKind = errors.New("ingest: unknown source kind")

// Options configure an Ingester. Zero values mean the defaults.
type Options struct {
	// Fetcher does all HTTP; share the process's one so per-host limits hold
	// across sources. nil builds one with default options.
	Fetcher     *fetch.Fetcher
	Logger      *slog.Logger
	PageWorkers int // pages fetched at once for one source; default 4
	MaxNewItems int // new articles taken from one fetch of a source; default 100
}

// Ingester collects sources. It is safe for concurrent use.
type Ingester struct {
	fetcher    *fetch.Fetcher
	fetcherErr error
	log        *slog.Logger
	workers    int
	maxNew     int
	now        func() time.Time
}

// New builds an Ingester.
func New(opts Options) *Ingester {
	in := &Ingester{
		fetcher: opts.Fetcher,
		log:     opts.Logger,
		workers: opts.PageWorkers,
		maxNew:  opts.MaxNewItems,
		now:     time.Now,
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if in.workers <= 0 {
		in.workers = DefaultPageWorkers
	}
	if in.maxNew <= 0 {
		in.maxNew = DefaultMaxNewItems
	}
	if in.fetcher == nil {
		in.fetcher, in.fetcherErr = fetch.New(fetch.Options{Logger: in.log})
	}
	return in
}

// Result is what one collection of a source produced.
type Result struct {
	NotModified bool
	URL         string          // permanent-redirect target to store, or ""
	Validators  news.Validators // to send on the next fetch
	Items       int             // items the source listed
	Articles    []news.Article  // new ones, fully built (ID = news.ArticleID(CanonicalURL), FirstSeen = now)
	ItemErrors  []error         // per-item failures (page fetch/extract); not fatal for the source
	NotBefore   time.Time       // earliest next check: max(now+ttl, max-age, Expires, Retry-After); zero when none
	// Hub is the WebSub hub the feed advertises (<link rel="hub">), and Topic
	// the feed URL to subscribe to there; both "" when none.
	Hub, Topic string
}

// parseError marks a body that was fetched but could not be read as the
// source's kind; fetch.Class reports it as "parse".
type parseError struct{ err error }

func (e *parseError) Error() string      { return e.err.Error() }
func (e *parseError) Unwrap() error      { return e.err }
func (e *parseError) ErrorClass() string { return "parse" }

var _ fetch.Classifier = (*parseError)(nil)

// candidate is one article a source lists, with what the listing says of it.
type candidate struct {
	url           string // canonicalised
	title         string
	summary       string
	content       string // HTML, from a feed
	language      string
	authors       []string
	published     time.Time
	publishedFrom string
	siteName      string
}

// Collect fetches one source with the validators in st and returns what is
// new. known reports which URLs are already stored, so known articles are not
// re-fetched; nil means none are. The source's URL is st.URL when set (a
// permanent redirect moved it), else src.URL. An error means the source as a
// whole failed; a failed item only adds to Result.ItemErrors.
func (in *Ingester) Collect(ctx context.Context, src news.Source, st news.SourceState, known index.URLChecker) (Result, error) {
	res, err := in.collect(ctx, src, st, known)
	// The error quotes the source's URL, which may carry its API key; the
	// monitor logs it and keeps it as the source's last error.
	return res, redact.Error(err)
}

func (in *Ingester) collect(ctx context.Context, src news.Source, st news.SourceState, known index.URLChecker) (Result, error) {
	if in.fetcherErr != nil {
		return Result{}, fmt.Errorf("collect %s: %w", src.ID, in.fetcherErr)
	}
	now := in.now()
	srcURL := src.URL
	if st.URL != "" {
		srcURL = st.URL
	}
	accept := acceptFeed
	switch src.Kind {
	case news.KindFeed, news.KindQuery:
	case news.KindListing:
		accept = acceptHTML
	case news.KindSitemap:
		accept = acceptSitemap
	default:
		return Result{}, fmt.Errorf("collect %s: %w %q", src.ID, ErrUnknownKind, src.Kind)
	}

	resp, err := in.fetcher.Fetch(ctx, fetch.Request{URL: srcURL, Validators: st.Validators, Accept: accept})
	if err != nil {
		var res Result
		if se, ok := errors.AsType[*fetch.StatusError](err); ok && se.RetryAfter > 0 {
			res.NotBefore = now.Add(se.RetryAfter)
		}
		return res, fmt.Errorf("collect %s: %w", src.ID, err)
	}
	res := Result{URL: resp.PermanentURL, Validators: resp.Validators}
	if resp.NotModified {
		res.NotModified = true
		res.NotBefore = notBefore(now, 0, resp)
		return res, nil
	}

	return in.process(ctx, src, resp, known, res, now)
}

// CollectPushed reads a feed body that a WebSub hub pushed for src, as if
// the feed had just been fetched: new items become articles, pages fetched as
// usual. Validators and schedule are untouched; polling goes on as before.
func (in *Ingester) CollectPushed(ctx context.Context, src news.Source, body []byte, contentType string, known index.URLChecker) (Result, error) {
	if src.Kind != news.KindFeed && src.Kind != news.KindQuery {
		return Result{}, fmt.Errorf("push for %s: %w %q (only feeds are pushed)", src.ID, ErrUnknownKind, src.Kind)
	}
	resp := &fetch.Response{URL: src.URL, Status: 200, Body: body, ContentType: contentType}
	res, err := in.process(ctx, src, resp, known, Result{}, in.now())
	return res, redact.Error(err)
}

// process turns a fetched (or pushed) body into new articles.
func (in *Ingester) process(ctx context.Context, src news.Source, resp *fetch.Response, known index.URLChecker, res Result, now time.Time) (Result, error) {
	var (
		cands    []candidate
		ttl      time.Duration
		itemErrs []error
		err      error
	)
	switch src.Kind {
	case news.KindFeed, news.KindQuery:
		var meta feedMeta
		cands, meta, itemErrs, err = in.fromFeed(src, resp)
		ttl, res.Hub = meta.ttl, meta.hub
		res.Items += meta.dropped
		if res.Hub != "" {
			res.Topic = resp.URL
		}
	case news.KindListing:
		cands, itemErrs, err = in.fromListing(src, resp)
	case news.KindSitemap:
		cands, itemErrs, err = in.fromSitemap(ctx, resp)
	}
	if err != nil {
		return Result{}, fmt.Errorf("collect %s: %w", src.ID, err)
	}
	res.NotBefore = notBefore(now, ttl, resp)
	res.ItemErrors = itemErrs
	// Items the source listed: those kept plus those that failed to map.
	res.Items += len(cands) + countItems(itemErrs)

	fresh, err := in.unknown(ctx, cands, known)
	if err != nil {
		return Result{}, fmt.Errorf("collect %s: %w", src.ID, err)
	}
	if len(fresh) > in.maxNew {
		in.log.Warn("more new items than MaxNewItems; the rest are skipped",
			"source", src.ID, "new", len(fresh), "max", in.maxNew)
		fresh = fresh[:in.maxNew]
	}

	needPages := src.Kind == news.KindListing || src.Kind == news.KindSitemap || src.FetchPages
	pages := make([]*fetchedPage, len(fresh))
	pageErrs := make([]error, len(fresh))
	if needPages && len(fresh) > 0 {
		g := new(errgroup.Group)
		g.SetLimit(in.workers)
		for i, c := range fresh {
			if ctx.Err() != nil {
				break
			}
			g.Go(func() error {
				pages[i], pageErrs[i] = in.page(ctx, src, c.url)
				return nil // a page failure is the item's, never the source's
			})
		}
		_ = g.Wait()
		if err := ctx.Err(); err != nil {
			return Result{}, fmt.Errorf("collect %s: %w", src.ID, err)
		}
	}
	for i, c := range fresh {
		if pageErrs[i] != nil {
			res.ItemErrors = append(res.ItemErrors, pageErrs[i])
		}
		a, ok := in.article(src, c, pages[i], now)
		if !ok {
			if pageErrs[i] == nil {
				res.ItemErrors = append(res.ItemErrors, fmt.Errorf("item %s: no title or text", c.url))
			}
			continue
		}
		res.Articles = append(res.Articles, a)
	}
	in.log.Debug("collected", "source", src.ID, "url", redact.URL(resp.URL), "items", res.Items,
		"new", len(res.Articles), "item_errors", len(res.ItemErrors))
	// Item errors quote the feed's and the pages' URLs, which may carry an
	// API key; the monitor logs them.
	for i, e := range res.ItemErrors {
		res.ItemErrors[i] = redact.Error(e)
	}
	return res, nil
}

// itemError is a listed item that could not become a candidate (no link,
// bad URL), as opposed to a failed child sitemap.
type itemError struct{ err error }

func (e *itemError) Error() string { return e.err.Error() }
func (e *itemError) Unwrap() error { return e.err }

func countItems(errs []error) int {
	n := 0
	for _, err := range errs {
		if _, ok := err.(*itemError); ok {
			n++
		}
	}
	return n
}

// notBefore is the earliest time the source should be fetched again, as the
// server and the feed asked; zero when they asked nothing.
func notBefore(now time.Time, ttl time.Duration, resp *fetch.Response) time.Time {
	var t time.Time
	later := func(c time.Time) {
		if c.After(t) {
			t = c
		}
	}
	if ttl > 0 {
		later(now.Add(ttl))
	}
	if resp.MaxAge > 0 {
		later(now.Add(resp.MaxAge))
	}
	if resp.Expires.After(now) {
		later(resp.Expires)
	}
	if resp.RetryAfter > 0 {
		later(now.Add(resp.RetryAfter))
	}
	return t
}

// unknown drops the candidates the index already has, and duplicates.
func (in *Ingester) unknown(ctx context.Context, cands []candidate, known index.URLChecker) ([]candidate, error) {
	seen := make(map[string]bool, len(cands))
	urls := make([]string, 0, len(cands))
	uniq := cands[:0:0]
	for _, c := range cands {
		if seen[c.url] {
			continue
		}
		seen[c.url] = true
		urls = append(urls, c.url)
		uniq = append(uniq, c)
	}
	if known == nil || len(urls) == 0 {
		return uniq, nil
	}
	have, err := known.KnownURLs(ctx, urls)
	if err != nil {
		return nil, fmt.Errorf("check known URLs: %w", err)
	}
	out := uniq[:0]
	for _, c := range uniq {
		if !have[c.url] {
			out = append(out, c)
		}
	}
	return out, nil
}

// feedMeta is what a feed says about itself rather than its items.
type feedMeta struct {
	ttl     time.Duration
	hub     string
	dropped int // items past feed.MaxItems
}

func (in *Ingester) fromFeed(src news.Source, resp *fetch.Response) ([]candidate, feedMeta, []error, error) {
	body, _, err := charset.ToUTF8(resp.Body, resp.ContentType)
	if err != nil {
		return nil, feedMeta{}, nil, &parseError{fmt.Errorf("decode %s: %w", resp.URL, err)}
	}
	f, err := feed.Parse(body, resp.URL)
	if err != nil {
		return nil, feedMeta{}, nil, &parseError{err}
	}
	if f.Dropped > 0 {
		in.log.Warn("feed lists more items than are read; the rest are ignored",
			"source", src.ID, "url", resp.URL, "items", len(f.Items)+f.Dropped, "read", len(f.Items))
	}
	var cands []candidate
	var errs []error
	for _, it := range f.Items {
		if it.URL == "" {
			errs = append(errs, &itemError{fmt.Errorf("item %q (guid %q) has no link", it.Title, it.GUID)})
			continue
		}
		u, err := canon.Clean(it.URL)
		if err != nil {
			errs = append(errs, &itemError{fmt.Errorf("item %q: %w", it.Title, err)})
			continue
		}
		c := candidate{
			url:       u,
			title:     it.Title,
			summary:   it.Summary,
			content:   it.Content,
			language:  it.Language,
			authors:   it.Authors,
			published: it.Published,
		}
		if !it.Published.IsZero() {
			c.publishedFrom = "feed"
		}
		if src.Kind == news.KindFeed {
			// A search feed's title names the search engine, not the outlet.
			c.siteName = f.Title
		}
		cands = append(cands, c)
	}
	return cands, feedMeta{ttl: f.TTL, hub: f.Hub, dropped: f.Dropped}, errs, nil
}

func (in *Ingester) fromListing(src news.Source, resp *fetch.Response) ([]candidate, []error, error) {
	body, _, err := charset.ToUTF8(resp.Body, resp.ContentType)
	if err != nil {
		return nil, nil, &parseError{fmt.Errorf("decode %s: %w", resp.URL, err)}
	}
	links, err := extract.Links(body, resp.URL, src.Selectors.Links)
	if err != nil {
		return nil, nil, &parseError{fmt.Errorf("listing %s: %w", resp.URL, err)}
	}
	var cands []candidate
	var errs []error
	for _, l := range links {
		u, err := canon.Clean(l)
		if err != nil {
			errs = append(errs, &itemError{fmt.Errorf("listing link: %w", err)})
			continue
		}
		cands = append(cands, candidate{url: u})
	}
	return cands, errs, nil
}

func (in *Ingester) fromSitemap(ctx context.Context, resp *fetch.Response) ([]candidate, []error, error) {
	entries, isIndex, err := parseSitemap(resp)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	if isIndex {
		children := newestFirst(entries)
		if len(children) > maxSitemapChildren {
			children = children[:maxSitemapChildren]
		}
		var mu sync.Mutex
		var all []extract.SitemapURL
		g := new(errgroup.Group)
		g.SetLimit(in.workers)
		for _, ch := range children {
			g.Go(func() error {
				urls, err := in.childSitemap(ctx, ch.Loc)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return nil
				}
				all = append(all, urls...)
				return nil
			})
		}
		_ = g.Wait()
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if len(children) > 0 && len(errs) == len(children) {
			return nil, nil, fmt.Errorf("sitemap index %s: every child failed: %w", resp.URL, errors.Join(errs...))
		}
		entries = all
	}
	var cands []candidate
	for _, e := range newestFirst(entries) {
		u, err := canon.Clean(e.Loc)
		if err != nil {
			errs = append(errs, &itemError{fmt.Errorf("sitemap entry: %w", err)})
			continue
		}
		c := candidate{url: u, title: e.Title, language: e.Language, published: e.Published.UTC()}
		if !e.Published.IsZero() {
			c.publishedFrom = "sitemap"
		}
		cands = append(cands, c)
	}
	return cands, errs, nil
}

func (in *Ingester) childSitemap(ctx context.Context, loc string) ([]extract.SitemapURL, error) {
	resp, err := in.fetcher.Fetch(ctx, fetch.Request{URL: loc, Accept: acceptSitemap})
	if err != nil {
		return nil, fmt.Errorf("child sitemap: %w", err)
	}
	urls, isIndex, err := parseSitemap(resp)
	if err != nil {
		return nil, err
	}
	if isIndex {
		return nil, fmt.Errorf("child sitemap %s is itself an index; only one level is read", resp.URL)
	}
	return urls, nil
}

// parseSitemap reads a sitemap body, gunzipping sitemap.xml.gz files, which
// servers send as gzip content rather than with a Content-Encoding.
func parseSitemap(resp *fetch.Response) ([]extract.SitemapURL, bool, error) {
	body := resp.Body
	if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, false, &parseError{fmt.Errorf("sitemap %s: gzip: %w", resp.URL, err)}
		}
		body, err = io.ReadAll(io.LimitReader(zr, maxSitemapBytes+1))
		if err != nil {
			return nil, false, &parseError{fmt.Errorf("sitemap %s: gzip: %w", resp.URL, err)}
		}
		if len(body) > maxSitemapBytes {
			return nil, false, fmt.Errorf("sitemap %s: %w: over the protocol's %d bytes", resp.URL, fetch.ErrTooLarge, maxSitemapBytes)
		}
	}
	body, _, err := charset.ToUTF8(body, resp.ContentType)
	if err != nil {
		return nil, false, &parseError{fmt.Errorf("sitemap %s: %w", resp.URL, err)}
	}
	urls, isIndex, err := extract.Sitemap(body)
	if err != nil {
		return nil, false, &parseError{fmt.Errorf("sitemap %s: %w", resp.URL, err)}
	}
	return urls, isIndex, nil
}

// newestFirst orders sitemap entries by date, newest first. Undated entries
// go last, in reverse document order, since sitemaps tend to append.
func newestFirst(entries []extract.SitemapURL) []extract.SitemapURL {
	out := slices.Clone(entries)
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b extract.SitemapURL) int {
		switch {
		case a.Published.IsZero() && b.Published.IsZero():
			return 0
		case a.Published.IsZero():
			return 1
		case b.Published.IsZero():
			return -1
		}
		return b.Published.Compare(a.Published)
	})
	return out
}

// fetchedPage is an article page as extracted, with the URL it came from.
type fetchedPage struct {
	*extract.Page
	finalURL string
}

func (in *Ingester) page(ctx context.Context, src news.Source, pageURL string) (*fetchedPage, error) {
	resp, err := in.fetcher.Fetch(ctx, fetch.Request{URL: pageURL, Accept: acceptHTML})
	if err != nil {
		return nil, fmt.Errorf("item page: %w", err)
	}
	if mt, _, err := mime.ParseMediaType(resp.ContentType); err == nil && !isHTMLType(mt) {
		return nil, fmt.Errorf("item page %s: not an HTML page (%s)", resp.URL, mt)
	}
	body, _, err := charset.ToUTF8(resp.Body, resp.ContentType)
	if err != nil {
		return nil, fmt.Errorf("item page %s: %w", resp.URL, err)
	}
	p, err := extract.Extract(body, resp.URL, extract.Options{Selectors: src.Selectors, Language: src.Language})
	if err != nil {
		return nil, fmt.Errorf("item page %s: %w", resp.URL, err)
	}
	return &fetchedPage{Page: p, finalURL: resp.URL}, nil
}

func isHTMLType(mt string) bool {
	switch mt {
	case "text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml":
		return true
	}
	return false
}

// article builds the article for a candidate from its page, falling back to
// what the listing said. ok is false when neither gave a title or a text.
func (in *Ingester) article(src news.Source, c candidate, p *fetchedPage, now time.Time) (news.Article, bool) {
	a := news.Article{
		SourceID:      src.ID,
		URL:           c.url,
		CanonicalURL:  c.url,
		Title:         c.title,
		Summary:       c.summary,
		Text:          htmlText(c.content),
		Language:      c.language,
		Authors:       c.authors,
		SiteName:      c.siteName,
		Published:     c.published,
		PublishedFrom: c.publishedFrom,
		FirstSeen:     now.UTC(),
	}
	var pageLang string
	if p != nil {
		if cu := canonicalFromPage(c.url, p); cu != "" {
			a.CanonicalURL = cu
		}
		// A feed's or news sitemap's own title is what the editors wrote for
		// the item, while a page title is a guess among <title>, og:title and
		// <h1>. The page wins when the analyst configured a title selector,
		// and for search feeds, whose titles carry " - Outlet" suffixes.
		pageTitle := strings.TrimSpace(p.Title)
		if src.Selectors.Title != "" || src.Kind == news.KindQuery {
			a.Title = cmp.Or(pageTitle, a.Title)
		} else {
			a.Title = cmp.Or(a.Title, pageTitle)
		}
		a.Text = cmp.Or(strings.TrimSpace(p.Text), a.Text)
		a.SiteName = cmp.Or(p.SiteName, a.SiteName)
		if len(p.Authors) > 0 {
			a.Authors = p.Authors
		}
		if a.Published.IsZero() && !p.Published.IsZero() {
			a.Published, a.PublishedFrom = p.Published.UTC(), p.PublishedFrom
		}
		pageLang = p.Language
	}
	if a.Text == "" {
		a.Text = a.Summary
	}
	if a.Title == "" && a.Text == "" {
		return news.Article{}, false
	}
	a.Language = cmp.Or(normLang(src.Language), normLang(a.Language), normLang(pageLang))
	if a.Language == "" {
		a.Language = normLang(extract.DetectLanguage(a.Title + "\n\n" + a.Text))
	}
	if clipFields(&a) {
		in.log.Info("item text over the per-item cap was cut", "source", src.ID, "url", redact.URL(c.url),
			"title_max", maxTitleBytes, "summary_max", maxSummaryBytes, "text_max", maxTextBytes)
	}
	a.ID = news.ArticleID(a.CanonicalURL)
	return a, true
}

// canonicalFromPage returns the page's declared canonical URL when it can be
// trusted: on the item's own host (ignoring "www."), and not the site's home
// page, which many CMSs declare on every article by mistake. Another host
// could merge unrelated articles into one id; so could a consent or paywall
// page the fetch was redirected to.
func canonicalFromPage(itemURL string, p *fetchedPage) string {
	if p.CanonicalURL == "" {
		return ""
	}
	ref := p.CanonicalURL
	if base, err := url.Parse(p.finalURL); err == nil {
		if r, err := base.Parse(ref); err == nil {
			ref = r.String()
		}
	}
	cu, err := canon.Clean(ref)
	if err != nil {
		return ""
	}
	c, err1 := url.Parse(cu)
	it, err2 := url.Parse(itemURL)
	if err1 != nil || err2 != nil {
		return ""
	}
	if siteHost(c.Hostname()) != siteHost(it.Hostname()) {
		return ""
	}
	if (c.Path == "" || c.Path == "/") && c.RawQuery == "" && it.Path != "" && it.Path != "/" {
		return ""
	}
	return cu
}

func siteHost(h string) string {
	return strings.TrimPrefix(strings.ToLower(h), "www.")
}

// Package extract reads HTML article pages (main text, title, date, language,
// canonical URL, authors), listing pages (article links) and sitemaps.
package extract

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	trafilatura "github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"

	"github.com/minewatch/minewatch/ingest/canon"
	"github.com/minewatch/minewatch/news"
)

var (
	// ErrEmptyPage is returned for a page with no bytes.
	ErrEmptyPage = errors.New("empty page")
	// ErrBadSelector is returned when a configured CSS selector does not parse.
	ErrBadSelector = errors.New("invalid CSS selector")
)

// Page is what Extract found in an article page.
type Page struct {
	URL          string // the page URL as given
	CanonicalURL string // canon.Clean of rel=canonical, og:url or the page URL
	Title        string
	Text         string // main text, paragraphs separated by "\n\n"; "" when none was found
	Language     string // ISO 639-1; "" when unknown
	SiteName     string
	Authors      []string
	Published    time.Time // UTC; zero when unknown
	// PublishedFrom says where Published came from: "jsonld", "meta", "time",
	// "url", "htmldate", or "selector" when Options.Selectors.Date found it.
	PublishedFrom string
}

// Options tune Extract for one source.
type Options struct {
	// Selectors override the generic title, body and date extraction when set.
	// A selector that does not parse or matches nothing is ignored, so a
	// site redesign degrades to generic extraction; check configured
	// selectors with ValidateSelectors when loading the configuration.
	Selectors news.Selectors
	// Language is the source's language, used when the page declares none.
	Language string
}

// maxTrafilaturaBytes bounds the markup (after scripts and styles are dropped)
// given to go-trafilatura, whose cost grows faster than linearly with the
// number of paragraphs (about 2 s for 1 MB of dense text). Larger pages get
// the linear simpleText instead, so a 10 MB page finishes in a few seconds.
const maxTrafilaturaBytes = 1 << 20

// Extract reads an article page. page must be UTF-8 (the caller converts it).
// pageURL resolves relative links and may be "" when unknown. A page whose
// main text cannot be found is not an error: its Text is "", so the caller can
// keep the feed's summary.
func Extract(page []byte, pageURL string, opts Options) (*Page, error) {
	return extractAt(page, pageURL, opts, time.Now())
}

func extractAt(page []byte, pageURL string, opts Options, now time.Time) (*Page, error) {
	if len(bytes.TrimSpace(page)) == 0 {
		return nil, fmt.Errorf("extract %s: %w", pageURL, ErrEmptyPage)
	}
	clean := sanitize(page)
	doc, err := html.Parse(bytes.NewReader(clean))
	if err != nil {
		return nil, fmt.Errorf("extract %s: parse HTML: %w", pageURL, err)
	}
	base, _ := url.Parse(strings.TrimSpace(pageURL))
	if base != nil && !base.IsAbs() {
		base = nil
	}

	m := collectMeta(doc)
	ld := parseJSONLD(m.jsonLD)
	if base != nil && m.baseHref != "" {
		if b, err := base.Parse(m.baseHref); err == nil {
			base = b
		}
	}

	p := &Page{URL: pageURL}
	p.SiteName = firstNonEmpty(collapseSpace(m.props["og:site_name"]), ld.publisher,
		collapseSpace(m.props["application-name"]))
	p.CanonicalURL = canonicalURL(m, base, pageURL)
	p.Authors = authors(m, ld)

	var sel *goquery.Document
	if opts.Selectors.Title != "" || opts.Selectors.Body != "" || opts.Selectors.Date != "" {
		sel = goquery.NewDocumentFromNode(doc)
	}

	if t := selectText(sel, opts.Selectors.Title); t != "" {
		p.Title = collapseSpace(t)
	} else {
		p.Title = chooseTitle(m.props["og:title"], ld.headline, m.h1, m.titleTag, p.SiteName)
		if p.Title == "" {
			p.Title = collapseSpace(m.props["twitter:title"])
		}
	}

	if t, ok := selectDate(sel, opts.Selectors.Date); ok && plausible(t, now) {
		p.Published, p.PublishedFrom = t, "selector"
	} else {
		p.Published, p.PublishedFrom = publishDate(doc, m, ld, pageURL, now)
	}

	// Main text last: go-trafilatura works on its own copies of the tree, but
	// the selector path and metadata above must see the document as parsed.
	if opts.Selectors.Body != "" && sel != nil {
		var parts []string
		sel.Find(opts.Selectors.Body).Each(func(_ int, s *goquery.Selection) {
			for _, n := range s.Nodes {
				if t := renderText(n); t != "" {
					parts = append(parts, t)
				}
			}
		})
		p.Text = strings.Join(parts, "\n\n")
	}
	if p.Text == "" {
		p.Text = mainText(doc, len(clean), base)
	}

	p.Text = dropLeadingTitle(p.Text, p.Title)

	p.Language = firstNonEmpty(normLang(m.htmlLang), normLang(m.props["og:locale"]),
		normLang(m.props["content-language"]), normLang(m.props["language"]),
		normLang(m.props["dc.language"]), normLang(ld.language), normLang(opts.Language))
	if p.Language == "" {
		p.Language = DetectLanguage(p.Title + "\n\n" + p.Text)
	}
	return p, nil
}

// mainText runs go-trafilatura, or the linear fallback for oversized pages and
// when go-trafilatura finds nothing or fails.
func mainText(doc *html.Node, size int, base *url.URL) (text string) {
	if size > maxTrafilaturaBytes {
		return simpleText(doc)
	}
	defer func() {
		// A bug in the extractor on one odd page must not stop the pipeline.
		if r := recover(); r != nil {
			text = simpleText(doc)
		}
	}()
	res, err := trafilatura.ExtractDocument(doc, trafilatura.Options{
		OriginalURL:     base,
		EnableFallback:  false,
		ExcludeComments: true,
		HtmlDateMode:    trafilatura.Disabled,
	})
	if err != nil || res == nil || res.ContentNode == nil {
		return simpleText(doc)
	}
	if t := renderText(res.ContentNode); t != "" {
		return t
	}
	return simpleText(doc)
}

// maxKickerWords bounds the short lines (section kickers such as "Europe" or
// "Ekonomika", bylines) a page may print above its headline.
const maxKickerWords = 4

// dropLeadingTitle removes a leading paragraph that repeats the title, and the
// kicker lines above it: the extractor keeps the <h1> and the section label
// printed over it, while the title is stored and matched on its own.
func dropLeadingTitle(text, title string) string {
	if title == "" {
		return text
	}
	rest := text
	for range maxKickerWords {
		para, after, found := strings.Cut(rest, "\n\n")
		if !found {
			return text
		}
		if strings.EqualFold(strings.TrimSpace(para), title) {
			return after
		}
		if len(strings.Fields(para)) > maxKickerWords {
			return text
		}
		rest = after
	}
	return text
}

func canonicalURL(m *pageMeta, base *url.URL, pageURL string) string {
	for _, raw := range []string{m.canonical, m.props["og:url"]} {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		if base != nil {
			u = base.ResolveReference(u)
		}
		c, err := canon.Clean(u.String())
		if err != nil {
			continue
		}
		// A canonical link to the site's home page from an article is a
		// template error; trusting it would merge every article into one.
		if cu, err := url.Parse(c); err == nil && cu.Path == "/" && base != nil && strings.Trim(base.Path, "/") != "" {
			continue
		}
		return c
	}
	if c, err := canon.Clean(pageURL); err == nil {
		return c
	}
	return ""
}

func authors(m *pageMeta, ld ldInfo) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		s = collapseSpace(s)
		if s == "" || looksLikeURL(s) || seen[strings.ToLower(s)] {
			return
		}
		seen[strings.ToLower(s)] = true
		out = append(out, s)
	}
	for _, a := range ld.authors {
		add(a)
	}
	if len(out) == 0 {
		for _, k := range []string{"author", "article:author", "parsely-author", "dc.creator", "sailthru.author", "byl"} {
			if v := m.props[k]; v != "" {
				add(strings.TrimPrefix(strings.TrimPrefix(v, "By "), "by "))
				break
			}
		}
	}
	return out
}

func selectText(doc *goquery.Document, sel string) string {
	if doc == nil || sel == "" {
		return ""
	}
	if _, err := cascadia.ParseGroup(sel); err != nil {
		return ""
	}
	s := doc.Find(sel).First()
	if s.Length() == 0 {
		return ""
	}
	return renderText(s.Nodes[0])
}

func selectDate(doc *goquery.Document, sel string) (time.Time, bool) {
	if doc == nil || sel == "" {
		return time.Time{}, false
	}
	if _, err := cascadia.ParseGroup(sel); err != nil {
		return time.Time{}, false
	}
	s := doc.Find(sel).First()
	if s.Length() == 0 {
		return time.Time{}, false
	}
	for _, a := range []string{"datetime", "content", "title", "data-date"} {
		if v, ok := s.Attr(a); ok {
			if t, ok := parseDate(v); ok {
				return t, true
			}
		}
	}
	return parseDate(collapseSpace(s.Text()))
}

// ValidateSelectors reports the first configured selector that does not parse,
// wrapping ErrBadSelector.
func ValidateSelectors(s news.Selectors) error {
	for _, f := range []struct{ field, sel string }{
		{"links", s.Links}, {"title", s.Title}, {"body", s.Body}, {"date", s.Date},
	} {
		if strings.TrimSpace(f.sel) == "" {
			continue
		}
		if _, err := cascadia.ParseGroup(f.sel); err != nil {
			return fmt.Errorf("%s selector %q: %w: %v", f.field, f.sel, ErrBadSelector, err)
		}
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

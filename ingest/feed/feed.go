// Package feed turns the bytes of an RSS, Atom or JSON Feed document into our own
// Feed and Item values; it wraps gofeed so that no gofeed type leaves the package.
package feed

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"
)

var (
	// ErrNotFeed is returned when the body is not an RSS, Atom or JSON Feed
	// document, e.g. an HTML page or an empty body.
	ErrNotFeed = errors.New("not an RSS, Atom or JSON feed")
	// ErrParserPanic is returned when the feed parser panicked on the body.
	ErrParserPanic = errors.New("feed parser panicked")
)

// Feed is a parsed feed.
type Feed struct {
	Title    string // plain text
	Link     string // the site the feed describes, absolute
	Language string // ISO 639-1, lower case; "" when not declared
	Hub      string // WebSub hub, absolute; "" when none
	// TTL is the RSS <ttl>: how long the feed may be cached. Zero when absent.
	TTL   time.Duration
	Items []Item
	// Dropped is how many items past MaxItems were left out.
	Dropped int
}

// MaxItems is how many items of one feed are read, in document order (feeds
// list the newest first). Real feeds list tens; a feed of 100,000 is a
// broken or hostile server, and reading it all would only cost time.
const MaxItems = 10_000

// Item is one entry of a feed.
type Item struct {
	GUID string
	// URL is the absolute http(s) link of the item, resolved against the feed
	// URL; "" when the item has none.
	URL      string
	Title    string // plain text
	Summary  string // plain text
	Content  string // HTML as the feed carries it
	Language string // ISO 639-1; the item's own, else the feed's
	Authors  []string
	// Published is the item's publication time, else its update time, in UTC;
	// zero when the feed gives neither.
	Published time.Time
}

// detectionPeek is how much of the body gofeed itself looks at to detect the
// type; detecting on the same prefix keeps our verdict and its in step.
const detectionPeek = 4096

// maxTTL bounds <ttl>: larger values are typing errors, and a feed that asks
// not to be read for a year would silently drop out of monitoring.
const maxTTL = 7 * 24 * time.Hour

// Parse parses a feed. body should be UTF-8 (the caller converts it); a body
// that is not valid UTF-8 is decoded by the encoding its XML declaration names.
// feedURL is used to resolve relative links and in error messages.
func Parse(body []byte, feedURL string) (f *Feed, err error) {
	defer func() {
		if r := recover(); r != nil {
			f = nil
			err = fmt.Errorf("parse feed %s: %w: %v", feedURL, ErrParserPanic, r)
		}
	}()

	if utf8.Valid(body) {
		// The caller has already converted the body to UTF-8, so a declared
		// legacy encoding would make the XML decoder convert it a second time
		// (or fail, for UTF-16).
		body = forceUTF8Declaration(body)
	}
	prefix := body[:min(len(body), detectionPeek)]
	kind := gofeed.DetectFeedType(bytes.NewReader(prefix))
	if kind == gofeed.FeedTypeUnknown {
		return nil, fmt.Errorf("parse feed %s: %w: %s", feedURL, ErrNotFeed, describe(prefix))
	}

	p := gofeed.NewParser()
	p.KeepOriginalFeed = true
	// We never use item images; gofeed's search for one parses every item's
	// HTML and was 63% of the allocations on a 100,000-item feed (pprof,
	// alloc_space).
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	gf, err := p.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse %s feed %s: %w", kindName(kind), feedURL, err)
	}
	base, _ := url.Parse(feedURL)
	return convert(gf, base), nil
}

func kindName(k gofeed.FeedType) string {
	switch k {
	case gofeed.FeedTypeAtom:
		return "Atom"
	case gofeed.FeedTypeRSS:
		return "RSS"
	case gofeed.FeedTypeJSON:
		return "JSON"
	}
	return "unknown"
}

var (
	xmlRootRe     = regexp.MustCompile(`<([A-Za-z_][-A-Za-z0-9_.:]*)`)
	xmlDeclRe     = regexp.MustCompile(`^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*(["'])`)
	doctypeHTMLRe = regexp.MustCompile(`(?i)^(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<!doctype\s+html`)
)

// describe says in a few words what a body that is not a feed looks like, so
// that the error tells an operator what the URL really serves.
func describe(prefix []byte) string {
	trimmed := bytes.TrimPrefix(bytes.TrimLeft(prefix, " \t\r\n"), []byte("\xef\xbb\xbf"))
	trimmed = bytes.TrimLeft(trimmed, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return "empty body"
	case doctypeHTMLRe.Match(trimmed):
		return "body is an HTML page"
	case trimmed[0] == '<':
		root := rootElement(trimmed)
		switch strings.ToLower(root) {
		case "":
			return "XML without a recognisable root element"
		case "html", "head", "body":
			return "body is an HTML page"
		case "rss", "rdf:rdf", "feed":
			// gofeed found no root: the prolog before it is malformed.
			return fmt.Sprintf("root element <%s> not found by the feed detector (malformed prolog or root beyond the first %d bytes)", root, detectionPeek)
		}
		return fmt.Sprintf("XML root element <%s> is not rss, rdf:RDF or feed", root)
	case trimmed[0] == '[' || trimmed[0] == '{':
		return "JSON that is not a JSON Feed object"
	}
	return "body is neither XML nor JSON"
}

// rootElement names the first element of an XML document, skipping the
// declaration, comments and the doctype; "" when there is none.
func rootElement(b []byte) string {
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 || i+1 >= len(b) {
			return ""
		}
		b = b[i:]
		if b[1] == '?' || b[1] == '!' {
			if bytes.HasPrefix(b, []byte("<!--")) {
				end := bytes.Index(b, []byte("-->"))
				if end < 0 {
					return ""
				}
				b = b[end+3:]
				continue
			}
			b = b[1:]
			continue
		}
		if m := xmlRootRe.FindSubmatch(b); m != nil && bytes.HasPrefix(b, m[0]) {
			return string(m[1])
		}
		return ""
	}
}

// forceUTF8Declaration rewrites the encoding of the XML declaration to UTF-8.
func forceUTF8Declaration(body []byte) []byte {
	head := body[:min(len(body), 512)]
	loc := xmlDeclRe.FindSubmatchIndex(head)
	if loc == nil {
		return body
	}
	enc := strings.ToLower(string(head[loc[5]:loc[6]]))
	if enc == "utf-8" || enc == "utf8" {
		return body
	}
	out := make([]byte, 0, len(body))
	out = append(out, body[:loc[4]+1]...) // up to and including the opening quote
	out = append(out, "UTF-8"...)
	out = append(out, body[loc[6]:]...)
	return out
}

func convert(gf *gofeed.Feed, base *url.URL) *Feed {
	f := &Feed{
		Title:    plainText(gf.Title),
		Link:     resolve(base, gf.Link),
		Language: normLang(gf.Language),
	}
	var rssItems []*rss.Item
	switch orig := gf.OriginalFeed().(type) {
	case *rss.Feed:
		f.TTL = parseTTL(orig.TTL)
		f.Hub = resolve(base, hubFromExtensions(orig.Extensions))
		rssItems = orig.Items
	case *atom.Feed:
		for _, l := range orig.Links {
			if l != nil && strings.EqualFold(strings.TrimSpace(l.Rel), "hub") {
				f.Hub = resolve(base, l.Href)
				break
			}
		}
		if f.Hub == "" {
			f.Hub = resolve(base, hubFromExtensions(orig.Extensions))
		}
	}
	if f.Language == "" && gf.DublinCoreExt != nil && len(gf.DublinCoreExt.Language) > 0 {
		f.Language = normLang(gf.DublinCoreExt.Language[0])
	}

	items := gf.Items
	if len(items) > MaxItems {
		f.Dropped = len(items) - MaxItems
		items = items[:MaxItems]
	}
	f.Items = make([]Item, 0, len(items))
	for i, gi := range items {
		if gi == nil {
			continue
		}
		var ri *rss.Item
		if len(rssItems) == len(gf.Items) {
			ri = rssItems[i]
		}
		f.Items = append(f.Items, convertItem(gi, ri, f.Language, base))
	}
	return f
}

func convertItem(gi *gofeed.Item, ri *rss.Item, feedLang string, base *url.URL) Item {
	it := Item{
		GUID:     strings.TrimSpace(gi.GUID),
		Title:    plainText(gi.Title),
		Summary:  plainText(gi.Description),
		Content:  strings.TrimSpace(gi.Content),
		Language: feedLang,
	}
	if gi.DublinCoreExt != nil && len(gi.DublinCoreExt.Title) > 0 && it.Title == "" {
		it.Title = plainText(gi.DublinCoreExt.Title[0])
	}
	if gi.DublinCoreExt != nil && len(gi.DublinCoreExt.Language) > 0 {
		if l := normLang(gi.DublinCoreExt.Language[0]); l != "" {
			it.Language = l
		}
	}
	if it.Summary == "" && it.Content != "" {
		// Atom entries often carry only <content>; a summary makes the item
		// searchable when its page is never fetched.
		it.Summary = truncateRunes(plainText(it.Content), 600)
	}

	it.URL = resolve(base, gi.Link)
	for _, l := range gi.Links {
		if it.URL != "" {
			break
		}
		it.URL = resolve(base, l)
	}
	if it.URL == "" && it.GUID != "" && guidIsPermalink(ri) {
		it.URL = resolve(nil, it.GUID)
	}

	switch {
	case gi.PublishedParsed != nil && !gi.PublishedParsed.IsZero():
		it.Published = gi.PublishedParsed.UTC()
	case gi.UpdatedParsed != nil && !gi.UpdatedParsed.IsZero():
		it.Published = gi.UpdatedParsed.UTC()
	}

	seen := map[string]bool{}
	for _, p := range gi.Authors {
		if p == nil {
			continue
		}
		name := plainText(p.Name)
		if name == "" {
			name = strings.TrimSpace(p.Email)
		}
		if name != "" && !seen[name] {
			seen[name] = true
			it.Authors = append(it.Authors, name)
		}
	}
	return it
}

// guidIsPermalink applies the RSS rule: a guid is a permalink unless
// isPermaLink="false". Atom ids and JSON Feed ids carry no such flag; they are
// used only when they are absolute http(s) URLs, which resolve(nil, …) checks.
func guidIsPermalink(ri *rss.Item) bool {
	if ri == nil || ri.GUID == nil {
		return true
	}
	return !strings.EqualFold(strings.TrimSpace(ri.GUID.IsPermalink), "false")
}

// hubFromExtensions finds a <link rel="hub"> in any foreign namespace (atom,
// atom10, …), which is how RSS feeds announce their WebSub hub.
func hubFromExtensions(exts ext.Extensions) string {
	for _, ns := range exts {
		for _, l := range ns["link"] {
			if strings.EqualFold(strings.TrimSpace(l.Attrs["rel"]), "hub") {
				if h := strings.TrimSpace(l.Attrs["href"]); h != "" {
					return h
				}
			}
		}
	}
	return ""
}

func parseTTL(s string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return 0
	}
	if n > int(maxTTL/time.Minute) {
		return maxTTL
	}
	return time.Duration(n) * time.Minute
}

// resolve makes ref absolute against base and keeps it only if it is http(s)
// with a host; base may be nil, in which case ref must already be absolute.
func resolve(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil && base.IsAbs() {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// normLang reduces a language tag ("en-US", "pl_PL", "FI") to its lower-case
// primary subtag, or "" when it is not a plausible ISO 639 code.
func normLang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	if len(tag) < 2 || len(tag) > 3 {
		return ""
	}
	for _, r := range tag {
		if r < 'a' || r > 'z' {
			return ""
		}
	}
	return tag
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	cut := s[:i]
	if j := strings.LastIndexByte(cut, ' '); j > len(cut)/2 {
		cut = cut[:j]
	}
	return cut + "…"
}

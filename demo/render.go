package demo

import (
	"bytes"
	"embed"
	"encoding/json"
	"encoding/xml"
	"fmt"
	htmltemplate "html/template"
	"io"
	"net/url"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"golang.org/x/text/encoding/charmap"
)

//go:embed templates
var templateFS embed.FS

// templates are the parsed page and feed templates of one handler.
type templates struct {
	html *htmltemplate.Template
	rss  *texttemplate.Template
	atom *texttemplate.Template
	news *texttemplate.Template // news sitemap
	idx  *texttemplate.Template // sitemap index
}

func parseTemplates() (*templates, error) {
	funcs := texttemplate.FuncMap{
		"x":       xmlEscape,
		"rfc1123": func(t time.Time) string { return t.Format(time.RFC1123Z) },
		"rfc3339": func(t time.Time) string { return t.Format(time.RFC3339) },
	}
	var t templates
	var err error
	if t.html, err = htmltemplate.ParseFS(templateFS, "templates/page.html"); err != nil {
		return nil, fmt.Errorf("parse page templates: %w", err)
	}
	for _, p := range []struct {
		dst  **texttemplate.Template
		name string
	}{{&t.rss, "rss.xml"}, {&t.atom, "atom.xml"}, {&t.news, "sitemap-news.xml"}, {&t.idx, "sitemap-index.xml"}} {
		if *p.dst, err = texttemplate.New(p.name).Funcs(funcs).ParseFS(templateFS, "templates/"+p.name); err != nil {
			return nil, fmt.Errorf("parse %s: %w", p.name, err)
		}
	}
	return &t, nil
}

// xmlEscape escapes text for XML character data and attribute values.
func xmlEscape(s string) string {
	var b strings.Builder
	// xml.EscapeText only fails when the writer does, and a Builder never does.
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// link is an anchor in the chrome of a page.
type link struct {
	Title string
	URL   string
}

// chrome is what every HTML page of an outlet needs.
type chrome struct {
	Outlet    *outlet
	Root      string // scheme://host of the request
	Home      string
	Nav       []link
	FeedURL   string
	FeedType  string
	FeedLabel string
	Year      int
}

func (s *site) chrome(base string, o *outlet) chrome {
	c := chrome{Outlet: o, Root: base, Home: base + o.prefix(), Year: s.newest.Year()}
	for _, n := range o.Nav {
		c.Nav = append(c.Nav, link{Title: n, URL: c.Home + "?section=" + url.QueryEscape(strings.ToLower(n))})
	}
	switch o.Format {
	case formatRSS:
		c.FeedURL, c.FeedType, c.FeedLabel = c.Home+o.Index, "application/rss+xml", "RSS"
	case formatAtom:
		c.FeedURL, c.FeedType, c.FeedLabel = c.Home+o.Index, "application/atom+xml", "Atom"
	case formatJSON:
		c.FeedURL, c.FeedType, c.FeedLabel = c.Home+o.Index, "application/feed+json", "JSON Feed"
	}
	return c
}

// public returns the outlet's articles that feeds and pages may link to,
// newest first.
func (s *site) public(o *outlet) []*article {
	var out []*article
	for _, a := range s.byOutlet[o.ID] {
		if !a.Private {
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b *article) int { return b.Published.Compare(a.Published) })
	return out
}

type pageData struct {
	chrome
	A         *article
	URL       string // canonical, never with tracking parameters
	Published string
	Modified  string
	HumanDate string
	JSONLD    any
	Related   []link
}

// renderArticle renders one article page, encoded in the article's charset.
func (s *site) renderArticle(t *templates, base string, a *article) ([]byte, error) {
	o := a.outlet
	d := pageData{
		chrome:    s.chrome(base, o),
		A:         a,
		URL:       base + a.Path,
		Published: a.Published.Format(time.RFC3339),
		Modified:  a.Updated.Format(time.RFC3339),
		HumanDate: a.Published.Format(o.DateStyle),
	}
	if o.JSONLD {
		d.JSONLD = map[string]any{
			"@context":         "https://schema.org",
			"@type":            "NewsArticle",
			"headline":         a.Title,
			"description":      a.Summary,
			"inLanguage":       a.Lang,
			"datePublished":    d.Published,
			"dateModified":     d.Modified,
			"mainEntityOfPage": d.URL,
			"articleSection":   a.Section,
			"author":           []map[string]string{{"@type": "Person", "name": a.Author}},
			"publisher":        map[string]string{"@type": "Organization", "name": o.Name},
		}
	}
	// Related links carry other headlines into every page: an extractor that
	// keeps them would put off-topic pages in mine-ban searches.
	for _, r := range s.public(o) {
		if r != a && len(d.Related) < 3 {
			d.Related = append(d.Related, link{Title: r.Title, URL: base + r.Path})
		}
	}
	var buf bytes.Buffer
	if err := t.html.ExecuteTemplate(&buf, "page", d); err != nil {
		return nil, fmt.Errorf("render %s: %w", a.Path, err)
	}
	if a.Charset != charsetWindows1257 {
		return buf.Bytes(), nil
	}
	out, err := charmap.Windows1257.NewEncoder().Bytes(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("encode %s in %s: %w", a.Path, charsetWindows1257, err)
	}
	return out, nil
}

type teaser struct {
	Title, Summary, Section, URL, Published, HumanDate string
}

type homeData struct {
	chrome
	Lang    string
	Title   string
	URL     string
	Teasers []teaser
}

// renderHome renders an outlet's front page, which for a listing outlet is
// also the page its source reads: each teaser is `article h2 a`.
func (s *site) renderHome(t *templates, base string, o *outlet, path string) ([]byte, error) {
	d := homeData{chrome: s.chrome(base, o), Lang: o.Language, Title: o.Tagline, URL: base + path}
	if d.Lang == "" {
		d.Lang = "en"
	}
	var list []*article
	list = append(list, s.public(o)...)
	if o.Format == formatListing {
		// The CMS lists embargoed drafts too; robots.txt is what keeps
		// well-behaved crawlers out of them.
		for _, a := range s.byOutlet[o.ID] {
			if a.Private {
				list = append([]*article{a}, list...)
			}
		}
	}
	for _, a := range list {
		d.Teasers = append(d.Teasers, teaser{
			Title: a.Title, Summary: a.Summary, Section: a.Section, URL: base + a.Path,
			Published: a.Published.Format(time.RFC3339), HumanDate: a.Published.Format(o.DateStyle),
		})
	}
	var buf bytes.Buffer
	if err := t.html.ExecuteTemplate(&buf, "home", d); err != nil {
		return nil, fmt.Errorf("render %s: %w", path, err)
	}
	return buf.Bytes(), nil
}

type rootEntry struct {
	Name, Language, Home, Index string
	Kind                        string
}

func (s *site) renderRoot(t *templates, base string) ([]byte, error) {
	var rows []rootEntry
	for _, o := range s.outlets {
		lang := o.Language
		if lang == "" {
			lang = "et, lv, fi"
		}
		rows = append(rows, rootEntry{
			Name: o.Name, Language: lang, Home: base + o.prefix(), Index: base + o.prefix() + o.Index,
			Kind: string(o.kind()),
		})
	}
	var buf bytes.Buffer
	if err := t.html.ExecuteTemplate(&buf, "root", rows); err != nil {
		return nil, fmt.Errorf("render root: %w", err)
	}
	return buf.Bytes(), nil
}

// feedItem is an article as a feed or sitemap lists it.
type feedItem struct {
	Title, Summary, Author, Section, Lang string
	Link                                  string // may carry utm_ tracking parameters
	URL                                   string // canonical
	GUID                                  string
	GUIDIsLink                            bool
	Published, Updated                    time.Time
}

type feedData struct {
	Outlet *outlet
	Home   string
	Self   string
	Newest time.Time
	Items  []feedItem
}

func (s *site) feedData(base string, o *outlet, self string) feedData {
	d := feedData{Outlet: o, Home: base + o.prefix(), Self: base + self}
	for _, a := range s.public(o) {
		it := feedItem{
			Title: a.Title, Summary: a.Summary, Author: a.Author, Section: a.Section, Lang: a.Lang,
			URL: base + a.Path, Link: base + a.Path, Published: a.Published, Updated: a.Updated,
		}
		if a.Tracking {
			it.Link += "?utm_source=rss&utm_medium=feed&utm_campaign=" + o.ID
		}
		// Outlets identify items differently, as real ones do.
		switch o.ID {
		case "bpb":
			it.GUID = fmt.Sprintf("bpb-%s-%s", a.Published.UTC().Format("20060102"), lastSegment(a.Path))
		case "kurier":
			it.GUID = fmt.Sprintf("tag:kurier-nadwislanski.pl,%s:%s", a.Published.Format("2006-01-02"), a.Path)
		default:
			it.GUID, it.GUIDIsLink = it.URL, true
		}
		d.Items = append(d.Items, it)
		if a.Updated.After(d.Newest) {
			d.Newest = a.Updated
		}
	}
	return d
}

func lastSegment(p string) string {
	p = strings.TrimSuffix(p, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

func renderText(t *texttemplate.Template, d any) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("render %s: %w", t.Name(), err)
	}
	return buf.Bytes(), nil
}

// JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/).
type jsonFeed struct {
	Version     string         `json:"version"`
	Title       string         `json:"title"`
	HomePageURL string         `json:"home_page_url"`
	FeedURL     string         `json:"feed_url"`
	Description string         `json:"description"`
	Authors     []jsonAuthor   `json:"authors,omitempty"`
	Items       []jsonFeedItem `json:"items"`
}

type jsonAuthor struct {
	Name string `json:"name"`
}

type jsonFeedItem struct {
	ID            string       `json:"id"`
	URL           string       `json:"url"`
	Title         string       `json:"title"`
	Summary       string       `json:"summary"`
	ContentText   string       `json:"content_text"`
	DatePublished string       `json:"date_published"`
	DateModified  string       `json:"date_modified,omitempty"`
	Authors       []jsonAuthor `json:"authors"`
	Tags          []string     `json:"tags,omitempty"`
	Language      string       `json:"language"`
}

func renderJSONFeed(d feedData) ([]byte, error) {
	f := jsonFeed{
		Version: "https://jsonfeed.org/version/1.1", Title: d.Outlet.Name, HomePageURL: d.Home,
		FeedURL: d.Self, Description: d.Outlet.Tagline, Authors: []jsonAuthor{{Name: d.Outlet.Name}},
		Items: []jsonFeedItem{},
	}
	for _, it := range d.Items {
		ji := jsonFeedItem{
			ID: it.GUID, URL: it.Link, Title: it.Title, Summary: it.Summary,
			// A wire feed gives only the lead: the page has the full story.
			ContentText:   it.Summary,
			DatePublished: it.Published.Format(time.RFC3339),
			Authors:       []jsonAuthor{{Name: it.Author}},
			Tags:          []string{it.Section},
			Language:      it.Lang,
		}
		if !it.Updated.Equal(it.Published) {
			ji.DateModified = it.Updated.Format(time.RFC3339)
		}
		f.Items = append(f.Items, ji)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode JSON feed: %w", err)
	}
	return buf.Bytes(), nil
}

func renderRobots(w io.Writer, base string, s *site) {
	fmt.Fprintf(w, "# robots.txt for the minewatch demo site\nUser-agent: *\nDisallow: /private/\nAllow: /\n\n")
	for _, o := range s.outlets {
		if o.Format == formatSitemap {
			fmt.Fprintf(w, "Sitemap: %s%ssitemap.xml\n", base, o.prefix())
		}
	}
}

package demo

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/mmcdole/gofeed"
	"golang.org/x/text/encoding/charmap"

	"github.com/minewatch/minewatch/news"
)

// fetch GETs u with extra headers and returns the response and its body.
func fetch(t testing.TB, c *http.Client, u string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatalf("new request %s: %v", u, err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", u, err)
	}
	return resp, body
}

func mustOK(t testing.TB, c *http.Client, u string) []byte {
	t.Helper()
	resp, body := fetch(t, c, u, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", u, resp.StatusCode)
	}
	return body
}

func testSite(t testing.TB) *site {
	t.Helper()
	s, err := loadSite()
	if err != nil {
		t.Fatalf("loadSite: %v", err)
	}
	return s
}

// pathOf returns the path of an absolute link on the test server, failing
// when the link points elsewhere.
func pathOf(t testing.TB, base, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q: %v", link, err)
	}
	if u.Scheme+"://"+u.Host != base {
		t.Fatalf("link %q is not on %s", link, base)
	}
	return u.Path
}

// sitemapURLSet is the part of a Google News sitemap the tests check.
type sitemapURLSet struct {
	XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []struct {
		Loc  string `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 loc"`
		News struct {
			Publication struct {
				Name     string `xml:"http://www.google.com/schemas/sitemap-news/0.9 name"`
				Language string `xml:"http://www.google.com/schemas/sitemap-news/0.9 language"`
			} `xml:"http://www.google.com/schemas/sitemap-news/0.9 publication"`
			PublicationDate string `xml:"http://www.google.com/schemas/sitemap-news/0.9 publication_date"`
			Title           string `xml:"http://www.google.com/schemas/sitemap-news/0.9 title"`
		} `xml:"http://www.google.com/schemas/sitemap-news/0.9 news"`
	} `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 url"`
}

// sourceLinks reads one source the way minewatch would and returns the
// article links it offers.
func sourceLinks(t testing.TB, c *http.Client, src news.Source) []string {
	t.Helper()
	body := mustOK(t, c, src.URL)
	var links []string
	switch src.Kind {
	case news.KindFeed:
		feed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: gofeed: %v", src.ID, err)
		}
		for _, it := range feed.Items {
			links = append(links, it.Link)
		}
	case news.KindListing:
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: goquery: %v", src.ID, err)
		}
		doc.Find(src.Selectors.Links).Each(func(_ int, s *goquery.Selection) {
			links = append(links, s.AttrOr("href", ""))
		})
	case news.KindSitemap:
		var set sitemapURLSet
		if err := xml.Unmarshal(body, &set); err != nil {
			t.Fatalf("%s: sitemap: %v", src.ID, err)
		}
		for _, u := range set.URLs {
			links = append(links, u.Loc)
		}
	default:
		t.Fatalf("%s: unexpected kind %q", src.ID, src.Kind)
	}
	return links
}

func TestContent(t *testing.T) {
	s := testSite(t)
	langs := make(map[string]int)
	var relevant, negative, private, legacy int
	cutoff := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for _, a := range s.articles {
		langs[a.Lang]++
		switch {
		case a.Private:
			private++
		case a.Expect.Relevant:
			relevant++
		default:
			negative++
		}
		if a.Charset == charsetWindows1257 {
			legacy++
		}
		if a.Published.Year() < 2025 || !a.Published.Before(cutoff) {
			t.Errorf("%s: published %s, want 2025-01-01 to 2026-11-25", a.Path, a.Published)
		}
	}
	tests := []struct {
		name      string
		got, want int
		atLeast   bool
	}{
		{"articles", len(s.articles), 28, true},
		{"relevant articles", relevant, 15, true},
		{"hard negatives", negative, 8, true},
		{"windows-1257 pages", legacy, 1, false},
		{"private pages", private, 1, false},
	}
	for _, lang := range []string{"en", "pl", "lt", "lv", "et", "fi", "uk"} {
		tests = append(tests, struct {
			name      string
			got, want int
			atLeast   bool
		}{"articles in " + lang, langs[lang], 1, true})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.atLeast && tt.got < tt.want || !tt.atLeast && tt.got != tt.want {
				t.Errorf("got %d, want %s%d", tt.got, map[bool]string{true: "at least "}[tt.atLeast], tt.want)
			}
		})
	}
	t.Run("newest is a few days before 2026-11-26", func(t *testing.T) {
		if d := cutoff.Sub(s.newest); d < 0 || d > 7*24*time.Hour {
			t.Errorf("newest article %s", s.newest)
		}
	})
	t.Run("every outlet has articles", func(t *testing.T) {
		for _, o := range s.outlets {
			if len(s.public(o)) < 3 {
				t.Errorf("%s has %d public articles, want at least 3", o.ID, len(s.public(o)))
			}
		}
	})
}

func TestParseSiteRejects(t *testing.T) {
	const good = `articles:
  - path: news/one
    title: One
    summary: S
    author: A
    section: News
    published: 2025-05-01T10:00:00+02:00
    body: |
      First paragraph.

      Second paragraph.
    expect:
      relevant: true
      topics: [treaty_withdrawal]
      entities:
        - {country: LT, action: withdraw_vote, treaty: ottawa}
`
	o := &outlet{ID: "x", Name: "X", Language: "en"}
	tests := []struct {
		name    string
		replace [2]string // applied to good
		want    string
	}{
		{"valid", [2]string{"", ""}, ""},
		{"unknown field", [2]string{"    section: News\n", "    section: News\n    sectoin: News\n"}, "sectoin"},
		{"bad date", [2]string{"2025-05-01T10:00:00+02:00", "1 May 2025"}, "published"},
		{"one paragraph", [2]string{"\n      Second paragraph.\n", ""}, "paragraphs"},
		{"unknown topic", [2]string{"[treaty_withdrawal]", "[withdrawal]"}, "unknown topic"},
		{"unknown action", [2]string{"withdraw_vote", "withdraw"}, "unknown action"},
		{"bad country", [2]string{"country: LT", "country: Lithuania"}, "alpha-2"},
		{"withdrawal without treaty", [2]string{"treaty: ottawa", "treaty: none"}, "must name its treaty"},
		{"ccm without its topic", [2]string{"treaty: ottawa", "treaty: ccm"}, "cluster_munitions"},
		{"irrelevant with topics", [2]string{"relevant: true", "relevant: false"}, "non-relevant"},
		{"funding with a treaty", [2]string{"action: withdraw_vote, treaty: ottawa", "action: funding_cut, treaty: ottawa"}, "always treaty none"},
		{"bad charset", [2]string{"    section: News\n", "    section: News\n    charset: koi8-r\n"}, "charset"},
		{"not encodable", [2]string{"First paragraph.", "First paragraph €→∞."}, "not encodable"},
		{"path with query", [2]string{"news/one", "news/one?x=1"}, "path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := good
			if tt.replace[0] != "" {
				if !strings.Contains(doc, tt.replace[0]) {
					t.Fatalf("test bug: %q not in the document", tt.replace[0])
				}
				doc = strings.Replace(doc, tt.replace[0], tt.replace[1], 1)
			}
			if tt.name == "not encodable" {
				doc = strings.Replace(doc, "    section: News\n", "    section: News\n    charset: windows-1257\n", 1)
			}
			_, err := parseSite([]*outlet{o}, map[string][]byte{"x": []byte(doc)})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("parseSite: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("parseSite accepted content with %s", tt.name)
			case tt.want != "" && (!errors.Is(err, ErrBadContent) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %q: want ErrBadContent mentioning %q", err, tt.want)
			}
		})
	}
	t.Run("duplicate path", func(t *testing.T) {
		doc := good + strings.TrimPrefix(good, "articles:\n")
		if _, err := parseSite([]*outlet{o}, map[string][]byte{"x": []byte(doc)}); err == nil || !strings.Contains(err.Error(), "twice") {
			t.Fatalf("error %v, want a duplicate path error", err)
		}
	})
}

func TestExpected(t *testing.T) {
	s := testSite(t)
	exp := Expected()
	seen := make(map[string]bool)
	for _, e := range exp {
		a, ok := s.byPath[e.Path]
		switch {
		case !ok:
			t.Errorf("%s: no such article", e.Path)
		case a.Private:
			t.Errorf("%s: private pages are not expected", e.Path)
		case seen[e.Path]:
			t.Errorf("%s: listed twice", e.Path)
		}
		seen[e.Path] = true
	}
	if want := len(s.articles) - 1; len(exp) != want {
		t.Errorf("Expected has %d entries, want %d", len(exp), want)
	}
	t.Run("returns copies", func(t *testing.T) {
		first := Expected()
		first[0].Topics[0] = "changed"
		if Expected()[0].Topics[0] == "changed" {
			t.Error("a caller's change leaked into the next call")
		}
	})
	t.Run("labels", func(t *testing.T) {
		byKey := make(map[string]bool)
		for _, e := range exp {
			for _, ent := range e.Entities {
				byKey[news.EventKey(ent.Country, ent.Action, ent.Treaty)] = true
			}
		}
		// The brief's list of stories, as events the pipeline must find.
		for _, key := range []string{
			"LT/withdraw_vote/ottawa", "LV/withdraw_vote/ottawa", "EE/withdraw_vote/ottawa",
			"FI/withdraw_notify/ottawa", "PL/withdraw_effective/ottawa", "PL/withdraw_announce/ottawa",
			"UA/withdraw_vote/ottawa", "LT/withdraw_effective/ccm", "NO/remain/ottawa", "DE/remain/ottawa",
			"PL/resume_production/ottawa", "US/funding_cut/none", "NL/funding_increase/none",
			"MM/casualties/none", "UA/clearance/none", "GR/destroy_stockpile/ottawa",
		} {
			if !byKey[key] {
				t.Errorf("no article expects %s", key)
			}
		}
	})
}

func TestSources(t *testing.T) {
	const base = "http://127.0.0.1:8081"
	srcs := Sources(base + "/")
	ids := make(map[string]bool)
	kinds := make(map[news.SourceKind]int)
	for _, src := range srcs {
		if ids[src.ID] {
			t.Errorf("source id %s used twice", src.ID)
		}
		ids[src.ID] = true
		kinds[src.Kind]++
		if !strings.HasPrefix(src.URL, base+"/") || strings.HasPrefix(src.URL, base+"//") {
			t.Errorf("%s: URL %s is not under %s", src.ID, src.URL, base)
		}
		if src.Schedule == "" || src.Name == "" || !src.FetchPages {
			t.Errorf("%s: incomplete source %+v", src.ID, src)
		}
		if src.Kind == news.KindListing && src.Selectors.Links == "" {
			t.Errorf("%s: listing source without a link selector", src.ID)
		}
	}
	if kinds[news.KindFeed] != 5 || kinds[news.KindListing] != 1 || kinds[news.KindSitemap] != 1 {
		t.Errorf("source kinds %v, want 5 feeds, 1 listing, 1 sitemap", kinds)
	}
}

func TestFeeds(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	s := testSite(t)
	wantType := map[string]string{"bpb": "rss", "kurier": "atom", "nemuno": "rss", "nordbalt": "json", "visnyk": "rss"}
	for _, src := range Sources(srv.URL) {
		if src.Kind != news.KindFeed {
			continue
		}
		t.Run(src.ID, func(t *testing.T) {
			o := s.outlets[slices.IndexFunc(s.outlets, func(o *outlet) bool { return "demo-"+o.ID == src.ID })]
			feed, err := gofeed.NewParser().Parse(bytes.NewReader(mustOK(t, srv.Client(), src.URL)))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if feed.FeedType != wantType[o.ID] {
				t.Errorf("feed type %q, want %q", feed.FeedType, wantType[o.ID])
			}
			if got, want := len(feed.Items), len(s.public(o)); got != want {
				t.Errorf("%d items, want %d", got, want)
			}
			for _, it := range feed.Items {
				if it.Title == "" || it.PublishedParsed == nil || it.GUID == "" || it.Description == "" && it.Content == "" {
					t.Errorf("item %q lacks a title, date, id or summary", it.Link)
				}
				if len(it.Authors) == 0 || it.Authors[0].Name == "" {
					t.Errorf("item %q has no author", it.Link)
				}
				mustOK(t, srv.Client(), it.Link)
				if _, ok := s.byPath[pathOf(t, srv.URL, it.Link)]; !ok {
					t.Errorf("item %q links to no article", it.Link)
				}
			}
		})
	}
}

func TestEveryExpectedPathIsLinked(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	linked := make(map[string]bool)
	var tracked int
	for _, src := range Sources(srv.URL) {
		for _, l := range sourceLinks(t, srv.Client(), src) {
			linked[pathOf(t, srv.URL, l)] = true
			if strings.Contains(l, "utm_source=") {
				tracked++
			}
		}
	}
	expected := make(map[string]bool)
	for _, e := range Expected() {
		expected[e.Path] = true
		if !linked[e.Path] {
			t.Errorf("%s is linked from no source", e.Path)
		}
	}
	for p := range linked {
		if !expected[p] && !strings.HasPrefix(p, "/private/") {
			t.Errorf("%s is linked but has no expectation", p)
		}
	}
	if tracked == 0 {
		t.Error("no feed link carries utm_ tracking parameters")
	}
}

func TestConditionalGET(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	urls := []string{srv.URL + "/robots.txt", srv.URL + Expected()[0].Path}
	for _, src := range Sources(srv.URL) {
		urls = append(urls, src.URL)
	}
	for _, u := range urls {
		t.Run(strings.TrimPrefix(u, srv.URL), func(t *testing.T) {
			first, _ := fetch(t, srv.Client(), u, nil)
			etag, lm := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
			if etag == "" || lm == "" {
				t.Fatalf("ETag %q, Last-Modified %q: want both", etag, lm)
			}
			mod, err := http.ParseTime(lm)
			if err != nil {
				t.Fatalf("Last-Modified %q: %v", lm, err)
			}
			tests := []struct {
				name string
				hdr  map[string]string
				want int
			}{
				{"same etag", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
				{"weak etag", map[string]string{"If-None-Match": "W/" + etag}, http.StatusNotModified},
				{"etag in a list", map[string]string{"If-None-Match": `"other", ` + etag}, http.StatusNotModified},
				{"other etag", map[string]string{"If-None-Match": `"other"`}, http.StatusOK},
				{"same date", map[string]string{"If-Modified-Since": lm}, http.StatusNotModified},
				{"later date", map[string]string{"If-Modified-Since": mod.Add(time.Hour).Format(http.TimeFormat)}, http.StatusNotModified},
				{"earlier date", map[string]string{"If-Modified-Since": mod.Add(-time.Second).Format(http.TimeFormat)}, http.StatusOK},
				// RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since.
				{"other etag, same date", map[string]string{"If-None-Match": `"other"`, "If-Modified-Since": lm}, http.StatusOK},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp, body := fetch(t, srv.Client(), u, tt.hdr)
					if resp.StatusCode != tt.want {
						t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
					}
					if tt.want == http.StatusNotModified && (len(body) != 0 || resp.Header.Get("ETag") != etag) {
						t.Errorf("304 with %d body bytes and ETag %q", len(body), resp.Header.Get("ETag"))
					}
				})
			}
		})
	}
}

func TestWindows1257Page(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	s := testSite(t)
	var a *article
	for _, x := range s.articles {
		if x.Charset == charsetWindows1257 {
			a = x
		}
	}
	resp, body := fetch(t, srv.Client(), srv.URL+a.Path, nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=windows-1257" {
		t.Errorf("Content-Type %q", ct)
	}
	if utf8.Valid(body) {
		t.Error("body is valid UTF-8; want windows-1257 bytes")
	}
	if !bytes.Contains(body, []byte(`<meta charset="windows-1257">`)) {
		t.Error("no <meta charset> for windows-1257")
	}
	// š is 0xF0 and ė is 0xEB in windows-1257.
	if !bytes.Contains(body, []byte("prie\xf0p\xebstines")) {
		t.Error(`"priešpėstines" is not encoded in windows-1257`)
	}
	text, err := charmap.Windows1257.NewDecoder().Bytes(body)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	for _, want := range []string{a.Title, a.Author, a.Paragraphs[len(a.Paragraphs)-1]} {
		if !strings.Contains(string(text), want) {
			t.Errorf("decoded page lacks %q", want)
		}
	}
}

func TestListing(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	s := testSite(t)
	var src news.Source
	for _, x := range Sources(srv.URL) {
		if x.Kind == news.KindListing {
			src = x
		}
	}
	links := sourceLinks(t, srv.Client(), src)
	var paths []string
	for _, l := range links {
		paths = append(paths, pathOf(t, srv.URL, l))
	}
	for _, a := range s.byOutlet["lfn"] {
		if !slices.Contains(paths, a.Path) {
			t.Errorf("selector %q misses %s", src.Selectors.Links, a.Path)
		}
	}
	if len(paths) != len(s.byOutlet["lfn"]) {
		t.Errorf("selector finds %d links, want %d: %v", len(paths), len(s.byOutlet["lfn"]), paths)
	}
}

func TestSitemap(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	s := testSite(t)
	var set sitemapURLSet
	if err := xml.Unmarshal(mustOK(t, srv.Client(), srv.URL+"/naw/sitemap-news.xml"), &set); err != nil {
		t.Fatalf("sitemap: %v", err)
	}
	if len(set.URLs) != len(s.public(s.outlets[slices.IndexFunc(s.outlets, func(o *outlet) bool { return o.ID == "naw" })])) {
		t.Errorf("%d URLs in the sitemap", len(set.URLs))
	}
	for _, u := range set.URLs {
		if _, err := time.Parse(time.RFC3339, u.News.PublicationDate); err != nil {
			t.Errorf("%s: news:publication_date %q: %v", u.Loc, u.News.PublicationDate, err)
		}
		if u.News.Title == "" || u.News.Publication.Name == "" || u.News.Publication.Language == "" {
			t.Errorf("%s: incomplete news:news %+v", u.Loc, u.News)
		}
		mustOK(t, srv.Client(), u.Loc)
	}
	t.Run("index and robots point to it", func(t *testing.T) {
		var idx struct {
			Sitemaps []struct {
				Loc string `xml:"loc"`
			} `xml:"sitemap"`
		}
		if err := xml.Unmarshal(mustOK(t, srv.Client(), srv.URL+"/naw/sitemap.xml"), &idx); err != nil {
			t.Fatalf("sitemap index: %v", err)
		}
		if len(idx.Sitemaps) != 1 || idx.Sitemaps[0].Loc != srv.URL+"/naw/sitemap-news.xml" {
			t.Errorf("sitemap index lists %+v", idx.Sitemaps)
		}
		robots := string(mustOK(t, srv.Client(), srv.URL+"/robots.txt"))
		if !strings.Contains(robots, "Sitemap: "+srv.URL+"/naw/sitemap.xml") {
			t.Errorf("robots.txt has no Sitemap line:\n%s", robots)
		}
	})
}

func TestRobots(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	robots := string(mustOK(t, srv.Client(), srv.URL+"/robots.txt"))
	for _, want := range []string{"User-agent: *", "Disallow: /private/"} {
		if !strings.Contains(robots, want+"\n") {
			t.Errorf("robots.txt lacks %q:\n%s", want, robots)
		}
	}
	if strings.Count(robots, "Disallow:") != 1 {
		t.Errorf("robots.txt should forbid only /private/:\n%s", robots)
	}
	// The private page exists, so only robots.txt keeps a pipeline out of it.
	for _, a := range testSite(t).articles {
		if a.Private {
			mustOK(t, srv.Client(), srv.URL+a.Path)
		}
	}
}

func TestArticlePages(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	s := testSite(t)
	var jsonLD, metaDates int
	for _, e := range Expected() {
		a := s.byPath[e.Path]
		t.Run(e.Path, func(t *testing.T) {
			resp, body := fetch(t, srv.Client(), srv.URL+e.Path, nil)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if a.Charset == charsetWindows1257 {
				if body, _ = charmap.Windows1257.NewDecoder().Bytes(body); body == nil {
					t.Fatal("cannot decode windows-1257")
				}
			}
			doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("goquery: %v", err)
			}
			attr := func(sel, name string) string { return doc.Find(sel).First().AttrOr(name, "") }
			canonical := srv.URL + e.Path
			checks := []struct{ what, got, want string }{
				{"html lang", attr("html", "lang"), a.Lang},
				{"title", doc.Find("title").Text(), a.Title + " | " + a.outlet.Name},
				{"og:title", attr(`meta[property="og:title"]`, "content"), a.Title},
				{"og:url", attr(`meta[property="og:url"]`, "content"), canonical},
				{"canonical", attr(`link[rel="canonical"]`, "href"), canonical},
				{"author", attr(`meta[name="author"]`, "content"), a.Author},
				{"h1", doc.Find("article h1").Text(), a.Title},
				{"time", attr("article time", "datetime"), a.Published.Format(time.RFC3339)},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
			var paras []string
			doc.Find("article .story-body p").Each(func(_ int, p *goquery.Selection) { paras = append(paras, p.Text()) })
			if !slices.Equal(paras, a.Paragraphs) {
				t.Errorf("body paragraphs differ:\n got %q\nwant %q", paras, a.Paragraphs)
			}
			for _, sel := range []string{"header.site-header nav a", "aside.related li a", "footer.site-footer", ".cookie-banner"} {
				if doc.Find(sel).Length() == 0 {
					t.Errorf("no boilerplate %q around the article", sel)
				}
			}
			if pt := attr(`meta[property="article:published_time"]`, "content"); pt != "" {
				metaDates++
				if pt != a.Published.Format(time.RFC3339) {
					t.Errorf("article:published_time %q", pt)
				}
			}
			if ld := doc.Find(`script[type="application/ld+json"]`); ld.Length() > 0 {
				jsonLD++
				var v struct {
					Type          string `json:"@type"`
					DatePublished string `json:"datePublished"`
				}
				if err := json.Unmarshal([]byte(ld.Text()), &v); err != nil {
					t.Fatalf("JSON-LD: %v", err)
				}
				if v.Type != "NewsArticle" || v.DatePublished != a.Published.Format(time.RFC3339) {
					t.Errorf("JSON-LD %+v", v)
				}
			}
			if !a.outlet.MetaDates && !a.outlet.JSONLD {
				t.Error("page has neither article:published_time nor JSON-LD")
			}
		})
	}
	if jsonLD == 0 || metaDates == 0 {
		t.Errorf("%d pages with JSON-LD and %d with article:published_time; want some of each", jsonLD, metaDates)
	}
	t.Run("JSON-LD only on some", func(t *testing.T) {
		if jsonLD == len(Expected()) || metaDates == len(Expected()) {
			t.Errorf("every page has the same date markup; the extractor's fallbacks go untested")
		}
	})
}

func TestHostIndependence(t *testing.T) {
	h := Handler()
	tests := []struct {
		host, want string
	}{
		{"demo.example:9999", "http://demo.example:9999/bpb/"},
		{"127.0.0.1:1", "http://127.0.0.1:1/bpb/"},
		{`evil"><script>`, "http://localhost/bpb/"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/bpb/rss.xml", nil)
			req.Host = tt.host
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<link>"+tt.want+"</link>") {
				t.Errorf("status %d, body lacks %s:\n%s", rec.Code, tt.want, rec.Body.String())
			}
		})
	}
}

func TestErrors(t *testing.T) {
	h := Handler()
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodGet, "/bpb", http.StatusNotFound},
		{http.MethodPost, "/bpb/rss.xml", http.StatusMethodNotAllowed},
		{http.MethodHead, "/bpb/rss.xml", http.StatusOK},
		{http.MethodGet, "/", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
			if tt.method == http.MethodHead && rec.Body.Len() != 0 {
				t.Errorf("HEAD returned %d body bytes", rec.Body.Len())
			}
		})
	}
}

// FuzzHandler throws arbitrary paths, hosts and validators at the site: it
// must never panic, echo an unsafe host, or serve an unknown path.
func FuzzHandler(f *testing.F) {
	f.Add("/bpb/rss.xml", "127.0.0.1:8081", `"abc"`, "Mon, 02 Jan 2006 15:04:05 GMT")
	f.Add("/nemuno/lietuvoje/seimas-pritare-pasitraukimui-is-otavos-konvencijos", "h", "*", "")
	f.Add("/lfn/news/", "x<y", `W/"a", "b"`, "garbage")
	f.Add("/../private/", "", "", "Thu, 01 Jan 1970 00:00:00 GMT")
	s := testSite(f)
	h := newHandler(s)
	f.Fuzz(func(t *testing.T, path, host, inm, ims string) {
		req := &http.Request{
			Method: http.MethodGet,
			URL:    &url.URL{Path: path},
			Host:   host,
			Header: http.Header{},
		}
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		if ims != "" {
			req.Header.Set("If-Modified-Since", ims)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		_, known := h.resources[path]
		switch rec.Code {
		case http.StatusOK, http.StatusNotModified:
			if !known {
				t.Fatalf("status %d for unknown path %q", rec.Code, path)
			}
		case http.StatusNotFound:
			if known {
				t.Fatalf("404 for known path %q", path)
			}
		default:
			t.Fatalf("status %d for %q", rec.Code, path)
		}
		if !validHost(host) && strings.Contains(rec.Body.String(), "://"+host) {
			t.Fatalf("unsafe host %q echoed", host)
		}
	})
}

func BenchmarkArticlePage(b *testing.B) {
	h := Handler()
	req := httptest.NewRequest(http.MethodGet, Expected()[0].Path, nil)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}

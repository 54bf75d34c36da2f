package extract

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/news"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// fixedNow makes the plausibility window of publication dates reproducible.
var fixedNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares v, as indented JSON, with testdata/name; -update rewrites it.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; run go test -update and review the diff.\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestExtractGolden(t *testing.T) {
	tests := []struct {
		file, url string
		opts      Options
	}{
		{"lt_article.html", "https://www.lrt.lt/naujienos/lietuvoje/2/2563412/seimas-pritare-pasitraukimui", Options{}},
		{"pl_jsonld.html", "https://polska-zbrojna.example/kraj/2025/08/polska-wznowi-produkcje-min", Options{}},
		{"tracking_ogurl.html", "https://www.reuters.com/world/europe/norway-stays-mine-ban-treaty-2025-04-02/?utm_source=rss", Options{}},
		{"pl_jsonld.html", "https://polska-zbrojna.example/kraj/2025/08/polska-wznowi-produkcje-min", Options{
			Selectors: news.Selectors{Title: "h1", Body: ".article-body p:first-child"},
		}},
	}
	for i, tt := range tests {
		name := strings.TrimSuffix(tt.file, ".html")
		if tt.opts.Selectors != (news.Selectors{}) {
			name += "_selectors"
		}
		t.Run(name, func(t *testing.T) {
			p, err := extractAt(readTestdata(t, tt.file), tt.url, tt.opts, fixedNow)
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			golden(t, name+".golden.json", p)
		})
	}
}

func TestLinksGolden(t *testing.T) {
	page := readTestdata(t, "listing.html")
	tests := []struct{ name, selector string }{
		{"listing_default", ""},
		{"listing_selector", "article.teaser h2 a"},
		{"listing_container_selector", ".teasers h2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			links, err := Links(page, "https://news.example/world/index.html", tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".golden.json", links)
		})
	}
}

func TestLinksErrors(t *testing.T) {
	if _, err := Links([]byte("<a href=x>x</a>"), "https://e.example/", "a[[["); !errors.Is(err, ErrBadSelector) {
		t.Errorf("bad selector: err = %v, want ErrBadSelector", err)
	}
	if _, err := Links([]byte("<a href=x>x</a>"), "/relative", ""); err == nil {
		t.Error("relative page URL: want error")
	}
}

type sitemapResult struct {
	URLs    []SitemapURL
	IsIndex bool
}

func TestSitemapGolden(t *testing.T) {
	for _, name := range []string{"news_sitemap", "sitemap_index"} {
		t.Run(name, func(t *testing.T) {
			urls, isIndex, err := Sitemap(readTestdata(t, name+".xml"))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".golden.json", sitemapResult{urls, isIndex})
		})
	}
}

func TestSitemapErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		notSite bool
		partial int
	}{
		{"html", "<!DOCTYPE html><html><body>hi</body></html>", true, 0},
		{"rss", `<?xml version="1.0"?><rss version="2.0"><channel/></rss>`, true, 0},
		{"empty", "", true, 0},
		{"truncated", `<urlset><url><loc>https://a.example/1</loc></url><url><loc>https://a.exa`, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			urls, _, err := Sitemap([]byte(tt.body))
			if err == nil {
				t.Fatal("want error")
			}
			if errors.Is(err, ErrNotSitemap) != tt.notSite {
				t.Errorf("errors.Is(ErrNotSitemap) = %v: %v", !tt.notSite, err)
			}
			if len(urls) != tt.partial {
				t.Errorf("got %d urls before the error, want %d", len(urls), tt.partial)
			}
		})
	}
}

func TestSitemapGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzipWriter(&buf)
	zw.Write(readTestdata(t, "sitemap_index.xml"))
	zw.Close()
	urls, isIndex, err := Sitemap(buf.Bytes())
	if err != nil || !isIndex || len(urls) != 2 {
		t.Fatalf("gzip sitemap: %v %v %v", urls, isIndex, err)
	}
}

func TestTitle(t *testing.T) {
	tests := []struct {
		name                       string
		og, ld, h1, titleTag, site string
		want                       string
	}{
		{"pipe suffix", "", "", "", "Poland leaves treaty | Reuters", "", "Poland leaves treaty"},
		{"dash suffix", "", "", "", "Poland leaves treaty - BBC News", "", "Poland leaves treaty"},
		{"en dash suffix", "", "", "", "Poland leaves treaty – Reuters", "", "Poland leaves treaty"},
		{"double colon", "", "", "", "Poland leaves treaty :: Delfi", "", "Poland leaves treaty"},
		{"guillemet", "", "", "", "Poland leaves treaty « Le Monde", "", "Poland leaves treaty"},
		{"section and site", "", "", "", "Poland leaves treaty | World | Reuters", "", "Poland leaves treaty"},
		{"site prefix", "", "", "", "Reuters | Poland leaves the Ottawa treaty", "Reuters", "Poland leaves the Ottawa treaty"},
		{"dash inside headline kept", "", "", "", "Estonia - and Latvia - leave the mine ban convention", "", "Estonia - and Latvia - leave the mine ban convention"},
		{"h1 confirmed by og", "Lithuania quits Ottawa treaty | LRT", "", "Lithuania quits Ottawa treaty", "Other", "LRT", "Lithuania quits Ottawa treaty"},
		{"og preferred over title", "Finland leaves", "", "Menu", "Finland leaves - Yle", "", "Finland leaves"},
		{"json-ld when no og", "", "Ukraine suspends treaty", "", "", "", "Ukraine suspends treaty"},
		{"h1 alone", "", "", "Only h1", "", "", "Only h1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chooseTitle(tt.og, tt.ld, tt.h1, tt.titleTag, tt.site); got != tt.want {
				t.Errorf("chooseTitle = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPublishedSources(t *testing.T) {
	const body = `<p>` + "Lorem ipsum dolor sit amet. " + `</p>`
	tests := []struct {
		name, page, url, wantFrom string
		want                      time.Time
	}{
		{"jsonld", `<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2025-03-18T10:00:00Z"}</script>` + body,
			"https://e.example/a", "jsonld", time.Date(2025, 3, 18, 10, 0, 0, 0, time.UTC)},
		{"meta og", `<meta property="article:published_time" content="2025-03-18T12:00:00+02:00">` + body,
			"https://e.example/a", "meta", time.Date(2025, 3, 18, 10, 0, 0, 0, time.UTC)},
		{"meta parsely", `<meta name="parsely-pub-date" content="2025-03-19T08:00:00Z">` + body,
			"https://e.example/a", "meta", time.Date(2025, 3, 19, 8, 0, 0, 0, time.UTC)},
		{"dc.date", `<meta name="DC.date" content="2025-03-20">` + body,
			"https://e.example/a", "meta", time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)},
		{"time pubdate", `<header><time datetime="2025-12-31">today</time></header><article><time datetime="2025-03-21T07:00:00Z" itemprop="datePublished">x</time>` + body + `</article>`,
			"https://e.example/a", "time", time.Date(2025, 3, 21, 7, 0, 0, 0, time.UTC)},
		{"url", body, "https://e.example/2025/03/22/story", "url", time.Date(2025, 3, 22, 0, 0, 0, 0, time.UTC)},
		{"future rejected", `<meta property="article:published_time" content="2030-01-01T00:00:00Z">` + body,
			"https://e.example/a", "", time.Time{}},
		{"too old rejected", `<meta property="article:published_time" content="1990-01-01T00:00:00Z">` + body,
			"https://e.example/a", "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := extractAt([]byte("<html><head></head><body>"+tt.page+"</body></html>"), tt.url, Options{}, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if p.PublishedFrom != tt.wantFrom || !p.Published.Equal(tt.want) {
				t.Errorf("got %v from %q, want %v from %q", p.Published, p.PublishedFrom, tt.want, tt.wantFrom)
			}
			if !p.Published.IsZero() && p.Published.Location() != time.UTC {
				t.Errorf("not UTC: %v", p.Published)
			}
		})
	}
}

func TestLanguage(t *testing.T) {
	long := strings.Repeat("Lithuania has decided to withdraw from the convention banning anti-personnel mines. ", 3)
	tests := []struct {
		name, page, hint, want string
	}{
		{"html lang", `<html lang="pl-PL"><body><p>` + long + `</p></body></html>`, "", "pl"},
		{"og locale", `<html><head><meta property="og:locale" content="fi_FI"></head><body><p>` + long + `</p></body></html>`, "", "fi"},
		{"content-language", `<html><head><meta http-equiv="Content-Language" content="lt"></head><body><p>` + long + `</p></body></html>`, "", "lt"},
		{"hint", `<html><body><p>` + long + `</p></body></html>`, "et", "et"},
		{"detected", `<html><body><p>` + long + `</p></body></html>`, "", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := extractAt([]byte(tt.page), "https://e.example/a", Options{Language: tt.hint}, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if p.Language != tt.want {
				t.Errorf("Language = %q, want %q", p.Language, tt.want)
			}
		})
	}
}

func TestDetectLanguage(t *testing.T) {
	tests := []struct{ text, want string }{
		{"Seimas ketvirtadienį balsavo už Lietuvos pasitraukimą iš Otavos konvencijos, draudžiančios priešpėstines minas.", "lt"},
		{"Wiceminister obrony narodowej zapowiedział, że Polska wznowi produkcję min przeciwpiechotnych po wystąpieniu z konwencji.", "pl"},
		{"Eduskunta hyväksyi torstaina Suomen eroamisen Ottawan sopimuksesta, joka kieltää jalkaväkimiinat.", "fi"},
		{"Верховна Рада України ухвалила рішення про вихід з Оттавської конвенції про заборону протипіхотних мін.", "uk"},
		{"The parliament voted on Thursday to withdraw from the convention banning anti-personnel landmines.", "en"},
		{"Mines", ""},
		{"", ""},
		{"12345 67890 !!!", ""},
	}
	for _, tt := range tests {
		t.Run(tt.want+":"+tt.text[:min(len(tt.text), 20)], func(t *testing.T) {
			if got := DetectLanguage(tt.text); got != tt.want {
				t.Errorf("DetectLanguage = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderTextParagraphs(t *testing.T) {
	p, err := extractAt([]byte(`<html><body><div id="x"><p>One  two</p><p>Three<br>four</p><ul><li>five</li><li>six</li></ul></div></body></html>`),
		"https://e.example/a", Options{Selectors: news.Selectors{Body: "#x"}}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := "One two\n\nThree\n\nfour\n\nfive\n\nsix"; p.Text != want {
		t.Errorf("Text = %q, want %q", p.Text, want)
	}
}

func TestExtractRobustness(t *testing.T) {
	deep := "<html><body>" + strings.Repeat("<div>", 100000) + "<p>Deep text about mines.</p>" + strings.Repeat("</div>", 100000) + "</body></html>"
	unclosed := "<html><body>" + strings.Repeat("<span><b><i>", 40000) + "mines" + "</body></html>"
	var big strings.Builder
	big.WriteString("<html><head><title>Big page</title></head><body><article>")
	for big.Len() < 10<<20 {
		big.WriteString("<p>Lithuania announced its withdrawal from the Ottawa Convention on anti-personnel mines, citing the threat from Russia.</p>\n")
	}
	big.WriteString("</article></body></html>")
	tests := []struct {
		name, page, wantText string
	}{
		{"deep nesting", deep, "Deep text about mines."},
		{"deep unclosed inline", unclosed, "mines"},
		{"10 MB page", big.String(), "Lithuania announced"},
		{"garbage", "\x00\xff<<<>>></p></div><html<", ""},
		{"no body", "<title>t</title>", ""},
		{"broken json-ld", `<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": </script><p>x</p>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Extract([]byte(tt.page), "https://e.example/a", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(p.Text, tt.wantText) {
				t.Errorf("Text %q does not contain %q", p.Text[:min(len(p.Text), 200)], tt.wantText)
			}
		})
	}
	if _, err := Extract(nil, "https://e.example/a", Options{}); !errors.Is(err, ErrEmptyPage) {
		t.Errorf("empty page: err = %v", err)
	}
}

func FuzzExtract(f *testing.F) {
	for _, name := range []string{"lt_article.html", "pl_jsonld.html", "tracking_ogurl.html", "listing.html"} {
		f.Add(readTestdata(f, name), "https://e.example/a")
	}
	f.Add([]byte("<html><body>"+strings.Repeat("<div>", 600)+"x"), "")
	f.Fuzz(func(t *testing.T, page []byte, pageURL string) {
		p, err := Extract(page, pageURL, Options{})
		if err != nil {
			return
		}
		if !p.Published.IsZero() && (p.Published.Before(minDate) || p.Published.Location() != time.UTC) {
			t.Fatalf("bad Published %v", p.Published)
		}
		if p.Language != "" && len(p.Language) != 2 {
			t.Fatalf("bad Language %q", p.Language)
		}
		if _, err := Links(page, "https://e.example/", ""); err != nil {
			t.Fatalf("Links: %v", err)
		}
	})
}

func FuzzSitemap(f *testing.F) {
	for _, name := range []string{"news_sitemap.xml", "sitemap_index.xml"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`<urlset><url><loc>https://a.example/</loc><lastmod>2025-01-01</lastmod></url>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		urls, _, _ := Sitemap(body)
		for _, u := range urls {
			if !strings.HasPrefix(u.Loc, "http://") && !strings.HasPrefix(u.Loc, "https://") {
				t.Fatalf("non-http loc %q", u.Loc)
			}
		}
	})
}

func gzipWriter(w *bytes.Buffer) *gzip.Writer { return gzip.NewWriter(w) }

// TestExtractConcurrent checks that Extract shares no mutable state, since the
// ingest stage runs it from several workers.
func TestExtractConcurrent(t *testing.T) {
	pages := [][]byte{readTestdata(t, "lt_article.html"), readTestdata(t, "pl_jsonld.html"), readTestdata(t, "tracking_ogurl.html")}
	want := make([]*Page, len(pages))
	for i, pg := range pages {
		p, err := extractAt(pg, "https://e.example/a", Options{}, fixedNow)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = p
	}
	errs := make(chan error, 4*len(pages))
	for range 4 {
		for i, pg := range pages {
			go func() {
				p, err := extractAt(pg, "https://e.example/a", Options{}, fixedNow)
				if err == nil && (p.Text != want[i].Text || p.Title != want[i].Title) {
					err = errors.New("concurrent extraction differs from sequential")
				}
				errs <- err
			}()
		}
	}
	for range 4 * len(pages) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestValidateSelectors(t *testing.T) {
	tests := []struct {
		name    string
		s       news.Selectors
		wantErr bool
	}{
		{"empty", news.Selectors{}, false},
		{"valid", news.Selectors{Links: "article h2 a", Title: "h1.headline", Body: "div.article-body p", Date: "time[datetime]"}, false},
		{"bad body", news.Selectors{Body: "div[["}, true},
		{"bad links", news.Selectors{Links: ">>"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSelectors(tt.s)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrBadSelector)) {
				t.Errorf("ValidateSelectors = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestBadSelectorFallsBack(t *testing.T) {
	page := readTestdata(t, "tracking_ogurl.html")
	p, err := extractAt(page, "https://e.example/a", Options{Selectors: news.Selectors{Body: "div[[", Title: "h9", Date: "#none"}}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Text, "Norway will remain a party") || p.Title != "Norway says it will stay in the mine ban treaty" || p.PublishedFrom != "time" {
		t.Errorf("fallback extraction failed: %q %q %q", p.Title, p.PublishedFrom, p.Text)
	}
}

func TestDropLeadingTitle(t *testing.T) {
	const title = "Greece completes destruction of stockpiled mines"
	const body = "ATHENS - Greece has finished destroying its stockpile of anti-personnel mines."
	tests := map[string]struct{ text, want string }{
		"title first":             {title + "\n\n" + body, body},
		"kicker above the title":  {"Europe\n\n" + title + "\n\n" + body, body},
		"two short lines above":   {"Europe\n\nBy Anna Nowak\n\n" + title + "\n\n" + body, body},
		"no title in the text":    {"Europe\n\n" + body, "Europe\n\n" + body},
		"title after a long para": {body + "\n\n" + title + "\n\nMore.", body + "\n\n" + title + "\n\nMore."},
		"only the title":          {title, title},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := dropLeadingTitle(tc.text, title); got != tc.want {
				t.Errorf("dropLeadingTitle = %q, want %q", got, tc.want)
			}
		})
	}
}

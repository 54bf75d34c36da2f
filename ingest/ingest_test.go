package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/news"
)

var testNow = time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)

// site serves testdata/site as a small news site and counts requests.
type site struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
	inm  []string // If-None-Match of each feed request
}

type route struct {
	file        string
	contentType string
	status      int
	gzipFile    bool
	redirect    string
}

var routes = map[string]route{
	"/feed.xml":               {file: "feed.xml", contentType: "application/rss+xml"},
	"/old-feed":               {redirect: "/feed.xml", status: http.StatusMovedPermanently},
	"/not-a-feed":             {file: "not-a-feed.html", contentType: "text/html"},
	"/news/seimas":            {file: "seimas.html", contentType: "text/html"},
	"/news/broken":            {status: http.StatusInternalServerError},
	"/news/known":             {file: "known.html", contentType: "text/html"},
	"/news/ru-page":           {file: "ru-page.html", contentType: "text/html; charset=windows-1251"},
	"/news/pl-page":           {file: "pl-page.html", contentType: "text/html"},
	"/news/en-page":           {file: "en-page.html", contentType: "text/html; charset=utf-8"},
	"/listing.html":           {file: "listing.html", contentType: "text/html; charset=utf-8"},
	"/sitemap-index.xml":      {file: "sitemap-index.xml", contentType: "application/xml"},
	"/sitemap-news.xml.gz":    {file: "sitemap-news.xml", contentType: "application/x-gzip", gzipFile: true},
	"/sitemap-2019.xml":       {file: "sitemap-2019.xml", contentType: "application/xml"},
	"/sitemap-broken.xml":     {status: http.StatusNotFound},
	"/sitemap-dead-index.xml": {file: "sitemap-dead-index.xml", contentType: "application/xml"},
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *site) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	if r.URL.Path == "/feed.xml" {
		s.inm = append(s.inm, r.Header.Get("If-None-Match"))
	}
	s.mu.Unlock()
	rt, ok := routes[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if rt.redirect != "" {
		http.Redirect(w, r, rt.redirect, rt.status)
		return
	}
	if rt.file == "" {
		w.WriteHeader(rt.status)
		return
	}
	if r.URL.Path == "/feed.xml" {
		w.Header().Set("ETag", `"feed-v1"`)
		w.Header().Set("Cache-Control", "max-age=300")
		if r.Header.Get("If-None-Match") == `"feed-v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	body, err := os.ReadFile(filepath.Join("testdata", "site", rt.file))
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	body = bytes.ReplaceAll(body, []byte("{{base}}"), []byte(s.URL))
	body = bytes.ReplaceAll(body, []byte("{{host}}"), []byte(strings.TrimPrefix(s.URL, "http://")))
	if rt.gzipFile {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
	}
	w.Header().Set("Content-Type", rt.contentType)
	w.Write(body)
}

func (s *site) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// knownSet is an index.URLChecker over a fixed set.
type knownSet map[string]bool

func (k knownSet) KnownURLs(_ context.Context, urls []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, u := range urls {
		if k[u] {
			out[u] = true
		}
	}
	return out, nil
}

type failingChecker struct{}

func (failingChecker) KnownURLs(context.Context, []string) (map[string]bool, error) {
	return nil, errors.New("index is closed")
}

func newIngester(t *testing.T, opts Options) *Ingester {
	t.Helper()
	f, err := fetch.New(fetch.Options{AllowPrivate: []string{"127.0.0.1"}, PerHostDelay: -1, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	opts.Fetcher = f
	in := New(opts)
	in.now = func() time.Time { return testNow }
	return in
}

func byURL(arts []news.Article) map[string]news.Article {
	m := map[string]news.Article{}
	for _, a := range arts {
		m[a.URL] = a
	}
	return m
}

func TestCollectFeed(t *testing.T) {
	s := newSite(t)
	in := newIngester(t, Options{})
	src := news.Source{ID: "lrt", Kind: news.KindFeed, URL: s.URL + "/feed.xml", FetchPages: true}
	known := knownSet{s.URL + "/news/known": true}

	res, err := in.Collect(context.Background(), src, news.SourceState{SourceID: "lrt"}, known)
	if err != nil {
		t.Fatal(err)
	}
	if res.NotModified || res.URL != "" {
		t.Errorf("NotModified = %v, URL = %q", res.NotModified, res.URL)
	}
	if res.Validators.ETag != `"feed-v1"` {
		t.Errorf("Validators = %+v", res.Validators)
	}
	if res.Items != 5 {
		t.Errorf("Items = %d, want 5", res.Items)
	}
	if want := testNow.Add(time.Hour); !res.NotBefore.Equal(want) {
		t.Errorf("NotBefore = %s, want %s (the feed's ttl beats max-age)", res.NotBefore, want)
	}
	if n := s.hitsOf("/news/known"); n != 0 {
		t.Errorf("known page fetched %d times", n)
	}
	if len(res.ItemErrors) != 2 {
		t.Errorf("ItemErrors = %v, want the link-less item and the broken page", res.ItemErrors)
	}
	arts := byURL(res.Articles)
	if len(arts) != 3 {
		t.Fatalf("got %d articles, want 3: %v", len(arts), res.Articles)
	}

	tests := []struct {
		url, canonical, title, textHas, lang, published, from string
	}{
		{
			url: s.URL + "/news/seimas", canonical: s.URL + "/news/2025/05/08/seimas",
			title:   "Seimas balsavo už pasitraukimą iš Otavos konvencijos",
			textHas: "107 balsais pritarė Lietuvos pasitraukimui iš Otavos konvencijos dėl priešpėstinių minų.",
			lang:    "lt", published: "2025-05-08T07:30:00Z", from: "feed",
		},
		{
			url: s.URL + "/news/broken", canonical: s.URL + "/news/broken",
			title:   "Lietuva deponavo denonsavimo dokumentą",
			textHas: "Dokumentas įteiktas JT generaliniam sekretoriui.\n\nPasitraukimas įsigalios gruodžio 27 d.",
			lang:    "lt", published: "2025-06-27T15:00:00Z", from: "feed",
		},
		{
			url: s.URL + "/news/ru-page", canonical: s.URL + "/news/ru-page",
			title:   "Rusijos žiniasklaida apie Lietuvą", // the feed's title beats the page's
			textHas: "Сейм Литвы проголосовал за выход из конвенции о запрете противопехотных мин.",
			lang:    "lt", // the feed's language wins over detection
		},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			a, ok := arts[tt.url]
			if !ok {
				t.Fatalf("no article for %s", tt.url)
			}
			if a.CanonicalURL != tt.canonical || a.ID != news.ArticleID(tt.canonical) {
				t.Errorf("CanonicalURL = %s (ID %s), want %s", a.CanonicalURL, a.ID, tt.canonical)
			}
			if a.Title != tt.title {
				t.Errorf("Title = %q, want %q", a.Title, tt.title)
			}
			if !strings.Contains(a.Text, tt.textHas) {
				t.Errorf("Text = %q, want it to contain %q", a.Text, tt.textHas)
			}
			if a.Language != tt.lang {
				t.Errorf("Language = %q, want %q", a.Language, tt.lang)
			}
			got := ""
			if !a.Published.IsZero() {
				got = a.Published.Format(time.RFC3339)
			}
			if got != tt.published || a.PublishedFrom != tt.from {
				t.Errorf("Published = %q from %q, want %q from %q", got, a.PublishedFrom, tt.published, tt.from)
			}
			if a.SourceID != "lrt" || !a.FirstSeen.Equal(testNow) {
				t.Errorf("SourceID = %q, FirstSeen = %s", a.SourceID, a.FirstSeen)
			}
		})
	}
	if a := arts[s.URL+"/news/broken"]; a.Summary != "Dokumentas įteiktas JT generaliniam sekretoriui." {
		t.Errorf("fallback Summary = %q", a.Summary)
	}

	t.Run("second collect is not modified", func(t *testing.T) {
		st := news.SourceState{SourceID: "lrt", Validators: res.Validators}
		res2, err := in.Collect(context.Background(), src, st, known)
		if err != nil {
			t.Fatal(err)
		}
		if !res2.NotModified || len(res2.Articles) != 0 || res2.Validators != res.Validators {
			t.Errorf("second result = %+v", res2)
		}
		if want := testNow.Add(5 * time.Minute); !res2.NotBefore.Equal(want) {
			t.Errorf("NotBefore = %s, want %s from max-age", res2.NotBefore, want)
		}
		s.mu.Lock()
		inm := append([]string(nil), s.inm...)
		s.mu.Unlock()
		if len(inm) != 2 || inm[0] != "" || inm[1] != `"feed-v1"` {
			t.Errorf("If-None-Match sent = %q", inm)
		}
	})
}

func TestCollectQueryWithoutPages(t *testing.T) {
	s := newSite(t)
	in := newIngester(t, Options{})
	src := news.Source{ID: "gnews", Kind: news.KindQuery, URL: s.URL + "/feed.xml", Language: "LT"}
	res, err := in.Collect(context.Background(), src, news.SourceState{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/news/seimas", "/news/broken", "/news/ru-page", "/news/known"} {
		if n := s.hitsOf(p); n != 0 {
			t.Errorf("%s fetched %d times although FetchPages is off", p, n)
		}
	}
	if len(res.Articles) != 4 {
		t.Fatalf("got %d articles, want 4", len(res.Articles))
	}
	a := byURL(res.Articles)[s.URL+"/news/seimas"]
	if a.Title != "Seimas balsavo už pasitraukimą iš Otavos konvencijos" ||
		a.Text != "Seimas pritarė pasitraukimui iš konvencijos dėl priešpėstinių minų." || a.Language != "lt" {
		t.Errorf("article = %+v", a)
	}
	if a.SiteName != "" {
		t.Errorf("SiteName = %q; a search feed's title is not the outlet", a.SiteName)
	}
}

func TestCollectListing(t *testing.T) {
	s := newSite(t)
	in := newIngester(t, Options{PageWorkers: 2})
	src := news.Source{ID: "list", Kind: news.KindListing, URL: s.URL + "/listing.html",
		Selectors: news.Selectors{Links: "a.story"}}
	res, err := in.Collect(context.Background(), src, news.SourceState{}, knownSet{})
	if err != nil {
		t.Fatal(err)
	}
	if s.hitsOf("/about") != 0 {
		t.Error("a link outside the selector was followed")
	}
	if n := s.hitsOf("/news/pl-page"); n != 1 {
		t.Errorf("pl-page fetched %d times, want once (tracking-parameter duplicate)", n)
	}
	if len(res.ItemErrors) != 1 {
		t.Errorf("ItemErrors = %v, want the missing page", res.ItemErrors)
	}
	arts := byURL(res.Articles)
	if len(arts) != 2 {
		t.Fatalf("got %d articles: %+v", len(arts), res.Articles)
	}
	pl := arts[s.URL+"/news/pl-page"]
	if pl.Title != "Polska wznowi produkcję min przeciwpiechotnych" ||
		!strings.Contains(pl.Text, "Sejm zagłosował za wypowiedzeniem konwencji ottawskiej") {
		t.Errorf("Polish page decoded wrongly: %q / %q", pl.Title, pl.Text)
	}
	if pl.CanonicalURL != pl.URL {
		t.Errorf("CanonicalURL = %s; a canonical on another host must be ignored", pl.CanonicalURL)
	}
	if pl.Language != "pl" {
		t.Errorf("pl Language = %q", pl.Language)
	}
	en := arts[s.URL+"/news/en-page"]
	if en.CanonicalURL != en.URL {
		t.Errorf("CanonicalURL = %s; a home-page canonical must be ignored", en.CanonicalURL)
	}
	if en.Language != "en" {
		t.Errorf("en Language = %q, want detection to say en", en.Language)
	}
}

func TestCollectSitemap(t *testing.T) {
	s := newSite(t)
	in := newIngester(t, Options{})
	src := news.Source{ID: "sm", Kind: news.KindSitemap, URL: s.URL + "/sitemap-index.xml"}
	res, err := in.Collect(context.Background(), src, news.SourceState{}, knownSet{s.URL + "/news/known": true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 3 {
		t.Errorf("Items = %d, want 3", res.Items)
	}
	if len(res.Articles) != 2 {
		t.Fatalf("got %d articles: %+v (errors %v)", len(res.Articles), res.Articles, res.ItemErrors)
	}
	// Newest first.
	if res.Articles[0].URL != s.URL+"/news/en-page" || res.Articles[1].URL != s.URL+"/news/seimas" {
		t.Errorf("order = %s, %s", res.Articles[0].URL, res.Articles[1].URL)
	}
	en := res.Articles[0]
	if en.Published.Format(time.RFC3339) != "2025-06-30T09:00:00Z" || en.PublishedFrom != "sitemap" || en.Language != "en" {
		t.Errorf("en = %s from %s, lang %s", en.Published, en.PublishedFrom, en.Language)
	}
	if s.hitsOf("/news/known") != 0 {
		t.Error("known page fetched")
	}
}

func TestCollectErrors(t *testing.T) {
	s := newSite(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	in := newIngester(t, Options{})

	tests := []struct {
		name  string
		src   news.Source
		known interface {
			KnownURLs(context.Context, []string) (map[string]bool, error)
		}
		wantClass string
		wantErr   error
	}{
		{name: "dead host", src: news.Source{ID: "dead", Kind: news.KindFeed, URL: deadURL + "/feed.xml"}, wantClass: "network"},
		{name: "not a feed", src: news.Source{ID: "html", Kind: news.KindFeed, URL: s.URL + "/not-a-feed"}, wantClass: "parse"},
		{name: "404", src: news.Source{ID: "gone", Kind: news.KindFeed, URL: s.URL + "/gone.xml"}, wantClass: "http"},
		{name: "sitemap index whose children all fail", src: news.Source{ID: "smx", Kind: news.KindSitemap, URL: s.URL + "/sitemap-dead-index.xml"}, wantClass: "http"},
		{name: "unknown kind", src: news.Source{ID: "x", Kind: "telegram", URL: s.URL}, wantErr: ErrUnknownKind},
		{name: "index down", src: news.Source{ID: "lrt", Kind: news.KindFeed, URL: s.URL + "/feed.xml"}, known: failingChecker{}, wantClass: "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var known = tt.known
			if known == nil {
				known = knownSet{}
			}
			_, err := in.Collect(context.Background(), tt.src, news.SourceState{}, known)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantClass != "" && fetch.Class(err) != tt.wantClass {
				t.Errorf("Class = %q, want %q (%v)", fetch.Class(err), tt.wantClass, err)
			}
			if !strings.Contains(err.Error(), tt.src.ID) {
				t.Errorf("error does not name the source: %v", err)
			}
		})
	}
	t.Run("other sources still work", func(t *testing.T) {
		res, err := in.Collect(context.Background(), news.Source{ID: "lrt", Kind: news.KindQuery, URL: s.URL + "/feed.xml"}, news.SourceState{}, nil)
		if err != nil || len(res.Articles) == 0 {
			t.Fatalf("err = %v, %d articles", err, len(res.Articles))
		}
	})
}

func TestCollectPermanentRedirect(t *testing.T) {
	s := newSite(t)
	in := newIngester(t, Options{})
	src := news.Source{ID: "lrt", Kind: news.KindQuery, URL: s.URL + "/old-feed"}
	res, err := in.Collect(context.Background(), src, news.SourceState{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.URL != s.URL+"/feed.xml" {
		t.Errorf("URL = %q, want the permanent target", res.URL)
	}
	// The state's URL is used from then on.
	before := s.hitsOf("/old-feed")
	if _, err := in.Collect(context.Background(), src, news.SourceState{URL: res.URL}, nil); err != nil {
		t.Fatal(err)
	}
	if s.hitsOf("/old-feed") != before {
		t.Error("the old URL was fetched although the state has the new one")
	}
}

func TestCollectMaxNewItems(t *testing.T) {
	s := newSite(t)
	in := newIngester(t, Options{MaxNewItems: 1})
	res, err := in.Collect(context.Background(), news.Source{ID: "lrt", Kind: news.KindQuery, URL: s.URL + "/feed.xml"}, news.SourceState{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Articles) != 1 || res.Articles[0].URL != s.URL+"/news/seimas" {
		t.Fatalf("articles = %+v", res.Articles)
	}
}

func TestCollectCancelled(t *testing.T) {
	s := newSite(t)
	in := newIngester(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := in.Collect(ctx, news.Source{ID: "lrt", Kind: news.KindFeed, URL: s.URL + "/feed.xml", FetchPages: true}, news.SourceState{}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// A hub pushes a feed body: its new items become articles with their pages,
// and a fetched feed that names a hub reports it for subscription.
func TestCollectPushedAndHub(t *testing.T) {
	s := newSite(t)
	in := newIngester(t, Options{})
	pushed := `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>Pushed</title><link>` + s.URL + `/</link>
<atom:link rel="hub" href="https://hub.example.org/"/>
<atom:link rel="self" href="` + s.URL + `/feed.xml"/>
<item><title>Seimas votes</title><link>` + s.URL + `/news/seimas</link><pubDate>Thu, 08 May 2025 10:00:00 GMT</pubDate></item>
</channel></rss>`
	src := news.Source{ID: "lt", Kind: news.KindFeed, URL: s.URL + "/feed.xml", FetchPages: true}
	res, err := in.CollectPushed(t.Context(), src, []byte(pushed), "application/rss+xml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Articles) != 1 || res.Articles[0].Text == "" {
		t.Fatalf("pushed articles = %+v, want one with its page text", res.Articles)
	}
	if s.hitsOf("/feed.xml") != 0 || s.hitsOf("/news/seimas") != 1 {
		t.Errorf("push fetched the feed %d times and the page %d times; want 0 and 1", s.hitsOf("/feed.xml"), s.hitsOf("/news/seimas"))
	}
	if res.Hub != "https://hub.example.org/" || res.Topic != src.URL {
		t.Errorf("hub %q topic %q, want the advertised hub and the feed URL", res.Hub, res.Topic)
	}
	if _, err := in.CollectPushed(t.Context(), news.Source{ID: "l", Kind: news.KindListing}, []byte(pushed), "", nil); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("push to a listing source: err = %v, want ErrUnknownKind", err)
	}
}

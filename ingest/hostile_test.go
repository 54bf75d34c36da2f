package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/minewatch/minewatch/ingest/feed"
	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/news"
)

// hostileSite is an allowlisted server (127.0.0.1) whose feeds and pages are
// hostile in the ways issue #8 lists, beside an internal server (127.0.0.2)
// that nothing may reach.
type hostileSite struct {
	*httptest.Server
	internal *httptest.Server
	mu       sync.Mutex
	hits     map[string]int // by path, on both servers
}

func (h *hostileSite) hit(path string) {
	h.mu.Lock()
	h.hits[path]++
	h.mu.Unlock()
}

func (h *hostileSite) hitsOf(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}

func (h *hostileSite) internalHits() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for p, k := range h.hits {
		if strings.HasPrefix(p, "internal:") {
			n += k
		}
	}
	return n
}

const goodPage = `<html lang="en"><head><title>%[1]s</title></head><body><article><h1>%[1]s</h1>
<p>The parliament voted on Tuesday to withdraw from the Ottawa Convention banning anti-personnel mines,
citing the security situation on the eastern border and the need to restore deterrence.</p>
<p>The withdrawal takes effect six months after the United Nations Secretary-General is notified.</p>
</article></body></html>`

func newHostileSite(t *testing.T) *hostileSite {
	t.Helper()
	h := &hostileSite{hits: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("cannot listen on 127.0.0.2: %v", err)
	}
	h.internal = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hit("internal:" + r.URL.Path)
		io.WriteString(w, "<html><body><p>internal secret</p></body></html>")
	}))
	h.internal.Listener.Close()
	h.internal.Listener = ln
	h.internal.Start()
	t.Cleanup(h.internal.Close)

	mux := http.NewServeMux()
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hit(r.URL.Path)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(h.Close)
	internalHost := strings.TrimPrefix(h.internal.URL, "http://")
	_, internalPort, _ := net.SplitHostPort(internalHost)
	fill := func(b []byte) []byte {
		b = bytes.ReplaceAll(b, []byte("{{base}}"), []byte(h.URL))
		b = bytes.ReplaceAll(b, []byte("{{internal}}"), []byte(internalHost))
		return bytes.ReplaceAll(b, []byte("{{internalport}}"), []byte(internalPort))
	}
	fixture := func(name, contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := os.ReadFile(filepath.Join("testdata", "hostile", name))
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.Header().Set("Content-Type", contentType)
			w.Write(fill(b))
		}
	}
	for _, name := range []string{"billion-laughs", "xxe", "unclosed", "invalid-utf8", "private-items"} {
		mux.HandleFunc("/feed/"+name+".xml", fixture(name+".xml", "application/rss+xml"))
	}
	mux.HandleFunc("/news/invalid-utf8", fixture("invalid-utf8.html", "text/html; charset=utf-8"))
	mux.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, goodPage, "Page "+strings.TrimPrefix(r.URL.Path, "/news/"))
	})
	mux.HandleFunc("/redirect-internal", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, h.internal.URL+"/secret-redirect", http.StatusFound)
	})
	mux.HandleFunc("/feed/100k.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		bw := &bytes.Buffer{}
		bw.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>`)
		for i := range 100_000 {
			fmt.Fprintf(bw, "<item><title>Item %d</title><link>%s/news/gen-%d</link></item>\n", i, h.URL, i)
		}
		bw.WriteString("</channel></rss>")
		w.Write(bw.Bytes())
	})
	mux.HandleFunc("/feed/huge-item.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title><item><title>%s</title><link>%s/news/huge-item</link><description>%s</description></item></channel></rss>`,
			strings.Repeat("Title ", 2000), h.URL, strings.Repeat("Poland will resume making mines. ", 100_000))
	})
	mux.HandleFunc("/feed/never-closes.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Open</title><item><title>One</title>`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/feed/bomb.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("Content-Encoding", "gzip")
		zeroBomb(w)
	})
	mux.HandleFunc("/feed/hostile-pages.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Pages</title>`)
		for _, p := range []string{"nested", "huge", "bomb", "good-1"} {
			fmt.Fprintf(w, `<item><title>Item %[1]s</title><link>%[2]s/page/%[1]s</link><description>Feed text of %[1]s.</description></item>`, p, h.URL)
		}
		io.WriteString(w, `</channel></rss>`)
	})
	mux.HandleFunc("/page/nested", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write(nestedHTML(100_000))
	})
	mux.HandleFunc("/page/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		p := []byte(strings.Repeat("<p>Ottawa Convention withdrawal debate continues. </p>\n", 1000))
		for sent := 0; sent < 50<<20; sent += len(p) {
			if _, err := w.Write(p); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/page/bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		zeroBomb(w)
	})
	mux.HandleFunc("/page/good-1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, goodPage, "Good page")
	})
	mux.HandleFunc("/listing-nested.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		var b bytes.Buffer
		b.WriteString(`<html><body><ul><li><a href="/news/listed-1">Lithuania leaves the CCM</a></li></ul>`)
		b.WriteString(strings.Repeat("<div>", 100_000))
		b.WriteString(`<a href="/news/deep">deep</a></body></html>`)
		w.Write(b.Bytes())
	})
	return h
}

// zeroBomb writes gzip members of 1 MB of zeros, up to 10 GB, until the
// client hangs up.
func zeroBomb(w io.Writer) {
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	for range 10 << 10 {
		if _, err := w.Write(member.Bytes()); err != nil {
			return
		}
	}
}

// nestedHTML is an article page whose text sits under depth nested <div>s.
func nestedHTML(depth int) []byte {
	var b bytes.Buffer
	b.WriteString(`<html><head><title>Nested</title></head><body>`)
	b.WriteString(strings.Repeat("<div>", depth))
	b.WriteString(`<p>Estonia's parliament approved leaving the Ottawa Convention by a large majority.</p>`)
	b.WriteString(strings.Repeat("</div>", depth))
	b.WriteString(`</body></html>`)
	return b.Bytes()
}

func newHostileIngester(t *testing.T, timeout time.Duration) *Ingester {
	t.Helper()
	f, err := fetch.New(fetch.Options{AllowPrivate: []string{"127.0.0.1"}, PerHostDelay: -1, Retries: -1,
		Timeout: timeout, MaxBodyBytes: 10 << 20, IgnoreRobots: true})
	if err != nil {
		t.Fatal(err)
	}
	in := New(Options{Fetcher: f})
	in.now = func() time.Time { return testNow }
	return in
}

// TestCollectPrivateItems: a feed on an allowed host lists items pointing at
// private addresses (directly, spelled oddly, through a redirect). Their page
// fetches are refused with the "private" class, the internal server hears
// nothing, and the feed's other items and texts are kept.
func TestCollectPrivateItems(t *testing.T) {
	h := newHostileSite(t)
	in := newHostileIngester(t, fetch.DefaultTimeout)
	src := news.Source{ID: "mixed", Kind: news.KindFeed, URL: h.URL + "/feed/private-items.xml", FetchPages: true}
	res, err := in.Collect(context.Background(), src, news.SourceState{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := h.internalHits(); n != 0 {
		t.Fatalf("the internal server got %d requests", n)
	}
	private := 0
	for _, e := range res.ItemErrors {
		if fetch.Class(e) == "private" {
			private++
		}
	}
	// metadata ×2, internal, decimal, 10/8, ::1, redirect, credentials.
	if private != 8 {
		t.Errorf("%d item errors of class private, want 8: %v", private, res.ItemErrors)
	}
	arts := byURL(res.Articles)
	good, ok := arts[h.URL+"/news/good"]
	if !ok || !strings.Contains(good.Text, "Ottawa Convention banning") {
		t.Fatalf("the good item lost its page: %+v", good)
	}
	if len(res.Articles) < 9 {
		t.Errorf("%d articles, want the good one and the refused ones with their feed text", len(res.Articles))
	}
	for _, a := range res.Articles {
		if strings.Contains(a.Text, "internal secret") {
			t.Errorf("%s carries the internal page's text", a.URL)
		}
		if a.URL != good.URL && !strings.HasSuffix(a.Text, ".") {
			t.Errorf("%s: text %q is not the feed's", a.URL, a.Text)
		}
	}
}

// TestCollectHostileFeeds runs each hostile feed or page through Collect.
// Each ends (Collect returns), with a clear error class for the source or
// with the damage confined to the item.
func TestCollectHostileFeeds(t *testing.T) {
	h := newHostileSite(t)
	in := newHostileIngester(t, fetch.DefaultTimeout)
	short := newHostileIngester(t, 300*time.Millisecond)

	tests := []struct {
		name      string
		src       news.Source
		in        *Ingester
		wantClass string // "" when the source must succeed
		check     func(t *testing.T, res Result)
	}{
		{name: "billion laughs", src: news.Source{Kind: news.KindFeed, URL: "/feed/billion-laughs.xml"},
			check: func(t *testing.T, res Result) {
				if len(res.Articles) != 1 {
					t.Fatalf("%d articles", len(res.Articles))
				}
				a := res.Articles[0]
				if strings.Contains(a.Title+a.Text, "lollol") || len(a.Title)+len(a.Text) > 1000 {
					t.Errorf("entities were expanded: title %q, text %d bytes", a.Title, len(a.Text))
				}
			}},
		{name: "external entities", src: news.Source{Kind: news.KindFeed, URL: "/feed/xxe.xml"},
			check: func(t *testing.T, res Result) {
				if len(res.Articles) != 1 {
					t.Fatalf("%d articles", len(res.Articles))
				}
				a := res.Articles[0]
				if strings.Contains(a.Title+a.Text+a.Summary, "root:") {
					t.Errorf("/etc/passwd was read into the article: %q", a.Title)
				}
				if h.hitsOf("/xxe-probe")+h.hitsOf("/xxe-dtd") != 0 {
					t.Error("an external entity or DTD was fetched")
				}
			}},
		{name: "unclosed XML", src: news.Source{Kind: news.KindFeed, URL: "/feed/unclosed.xml"}, wantClass: "parse"},
		{name: "XML that never closes", src: news.Source{Kind: news.KindFeed, URL: "/feed/never-closes.xml"},
			in: short, wantClass: "timeout"},
		{name: "gzip bomb feed", src: news.Source{Kind: news.KindFeed, URL: "/feed/bomb.xml"}, wantClass: "too_large"},
		{name: "100,000 items", src: news.Source{Kind: news.KindFeed, URL: "/feed/100k.xml"},
			check: func(t *testing.T, res Result) {
				if res.Items != 100_000 {
					t.Errorf("Items = %d, want the 100,000 listed", res.Items)
				}
				if len(res.Articles) != DefaultMaxNewItems {
					t.Errorf("%d articles, want MaxNewItems (%d)", len(res.Articles), DefaultMaxNewItems)
				}
			}},
		{name: "one huge item", src: news.Source{Kind: news.KindFeed, URL: "/feed/huge-item.xml"},
			check: func(t *testing.T, res Result) {
				if len(res.Articles) != 1 {
					t.Fatalf("%d articles", len(res.Articles))
				}
				a := res.Articles[0]
				if len(a.Text) > maxTextBytes || len(a.Title) > maxTitleBytes || len(a.Summary) > maxSummaryBytes {
					t.Errorf("caps not applied: title %d, summary %d, text %d bytes", len(a.Title), len(a.Summary), len(a.Text))
				}
				if !utf8.ValidString(a.Text) || !strings.HasPrefix(a.Text, "Poland will resume") {
					t.Errorf("text cut badly: %q…", a.Text[:min(40, len(a.Text))])
				}
			}},
		{name: "invalid UTF-8", src: news.Source{Kind: news.KindFeed, URL: "/feed/invalid-utf8.xml", FetchPages: true},
			check: func(t *testing.T, res Result) {
				if len(res.Articles) != 1 || len(res.ItemErrors) != 0 {
					t.Fatalf("%d articles, errors %v", len(res.Articles), res.ItemErrors)
				}
				a := res.Articles[0]
				for _, s := range []string{a.Title, a.Text, a.Summary, a.SiteName} {
					if !utf8.ValidString(s) {
						t.Errorf("not valid UTF-8: %q", s)
					}
				}
				if !strings.Contains(a.Text, "Convention on Cluster Munitions") {
					t.Errorf("page text lost: %q", a.Text)
				}
			}},
		{name: "hostile pages", src: news.Source{Kind: news.KindFeed, URL: "/feed/hostile-pages.xml", FetchPages: true},
			check: func(t *testing.T, res Result) {
				arts := byURL(res.Articles)
				if len(arts) != 4 {
					t.Fatalf("%d articles, want all 4 items kept", len(arts))
				}
				if a := arts[h.URL+"/page/nested"]; !strings.Contains(a.Text, "approved leaving the Ottawa Convention") {
					t.Errorf("nested page text = %q", a.Text)
				}
				for _, p := range []string{"huge", "bomb"} {
					if a := arts[h.URL+"/page/"+p]; a.Text != "Feed text of "+p+"." {
						t.Errorf("%s: text = %.60q, want the feed's", p, a.Text)
					}
				}
				tooLarge := 0
				for _, e := range res.ItemErrors {
					if fetch.Class(e) == "too_large" {
						tooLarge++
					}
				}
				if tooLarge != 2 {
					t.Errorf("%d too_large item errors, want 2: %v", tooLarge, res.ItemErrors)
				}
			}},
		{name: "deeply nested listing", src: news.Source{Kind: news.KindListing, URL: "/listing-nested.html"},
			check: func(t *testing.T, res Result) {
				if _, ok := byURL(res.Articles)[h.URL+"/news/listed-1"]; !ok {
					t.Errorf("the listed link was lost: %d articles", len(res.Articles))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src
			src.ID = strings.ReplaceAll(tt.name, " ", "-")
			src.URL = h.URL + src.URL
			ing := tt.in
			if ing == nil {
				ing = in
			}
			res, err := ing.Collect(context.Background(), src, news.SourceState{}, nil)
			if tt.wantClass != "" {
				if err == nil {
					t.Fatalf("no error; %d articles", len(res.Articles))
				}
				if got := fetch.Class(err); got != tt.wantClass {
					t.Errorf("Class = %q, want %q: %v", got, tt.wantClass, err)
				}
				if !strings.Contains(err.Error(), src.ID) {
					t.Errorf("error does not name the source: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, res)
		})
	}
	if n := h.internalHits(); n != 0 {
		t.Errorf("the internal server got %d requests", n)
	}
}

func TestFeedItemCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>`)
	for i := range feed.MaxItems + 5 {
		fmt.Fprintf(&b, "<item><title>Item %d</title><link>https://example.org/%d</link></item>", i, i)
	}
	b.WriteString("</channel></rss>")
	f, err := feed.Parse([]byte(b.String()), "https://example.org/feed")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Items) != feed.MaxItems || f.Dropped != 5 || f.Items[0].Title != "Item 0" {
		t.Errorf("%d items, %d dropped, first %q", len(f.Items), f.Dropped, f.Items[0].Title)
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"łódź", 1, ""},
		{"łódź", 2, "ł"},
		{"łódź", 3, "ł"},
		{"łódź", 4, "łó"},
		{"日本語", 4, "日"},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			if got := clip(tt.s, tt.n); got != tt.want {
				t.Errorf("clip(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
			}
		})
	}
}

package feed

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRSS(t *testing.T) {
	f, err := Parse(readTestdata(t, "rss_news.xml"), "https://www.lrt.lt/rss")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"title", f.Title, "LRT & naujienos"},
		{"link resolved", f.Link, "https://www.lrt.lt/naujienos"},
		{"language", f.Language, "lt"},
		{"ttl", f.TTL, 15 * time.Minute},
		{"hub", f.Hub, "https://pubsubhubbub.appspot.com/"},
		{"items", len(f.Items), 4},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %#v, want %#v", c.got, c.want)
			}
		})
	}

	wantItems := []Item{
		{
			GUID:      "lrt-1",
			URL:       "https://www.lrt.lt/naujienos/lietuvoje/2/1",
			Title:     "Lietuva traukiasi iš Otavos konvencijos",
			Summary:   "Seimas balsavo už pasitraukimą. Sprendimas įsigalios po šešių mėnesių.",
			Language:  "lt",
			Authors:   []string{"Jonas Jonaitis"},
			Published: time.Date(2025, 6, 26, 7, 15, 0, 0, time.UTC),
		},
		{
			GUID:     "https://www.lrt.lt/naujienos/2",
			URL:      "https://www.lrt.lt/naujienos/2",
			Title:    "Guid permalink only",
			Summary:  "Fish & chips – no markup here",
			Language: "lt",
		},
		{
			GUID:      "https://www.lrt.lt/naujienos/3",
			Title:     "Guid not a permalink",
			Language:  "lt",
			Published: time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC),
		},
		{Title: "Bad link", Language: "lt"},
	}
	for i, want := range wantItems {
		t.Run("item "+want.Title, func(t *testing.T) {
			got := f.Items[i]
			if !reflect.DeepEqual(got, want) {
				t.Errorf("item %d:\n got %#v\nwant %#v", i, got, want)
			}
			if got.Published.Location() != time.UTC {
				t.Errorf("Published not in UTC: %v", got.Published.Location())
			}
		})
	}
}

func TestParseAtom(t *testing.T) {
	f, err := Parse(readTestdata(t, "atom_hub.xml"), "https://zbrojna.example/atom")
	if err != nil {
		t.Fatal(err)
	}
	if f.Title != "Polska Zbrojna" || f.Hub != "https://hub.example/websub" || f.Link != "https://zbrojna.example/" {
		t.Errorf("feed = %q %q %q", f.Title, f.Hub, f.Link)
	}
	if len(f.Items) != 2 {
		t.Fatalf("got %d items", len(f.Items))
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"url resolved", f.Items[0].URL, "https://zbrojna.example/artykul/1?utm_source=atom"},
		{"published preferred", f.Items[0].Published, time.Date(2025, 3, 18, 10, 0, 0, 0, time.UTC)},
		{"authors", f.Items[0].Authors, []string{"Anna Nowak", "Jan Kowalski"}},
		{"content keeps html", strings.Contains(f.Items[0].Content, "<b>wznowienie</b>"), true},
		{"summary from content", f.Items[0].Summary, "Minister obrony ogłosił wznowienie produkcji."},
		{"updated fallback", f.Items[1].Published, time.Date(2025, 3, 19, 8, 30, 0, 0, time.UTC)},
		{"summary", f.Items[1].Summary, "Krótko."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestParseJSONFeed(t *testing.T) {
	f, err := Parse(readTestdata(t, "json_feed.json"), "https://yle.example/feed.json")
	if err != nil {
		t.Fatal(err)
	}
	if f.Title != "Yle Uutiset" || f.Language != "fi" || len(f.Items) != 2 {
		t.Fatalf("feed = %+v", f)
	}
	it := f.Items[0]
	if it.URL != "https://yle.example/a/74-2001" || it.Summary != "Eduskunta hyväksyi eron." ||
		!it.Published.Equal(time.Date(2025, 6, 19, 6, 0, 0, 0, time.UTC)) || !reflect.DeepEqual(it.Authors, []string{"Toimittaja"}) {
		t.Errorf("item 0 = %+v", it)
	}
	if f.Items[1].URL != "" {
		t.Errorf("non-URL id became URL %q", f.Items[1].URL)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name       string
		body       []byte
		notFeed    bool
		wantSubstr string
	}{
		{"html page", readTestdata(t, "html_page.html"), true, "HTML page"},
		{"empty", nil, true, "empty body"},
		{"whitespace", []byte(" \n\t "), true, "empty body"},
		{"plain text", []byte("hello world"), true, "neither XML nor JSON"},
		{"sitemap", readTestdata(t, "unknown_root.xml"), true, "<urlset>"},
		{"json array", []byte(`[1,2]`), true, "JSON"},
		{"broken xml", readTestdata(t, "broken.xml"), false, "parse RSS feed"},
		{"broken json", []byte(`{"version": "https://jsonfeed.org/version/1", "items": [`), false, "parse JSON feed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.body, "https://example.com/feed")
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", f)
			}
			if got := errors.Is(err, ErrNotFeed); got != tt.notFeed {
				t.Errorf("errors.Is(ErrNotFeed) = %v, want %v (err: %v)", got, tt.notFeed, err)
			}
			if !strings.Contains(err.Error(), tt.wantSubstr) || !strings.Contains(err.Error(), "https://example.com/feed") {
				t.Errorf("error %q should contain %q and the feed URL", err, tt.wantSubstr)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Plain   title\n", "Plain title"},
		{"<p>One</p><p>Two</p>", "One Two"},
		{"A &amp; B &lt;3", "A & B <3"},
		{"Fish & chips", "Fish & chips"},
		{"x<script>alert(1)</script>y", "xy"},
		{"Ukraine&#8217;s\u00a0mines", "Ukraine’s mines"},
		{"<b>bold</b>text", "boldtext"},
		{"line<br>break", "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := plainText(tt.in); got != tt.want {
				t.Errorf("plainText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormLang(t *testing.T) {
	for in, want := range map[string]string{"en-US": "en", "pl_PL": "pl", "FI": "fi", "": "", "english": "", "e1": "", "lit": "lit"} {
		t.Run(in, func(t *testing.T) {
			if got := normLang(in); got != want {
				t.Errorf("normLang(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestParseTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{"60": time.Hour, " 5 ": 5 * time.Minute, "": 0, "-1": 0, "abc": 0, "99999999": maxTTL} {
		t.Run(in, func(t *testing.T) {
			if got := parseTTL(in); got != want {
				t.Errorf("parseTTL(%q) = %v, want %v", in, got, want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"rss_news.xml", "atom_hub.xml", "json_feed.json", "broken.xml", "html_page.html"} {
		f.Add(readTestdata(f, name), "https://example.com/feed")
	}
	f.Fuzz(func(t *testing.T, body []byte, feedURL string) {
		fd, err := Parse(body, feedURL)
		if err != nil {
			if fd != nil {
				t.Fatal("non-nil feed with error")
			}
			if errors.Is(err, ErrParserPanic) {
				t.Fatalf("parser panicked: %v", err)
			}
			return
		}
		for _, it := range fd.Items {
			if it.URL != "" && !strings.HasPrefix(it.URL, "http://") && !strings.HasPrefix(it.URL, "https://") {
				t.Fatalf("item URL %q is not http(s)", it.URL)
			}
			if !it.Published.IsZero() && it.Published.Location() != time.UTC {
				t.Fatalf("Published %v not UTC", it.Published)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	body := readTestdata(b, "atom_hub.xml")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Parse(body, "https://zbrojna.example/atom"); err != nil {
			b.Fatal(err)
		}
	}
}

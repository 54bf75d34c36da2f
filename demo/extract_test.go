package demo

import (
	"bytes"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	trafilatura "github.com/markusmobius/go-trafilatura"
	"golang.org/x/text/encoding/charmap"
)

// TestPagesExtractCleanly checks that the boilerplate around each article is
// realistic but beatable: the extractor the pipeline uses gets the whole body
// and its metadata, and none of the related headlines.
func TestPagesExtractCleanly(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	s := testSite(t)
	for _, e := range Expected() {
		a := s.byPath[e.Path]
		t.Run(e.Path, func(t *testing.T) {
			body := mustOK(t, srv.Client(), srv.URL+e.Path)
			if a.Charset == charsetWindows1257 {
				// Decoding is ingest's job; the extractor wants UTF-8.
				var err error
				if body, err = charmap.Windows1257.NewDecoder().Bytes(body); err != nil {
					t.Fatalf("decode: %v", err)
				}
			}
			u, err := url.Parse(srv.URL + e.Path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := trafilatura.Extract(bytes.NewReader(body), trafilatura.Options{OriginalURL: u, EnableFallback: true})
			if err != nil {
				t.Fatalf("extract: %v", err)
			}
			text := strings.Join(strings.Fields(res.ContentText), " ")
			for _, p := range a.Paragraphs {
				if !strings.Contains(text, p) {
					t.Errorf("text lacks paragraph %q", p)
				}
			}
			for _, r := range s.public(a.outlet) {
				if r != a && strings.Contains(text, r.Title) {
					t.Errorf("text keeps the related headline %q", r.Title)
				}
			}
			for _, boiler := range []string{a.outlet.Cookie, a.outlet.Newsletter, a.outlet.Footer} {
				if strings.Contains(text, boiler) {
					t.Errorf("text keeps boilerplate %q", boiler)
				}
			}
			if res.Metadata.Title != a.Title {
				t.Errorf("title %q, want %q", res.Metadata.Title, a.Title)
			}
			if got, want := res.Metadata.Date.Format("2006-01-02"), a.Published.Format("2006-01-02"); got != want {
				t.Errorf("date %s, want %s", got, want)
			}
			if res.Metadata.Author != a.Author {
				t.Errorf("author %q, want %q", res.Metadata.Author, a.Author)
			}
		})
	}
}

package web

import (
	"bufio"
	"encoding/json"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/minewatch/minewatch/news"
)

func TestParsePagesFailsFast(t *testing.T) {
	good := fstest.MapFS{
		"templates/layout.html":  {Data: []byte(`{{template "content" .}}`)},
		"templates/search.html":  {Data: []byte(`{{define "content"}}s{{end}}`)},
		"templates/article.html": {Data: []byte(`{{define "content"}}a{{end}}`)},
		"templates/sources.html": {Data: []byte(`{{define "content"}}src{{end}}`)},
		"templates/error.html":   {Data: []byte(`{{define "content"}}e{{end}}`)},
		"templates/events.html":  {Data: []byte(`{{define "content"}}ev{{end}}`)},
		"templates/country.html": {Data: []byte(`{{define "content"}}c{{end}}`)},
		"templates/parts.html":   {Data: []byte(`{{define "chart"}}{{end}}`)},
		"templates/login.html":   {Data: []byte(`{{define "content"}}l{{end}}`)},
		"templates/admin.html":   {Data: []byte(`{{define "content"}}ad{{end}}`)},
	}
	tests := []struct {
		name    string
		file    string
		content string
		wantErr bool
	}{
		{"all good", "", "", false},
		{"unclosed action", "templates/article.html", `{{define "content"}}{{.Title{{end}}`, true},
		{"unknown function", "templates/search.html", `{{define "content"}}{{nosuchfunc .}}{{end}}`, true},
		{"missing page", "templates/error.html", "", true},
		{"missing partials", "templates/parts.html", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for k, v := range good {
				fsys[k] = v
			}
			if tt.file != "" {
				if tt.content == "" {
					delete(fsys, tt.file)
				} else {
					fsys[tt.file] = &fstest.MapFile{Data: []byte(tt.content)}
				}
			}
			_, err := parsePages(fsys, "tag")
			if (err != nil) != tt.wantErr {
				t.Fatalf("parsePages err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

// sharedDir finds ../shared next to the repository root (the directory with
// go.mod), as the project's tests agree to.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the package; cannot locate ../shared")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("shared data not found at %s: %v", shared, err)
	}
	return shared
}

// TestArticlePageDevSet renders every item of the labelled dev set (ten
// languages, many scripts) and checks each title comes out escaped and whole.
func TestArticlePageDevSet(t *testing.T) {
	path := filepath.Join(sharedDir(t), "eval", "dev.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("dev set not available: %v", err)
	}
	defer f.Close()
	ts := newTestServer(t, nil)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	n := 0
	for sc.Scan() {
		var item struct {
			ID, Language, Title, Text string
		}
		if err := json.Unmarshal(sc.Bytes(), &item); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		doc := news.Document{Article: news.Article{ID: item.ID, Title: item.Title, Text: item.Text, Language: item.Language}}
		// A span over the first word exercises the highlighter on every script.
		if i := strings.IndexByte(item.Text, ' '); i > 0 {
			doc.Classification.Entities = []news.Entity{{Country: "PL", EvidenceAt: news.Span{Field: news.FieldText, Start: 0, End: i}}}
		}
		ts.search.docs[item.ID] = doc
		r := ts.get(t, "/articles/"+item.ID)
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d", item.ID, r.status)
		}
		if !strings.Contains(r.body, html.EscapeString(item.Title)) {
			t.Errorf("%s: title %q not rendered escaped", item.ID, item.Title)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("dev set is empty")
	}
}

// FuzzArticlePage renders documents with hostile titles, texts and spans and
// checks no markup from the document survives unescaped.
func FuzzArticlePage(f *testing.F) {
	f.Add(`<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`, 0, 5, "javascript:alert(1)")
	f.Add("Łotwa <b>wychodzi</b>", "Sejm <iframe src=//evil>", 3, 99, "https://example.com/?a=<x>")
	f.Add("", "", -4, 2, "")
	// A discard logger: the fuzzer makes many thousands of requests.
	ts := newTestServer(f, func(o *Options) { o.Logger = nil })
	f.Fuzz(func(t *testing.T, title, text string, start, end int, link string) {
		ts.search.docs["x"] = news.Document{
			Article: news.Article{ID: "x", Title: title, Text: text, URL: link, CanonicalURL: link, Summary: text},
			Classification: news.Classification{
				Topics: []news.TopicScore{{Topic: title, Matches: []news.RuleMatch{{RuleID: text, Hits: []news.TermHit{
					{Term: title, Span: news.Span{Field: news.FieldTitle, Start: start, End: end}},
					{Term: text, Span: news.Span{Field: news.FieldText, Start: end, End: start + end}},
				}}}}},
				Entities: []news.Entity{{Country: title, CountryName: text, Evidence: text,
					EvidenceAt: news.Span{Field: news.FieldText, Start: start, End: end}}},
			},
		}
		r := ts.get(t, "/articles/x")
		if r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
		lower := strings.ToLower(r.body)
		for _, bad := range []string{"<script", "<img", "<iframe", "<svg", `href="javascript:`} {
			if strings.Contains(lower, bad) {
				t.Fatalf("page contains %q", bad)
			}
		}
	})
}

package disk

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/minewatch/minewatch/news"
)

// TestKnownURLsOddURLs checks that URLs survive the JSON list KnownURLs
// sends to SQLite: characters JSON escapes, non-ASCII, and a long list.
func TestKnownURLsOddURLs(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	odd := []string{
		`https://example.org/a?q="quoted"&x=<tag>`,
		`https://example.org/back\slash`,
		"https://example.org/łódź/Lietuvą",
		"https://example.org/emoji/\U0001F4A3",
		"https://example.org/ctl/\u2028",
	}
	var docs []news.Document
	for i, u := range odd {
		canon := fmt.Sprintf("https://canonical.example/%d", i)
		docs = append(docs, news.Document{Article: news.Article{ID: news.ArticleID(u), URL: u, CanonicalURL: canon}})
	}
	if _, err := s.Put(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	ask := append([]string{}, odd...)
	ask = append(ask, "https://canonical.example/3", "https://example.org/a?q=", "")
	for i := range 1000 {
		ask = append(ask, fmt.Sprintf("https://unknown.example/%d", i))
	}
	got, err := s.KnownURLs(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ask) {
		t.Fatalf("%d answers for %d URLs", len(got), len(ask))
	}
	for i, u := range ask {
		want := i <= len(odd) // the odd URLs and one canonical URL
		if got[u] != want {
			t.Errorf("known[%q] = %v, want %v", u, got[u], want)
		}
	}
	if got, err := s.KnownURLs(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no URLs: %v, %v", got, err)
	}
}

// TestKnownURLsUsesIndexes keeps KnownURLs two index probes per URL: a plan
// that scans article_bodies would cost a table scan per feed.
func TestKnownURLsUsesIndexes(t *testing.T) {
	s := openTemp(t)
	rows, err := s.reader.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+knownURLsSQL, `["u"]`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	all := strings.Join(plan, "\n")
	for _, want := range []string{"INDEX article_bodies_url (url=?)", "INDEX article_bodies_canonical_url (canonical_url=?)"} {
		if !strings.Contains(all, want) {
			t.Errorf("plan lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "SCAN article_bodies") {
		t.Errorf("plan scans article_bodies:\n%s", all)
	}
}

// TestPutWithoutWords stores articles with no words at all: the batch's word
// list is empty, and nothing is added to fts_terms.
func TestPutWithoutWords(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	d := news.Document{Article: news.Article{ID: "empty", URL: "https://example.org/empty", Title: "—", Text: "…"}}
	if res, err := s.Put(ctx, d); err != nil || res.Indexed != 1 {
		t.Fatalf("Put = %+v, %v", res, err)
	}
	var n int
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM fts_terms`).Scan(&n); err != nil || n != 0 {
		t.Errorf("fts_terms has %d rows (%v), want 0", n, err)
	}
}

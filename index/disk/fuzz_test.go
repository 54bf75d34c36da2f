package disk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/indextest"
	"github.com/minewatch/minewatch/news"
)

// FuzzSearch feeds arbitrary query text through parse, translation and
// SQLite: the only acceptable failure is ErrBadQuery; an FTS5 or SQL error
// would mean the translator produced something invalid.
func FuzzSearch(f *testing.F) {
	for _, seed := range []string{
		"ottawa", `"anti-personnel mines"`, "konwenc*", `"humanitarian demin*"`, "ottawa NOT finland",
		"NOT ottawa", "finland OR NOT ottawa", "NOT (ottawa OR mine) AND NOT x", "cut NEAR/4 demining",
		"(cut OR raised) NEAR/s title:demining", "title:(a OR b) text:c", "title:a NEAR/2 text:b",
		"оттавськ*", `"NEAR" AND OR`, `a"b`, "((((a))))", "-", "*", "a AND (", "\x00", "Liepāja",
		"NOT NOT NOT a", "a OR (b AND NOT (c OR NOT d))",
	} {
		f.Add(seed)
	}
	s, err := Open(context.Background(), Options{Dir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	var docs []news.Document
	for _, d := range indextest.Fixtures() {
		docs = append(docs, d)
	}
	if _, err := s.Put(context.Background(), docs...); err != nil {
		f.Fatal(err)
	}
	// The median date splits the fixtures for the date-window check.
	var dates []time.Time
	for _, d := range docs {
		dates = append(dates, sortDate(d))
	}
	slices.SortFunc(dates, time.Time.Compare)
	since := dates[len(dates)/2]
	f.Fuzz(func(t *testing.T, text string) {
		h, err := s.Search(context.Background(), index.Query{Text: text, Facets: true, Limit: 3})
		if err != nil {
			if !errors.Is(err, index.ErrBadQuery) {
				t.Fatalf("Search(%q): %v (want nil or ErrBadQuery)", text, err)
			}
			return
		}
		if h.Total < len(h.Docs) || h.Total > len(docs) {
			t.Fatalf("Search(%q): Total %d with %d docs", text, h.Total, len(h.Docs))
		}
		// Filters join the text in one FTS expression: it must stay valid,
		// and can only narrow the matches.
		f, err := s.Search(context.Background(), index.Query{Text: text, Languages: []string{"en", "pl"},
			Topics: []string{news.TopicTreatyWithdrawal}, RelevantOnly: true, Facets: true, Histogram: true})
		if err != nil {
			t.Fatalf("Search(%q) with filters: %v", text, err)
		}
		if f.Total > h.Total {
			t.Fatalf("Search(%q): filters widened %d matches to %d", text, h.Total, f.Total)
		}
		// A date window also bounds the FTS scan by rowid (windowRIDs); it
		// must keep exactly the matches inside the window, in both sorts.
		all, err := s.Search(context.Background(), index.Query{Text: text, Limit: maxLimit})
		if err != nil {
			t.Fatalf("Search(%q) unlimited: %v", text, err)
		}
		var want []string
		for _, hit := range all.Docs {
			if !sortDate(hit.Document).Before(since) {
				want = append(want, hit.ID)
			}
		}
		slices.Sort(want)
		for _, sort := range []index.Sort{index.SortDate, index.SortRelevance} {
			w, err := s.Search(context.Background(), index.Query{Text: text, Since: since, Sort: sort, Limit: maxLimit})
			if err != nil {
				t.Fatalf("Search(%q) since %s by %s: %v", text, since, sort, err)
			}
			var got []string
			for _, hit := range w.Docs {
				got = append(got, hit.ID)
			}
			slices.Sort(got)
			if w.Total != len(want) || !slices.Equal(got, want) {
				t.Fatalf("Search(%q) since %s by %s: Total %d, %v; want %v", text, since, sort, w.Total, got, want)
			}
		}
		// Prefix words expanded through fts_terms find what FTS5's own
		// prefix search finds.
		q := index.Query{Text: text, Sort: index.SortDate, Limit: maxLimit}
		if ex, fts := searchExpanding(t, s, q, true), searchExpanding(t, s, q, false); !slices.Equal(hitIDs(ex), hitIDs(fts)) {
			t.Fatalf("Search(%q): expanded prefixes find %v, FTS5 prefix search %v", text, hitIDs(ex), hitIDs(fts))
		}
	})
}

// sortDate is the date Query.Since compares: Published, else FirstSeen.
func sortDate(d news.Document) time.Time {
	if !d.Published.IsZero() {
		return d.Published
	}
	return d.FirstSeen
}

// FuzzCursor checks that any cursor string is either refused with
// ErrBadQuery or decodes to one that re-encodes to itself.
func FuzzCursor(f *testing.F) {
	f.Add(cursor{Sort: "date", FP: 42, Date: 1700000000000000000, RID: 7}.encode())
	f.Add(cursor{Sort: "relevance", FP: 1, Offset: 20}.encode())
	f.Add("")
	f.Add("not a cursor!")
	f.Add("eyJzIjoiZGF0ZSIsIm8iOi0xfQ") // {"s":"date","o":-1}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			if !errors.Is(err, index.ErrBadQuery) {
				t.Fatalf("decodeCursor(%q): %v", s, err)
			}
			return
		}
		again, err := decodeCursor(c.encode())
		if err != nil || again != c {
			t.Fatalf("cursor %+v does not round-trip: %+v, %v", c, again, err)
		}
	})
}

// FuzzFilters feeds arbitrary filter values, as the web API passes them on,
// through the meta tokens: no value may break the FTS expression, and a
// document's own values always find it.
func FuzzFilters(f *testing.F) {
	for _, seed := range [][2]string{
		{"treaty_withdrawal", "PL"}, {"", ""}, {`"`, "*"}, {"a b", "NEAR"}, {"\x1f\x1e", "\x00"},
		{"ЗСУ", "ŁOTWA"}, {"AND", "OR"}, {"{title}", ":"}, {"\uE002t", "\uE001"},
	} {
		f.Add(seed[0], seed[1])
	}
	s, err := Open(context.Background(), Options{Dir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	n := 0
	f.Fuzz(func(t *testing.T, topic, country string) {
		n++
		id := fmt.Sprint("doc-", n)
		d := news.Document{Article: news.Article{ID: id, SourceID: topic, Language: country, Title: "fuzz"}}
		d.Classification.Topics = []news.TopicScore{{Topic: topic, Score: 1}}
		d.Classification.Entities = []news.Entity{{Country: country, Action: news.Action(topic), Treaty: news.Treaty(country)}}
		res, err := s.Put(context.Background(), d)
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		stored := res.Failed[id] == nil
		if !stored && !errors.Is(res.Failed[id], ErrBadIdentifier) {
			t.Fatalf("Put failed: %v", res.Failed[id])
		}
		q := index.Query{Text: "fuzz", Topics: []string{topic}, Countries: []string{country}, Sources: []string{topic},
			Languages: []string{country}, Actions: []news.Action{news.Action(topic)}, Treaties: []news.Treaty{news.Treaty(country)},
			Facets: true, Histogram: true, Limit: 1000}
		h, err := s.Search(context.Background(), q)
		if err != nil {
			t.Fatalf("Search(%q, %q): %v", topic, country, err)
		}
		found := false
		for _, hit := range h.Docs {
			found = found || hit.ID == id
		}
		if stored && !found {
			t.Fatalf("document with topic %q, country %q not found by its own values", topic, country)
		}
	})
}

package disk

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// windowDocs are stored in an order unrelated to their dates (a backfill),
// so rids do not follow dates and a rowid bound taken from the wrong rows
// would lose matches.
type windowDoc struct {
	doc      news.Document
	mine     bool // the text has "mine"
	ottawa   bool // the text has "ottawa"
	relevant bool
	country  string
}

var windowBase = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func windowDocs(n int) []windowDoc {
	out := make([]windowDoc, n)
	for i := range out {
		w := windowDoc{mine: i%3 != 0, ottawa: i%2 == 0, relevant: i%4 != 0, country: "FI"}
		if i%5 == 0 {
			w.country = "PL"
		}
		text := "a report from the border"
		if w.mine {
			text += " about a mine"
		}
		if w.ottawa {
			text += " and the Ottawa treaty"
		}
		u := fmt.Sprintf("https://window.example/%d", i)
		d := news.Document{Article: news.Article{
			ID: news.ArticleID(u), URL: u, CanonicalURL: u, SourceID: "window", Language: "en",
			Title: fmt.Sprintf("Report %d", i), Text: text,
			// 37 is coprime with n in the tests: every hour is used once,
			// scattered over the insertion order.
			Published: windowBase.Add(time.Duration(i*37%n) * time.Hour),
		}}
		d.FirstSeen = d.Published
		d.Classification.Relevant = w.relevant
		if w.relevant {
			d.Classification.Topics = []news.TopicScore{{Topic: news.TopicTreatyWithdrawal, Score: 1}}
			d.Classification.Entities = []news.Entity{{Country: w.country, Action: news.Actions[0], Treaty: news.TreatyOttawa}}
		}
		w.doc = d
		out[i] = w
	}
	return out
}

// TestSearchDateWindow checks that bounding the FTS scan by the window's
// rids, skipping bm25 under the date sort and testing relevance on the row
// keep exactly the matches a plain filter over all documents finds.
func TestSearchDateWindow(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	const n = 101
	all := windowDocs(n)
	docs := make([]news.Document, n)
	for i, w := range all {
		docs[i] = w.doc
	}
	// Several Puts, so the FTS index has several segments, as a live one does.
	for i := 0; i < n; i += 30 {
		if _, err := s.Put(ctx, docs[i:min(i+30, n)]...); err != nil {
			t.Fatal(err)
		}
	}
	hour := func(h int) time.Time { return windowBase.Add(time.Duration(h) * time.Hour) }
	tests := []struct {
		name      string
		q         index.Query
		want      func(w windowDoc) bool
		sinceHour int // -1: open
		untilHour int // -1: open
	}{
		{"word, window", index.Query{Text: "mine"}, func(w windowDoc) bool { return w.mine }, 10, 40},
		{"word, since only", index.Query{Text: "mine"}, func(w windowDoc) bool { return w.mine }, 90, -1},
		{"word, until only", index.Query{Text: "ottawa"}, func(w windowDoc) bool { return w.ottawa }, -1, 7},
		{"word, empty window", index.Query{Text: "mine"}, func(w windowDoc) bool { return w.mine }, 500, 600},
		{"word, one hour", index.Query{Text: "mine OR ottawa"}, func(w windowDoc) bool { return w.mine || w.ottawa }, 50, 51},
		{"word, all", index.Query{Text: "mine"}, func(w windowDoc) bool { return w.mine }, -1, -1},
		{"word, country, relevant, window", index.Query{Text: "mine", Countries: []string{"PL"}, RelevantOnly: true},
			func(w windowDoc) bool { return w.mine && w.relevant && w.country == "PL" }, 5, 95},
		{"relevant only, window", index.Query{Text: "ottawa", RelevantOnly: true},
			func(w windowDoc) bool { return w.ottawa && w.relevant }, 20, 80},
		{"NOT, window", index.Query{Text: "ottawa NOT mine"}, func(w windowDoc) bool { return w.ottawa && !w.mine }, 0, 60},
		{"no text, relevant, window", index.Query{RelevantOnly: true}, func(w windowDoc) bool { return w.relevant }, 30, 70},
	}
	for _, tt := range tests {
		for _, sort := range []index.Sort{index.SortDate, index.SortRelevance} {
			t.Run(tt.name+"/"+string(sort), func(t *testing.T) {
				q := tt.q
				q.Sort, q.Limit, q.Facets = sort, maxLimit, true
				if tt.sinceHour >= 0 {
					q.Since = hour(tt.sinceHour)
				}
				if tt.untilHour >= 0 {
					q.Until = hour(tt.untilHour)
				}
				var want []windowDoc
				for _, w := range all {
					p := w.doc.Published
					if tt.want(w) && (q.Since.IsZero() || !p.Before(q.Since)) && (q.Until.IsZero() || p.Before(q.Until)) {
						want = append(want, w)
					}
				}
				slices.SortFunc(want, func(a, b windowDoc) int { return b.doc.Published.Compare(a.doc.Published) })
				hits, err := s.Search(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if hits.Total != len(want) || len(hits.Docs) != len(want) {
					t.Fatalf("Total %d, %d docs; want %d", hits.Total, len(hits.Docs), len(want))
				}
				var wantIDs, gotIDs []string
				for _, w := range want {
					wantIDs = append(wantIDs, w.doc.ID)
				}
				for _, h := range hits.Docs {
					gotIDs = append(gotIDs, h.ID)
					if sort == index.SortDate && h.Score != 0 {
						t.Errorf("%s: score %v under the date sort, want 0", h.ID, h.Score)
					}
					if sort == index.SortRelevance && q.Text != "" && !slices.Contains([]string{"NOT, window"}, tt.name) && h.Score <= 0 {
						t.Errorf("%s: score %v under the relevance sort, want > 0", h.ID, h.Score)
					}
				}
				if sort == index.SortRelevance {
					// Equal scores fall back to the date order, but scores
					// differ with text length: compare as sets.
					slices.Sort(wantIDs)
					slices.Sort(gotIDs)
				}
				if !slices.Equal(gotIDs, wantIDs) {
					t.Errorf("got %v\nwant %v", gotIDs, wantIDs)
				}
				country := 0
				for _, w := range want {
					if w.relevant && w.country == "PL" {
						country++
					}
				}
				if got := facetCount(hits.Facets[index.FacetCountry], "PL"); got != country {
					t.Errorf("country facet PL = %d, want %d", got, country)
				}
			})
		}
	}
}

func facetCount(fc []index.FacetCount, value string) int {
	for _, c := range fc {
		if c.Value == value {
			return c.Count
		}
	}
	return 0
}

// TestOptimizeKeepsResults checks that merging the FTS segments changes no
// answer, scores included.
func TestOptimizeKeepsResults(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	all := windowDocs(61)
	for _, w := range all {
		if _, err := s.Put(ctx, w.doc); err != nil { // one segment per Put
			t.Fatal(err)
		}
	}
	queries := []index.Query{
		{Text: "mine OR ottawa", Facets: true, Limit: 100},
		{Text: "ottawa NOT mine", Sort: index.SortDate, Limit: 100},
		{Text: "mine", Countries: []string{"PL"}, Since: windowBase.Add(10 * time.Hour), Limit: 100},
	}
	before := make([]index.Hits, len(queries))
	for i, q := range queries {
		var err error
		if before[i], err = s.Search(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	for i, q := range queries {
		t.Run(q.Text, func(t *testing.T) {
			after, err := s.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if after.Total != before[i].Total || len(after.Docs) != len(before[i].Docs) {
				t.Fatalf("after optimize: Total %d, %d docs; before %d, %d", after.Total, len(after.Docs), before[i].Total, len(before[i].Docs))
			}
			for j := range after.Docs {
				a, b := after.Docs[j], before[i].Docs[j]
				if a.ID != b.ID || a.Score != b.Score {
					t.Errorf("result %d: %s %v after, %s %v before", j, a.ID, a.Score, b.ID, b.Score)
				}
			}
		})
	}
}

// searchExpanding runs q as Search does, with or without prefix expansion.
func searchExpanding(t *testing.T, s *Store, q index.Query, expand bool) index.Hits {
	t.Helper()
	ctx := context.Background()
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var e expandFunc
	if expand {
		e = expandIn(ctx, tx)
	}
	c, err := compileSearch(q, e)
	if err != nil {
		t.Fatalf("%q: %v", q.Text, err)
	}
	var h index.Hits
	if err := c.run(ctx, tx, s.search, q.Facets, q.Histogram, &h); err != nil {
		t.Fatalf("%q: %v", q.Text, err)
	}
	return h
}

// TestPrefixExpansionMatchesFTS5 checks that prefix words expanded through
// fts_terms find exactly what FTS5's own prefix scan finds: in phrases,
// NEARs, fields, non-ASCII words, past maxExpansion, with words only a
// later Put brought, and after the article that had a word is gone.
func TestPrefixExpansionMatchesFTS5(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	docs := benchDocs(300)
	// Words sharing long prefixes: 100 numbered ones (past maxExpansion),
	// and Ukrainian inflections (multi-byte last letters).
	uk := []string{"оттавська", "оттавської", "оттавську", "оттавській"}
	for i := range docs {
		docs[i].Text += fmt.Sprintf(" prefixword%03d %s. The withdrawal from the convention.", i%100, uk[i%len(uk)])
		if i%7 == 0 {
			docs[i].Title += " Withdrawing " + uk[(i+1)%len(uk)]
		}
	}
	if _, err := s.Put(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	queries := []string{
		"withdraw*", "withdrawa*", "prefixword*", "prefixword05*", "prefixword1*", "оттавськ*", "оттавсько*",
		`"the withdraw*"`, "title:withdraw*", "withdraw* NEAR/3 convention", "prefixword* NEAR/5 withdraw*",
		"withdraw* AND NOT оттавськ*", "nosuchword*", "min*", "mine*",
	}
	check := func(t *testing.T, label string) {
		for _, text := range queries {
			for _, q := range []index.Query{
				{Text: text, Sort: index.SortDate, Limit: maxLimit},
				{Text: text, Sort: index.SortRelevance, Limit: 5, Facets: true},
			} {
				got, want := searchExpanding(t, s, q, true), searchExpanding(t, s, q, false)
				if got.Total != want.Total || !reflect.DeepEqual(got.Facets, want.Facets) {
					t.Errorf("%s: %q (%s): expanded Total %d, FTS5 prefix scan %d", label, text, q.Sort, got.Total, want.Total)
				}
				if q.Sort == index.SortDate && !slices.Equal(hitIDs(got), hitIDs(want)) {
					t.Errorf("%s: %q: expanded and FTS5 pages differ", label, text)
				}
			}
		}
	}
	check(t, "stored")
	h := searchExpanding(t, s, index.Query{Text: "prefixword05*"}, true)
	if h.Total != 30 {
		t.Fatalf("prefixword05* found %d articles, want 30", h.Total)
	}

	// A word that arrives with a later Put is found at once; the words of a
	// re-Put article that no longer has them match nothing.
	late := docs[0]
	late.Text = "Later: prefixwordnew and оттавськими."
	if _, err := s.Put(ctx, late); err != nil {
		t.Fatal(err)
	}
	queries = append(queries, "prefixwordn*", "оттавським*")
	check(t, "after re-Put")
	if h := searchExpanding(t, s, index.Query{Text: "prefixwordn*"}, true); h.Total != 1 {
		t.Errorf("prefixwordn* found %d articles after the Put, want 1", h.Total)
	}
}

func hitIDs(h index.Hits) []string {
	ids := make([]string, len(h.Docs))
	for i, d := range h.Docs {
		ids[i] = d.ID
	}
	return ids
}

// TestDateWindowFollowsMovedArticles checks the rowid bounds of a date
// window (day_rids) when an article's date changes on a re-Put, in both
// directions, and when an old article arrives after newer ones.
func TestDateWindowFollowsMovedArticles(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	all := windowDocs(40)
	for _, w := range all {
		if _, err := s.Put(ctx, w.doc); err != nil {
			t.Fatal(err)
		}
	}
	count := func(since, until time.Time) int {
		t.Helper()
		h, err := s.Search(ctx, index.Query{Text: "report", Since: since, Until: until})
		if err != nil {
			t.Fatal(err)
		}
		return h.Total
	}
	far := windowBase.AddDate(1, 0, 0)
	if n := count(far, far.AddDate(0, 0, 1)); n != 0 {
		t.Fatalf("%d articles a year ahead before any moved", n)
	}
	// Into the future, then back before everything else.
	moved := all[3].doc
	moved.Published = far.Add(time.Hour)
	if _, err := s.Put(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if n := count(far, far.AddDate(0, 0, 1)); n != 1 {
		t.Errorf("moved article: %d in its new day, want 1", n)
	}
	moved.Published = windowBase.AddDate(-1, 0, 0)
	if _, err := s.Put(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if n := count(time.Time{}, windowBase); n != 1 {
		t.Errorf("moved back: %d before the others, want 1", n)
	}
	if n := count(far, far.AddDate(0, 0, 1)); n != 0 {
		t.Errorf("moved back: %d still in the day it left, want 0", n)
	}
	// A backfill: the newest rid on the oldest day, and a day before 1970.
	old := all[5].doc
	old.ID, old.URL = "backfill", "https://window.example/backfill"
	old.Published = time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)
	if _, err := s.Put(ctx, old); err != nil {
		t.Fatal(err)
	}
	if n := count(old.Published, old.Published.Add(time.Hour)); n != 1 {
		t.Errorf("backfilled article: %d in its hour, want 1", n)
	}
	if n := count(time.Time{}, time.Time{}); n != len(all)+1 {
		t.Errorf("%d articles without a window, want %d", n, len(all)+1)
	}
}

package disk

import (
	"context"
	"database/sql"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// memoryQueries cover the three ways a search gets its candidates: FTS with
// text, FTS with filters only, and every article; and a NOT query.
func memoryQueries() []index.Query {
	since := windowBase.Add(10 * time.Hour)
	return []index.Query{
		{Text: "report", Facets: true, Histogram: true, Limit: maxLimit, Sort: index.SortDate},
		{Text: "mine OR ottawa", Facets: true, RelevantOnly: true, Limit: 7},
		{Countries: []string{"PL", "FI"}, Facets: true, Histogram: true, Limit: maxLimit},
		{Facets: true, Histogram: true, Limit: maxLimit, Since: since},
		{RelevantOnly: true, Facets: true, Limit: 5},
		{Text: "report NOT ottawa", Facets: true, Limit: maxLimit, Since: since},
	}
}

// summary is what a search answered, comparable with reflect.DeepEqual.
type summary struct {
	Total     int
	IDs       []string
	Facets    map[string][]index.FacetCount
	Histogram []index.DayCount
}

func summarize(h index.Hits) summary {
	s := summary{Total: h.Total, Facets: h.Facets, Histogram: h.Histogram}
	for _, d := range h.Docs {
		s.IDs = append(s.IDs, d.ID)
	}
	return s
}

// searchIn runs q in tx, as Search does in its own transaction.
func searchIn(t *testing.T, s *Store, tx *sql.Tx, q index.Query) summary {
	t.Helper()
	ctx := context.Background()
	c, err := compileSearch(q, expandIn(ctx, tx))
	if err != nil {
		t.Fatal(err)
	}
	var h index.Hits
	if err := c.run(ctx, tx, s.search, q.Facets, q.Histogram, &h); err != nil {
		t.Fatal(err)
	}
	return summarize(h)
}

func mustSearch(t *testing.T, s *Store, q index.Query) summary {
	t.Helper()
	h, err := s.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return summarize(h)
}

// changeWindowDocs reclassifies, moves, adds and deletes articles, the
// changes a search's in-memory copy must follow.
func changeWindowDocs(t *testing.T, w *Store, all []windowDoc) {
	t.Helper()
	ctx := context.Background()
	flip := all[4].doc // relevant → not, loses its entity
	flip.Classification = news.Classification{}
	moved := all[7].doc // to another day and country
	moved.Published = windowBase.Add(-48 * time.Hour)
	moved.Classification.Entities = []news.Entity{{Country: "LT", Action: news.Actions[0], Treaty: news.TreatyOttawa}}
	added := all[9].doc
	added.ID, added.URL = "added", "https://window.example/added"
	added.SourceID = "other"
	if _, err := w.Put(ctx, flip, moved, added); err != nil {
		t.Fatal(err)
	}
	// Deletion has no API; another program could delete the row.
	if _, err := w.writer.ExecContext(ctx, `DELETE FROM articles WHERE id = ?`, all[12].doc.ID); err != nil {
		t.Fatal(err)
	}
}

// TestSearchIndexFollowsOtherStores checks that a Store's searches see what
// another Store on the same file wrote after the first search loaded the
// copy: new, reclassified, moved and deleted articles, as a fresh Store
// sees them.
func TestSearchIndexFollowsOtherStores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *Store { return openDir(t, dir) }
	w, r := open(), open()
	all := windowDocs(30)
	for _, wd := range all {
		if _, err := w.Put(ctx, wd.doc); err != nil {
			t.Fatal(err)
		}
	}
	before := make([]summary, 0)
	for _, q := range memoryQueries() {
		before = append(before, mustSearch(t, r, q))
	}
	changeWindowDocs(t, w, all)
	fresh := open()
	for i, q := range memoryQueries() {
		got, want := mustSearch(t, r, q), mustSearch(t, fresh, q)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("query %d %+v:\nloaded before the changes: %+v\nfresh store:               %+v", i, q, got, want)
		}
		if reflect.DeepEqual(got, before[i]) && i != 5 {
			t.Errorf("query %d: the changes changed nothing, so the test checks nothing: %+v", i, got)
		}
	}
}

// TestSearchIndexSnapshot checks that a search answers for its own
// snapshot when another search has already applied newer changes to the
// shared copy: the rows changed since are read from SQL (late).
func TestSearchIndexSnapshot(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	all := windowDocs(30)
	for _, wd := range all {
		if _, err := s.Put(ctx, wd.doc); err != nil {
			t.Fatal(err)
		}
	}
	var want []summary
	for _, q := range memoryQueries() {
		want = append(want, mustSearch(t, s, q))
	}
	old, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Rollback()
	var n int
	if err := old.QueryRowContext(ctx, `SELECT count(*) FROM articles`).Scan(&n); err != nil { // starts the snapshot
		t.Fatal(err)
	}
	changeWindowDocs(t, s, all)
	var after []summary
	for _, q := range memoryQueries() {
		after = append(after, mustSearch(t, s, q)) // applies the changes to the copy
	}
	for i, q := range memoryQueries() {
		if got := searchIn(t, s, old, q); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("query %d %+v in the old snapshot:\ngot  %+v\nwant %+v\n(now %+v)", i, q, got, want[i], after[i])
		}
	}
}

// TestSearchIndexHugeRID checks an article whose rid is past the in-memory
// arrays (inserted by hand with an explicit rid): found all the same, and
// so are those stored after it.
func TestSearchIndexHugeRID(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	all := windowDocs(10)
	if _, err := s.Put(ctx, all[0].doc); err != nil {
		t.Fatal(err)
	}
	huge := int64(maxMemoryRID + 5)
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`PRAGMA defer_foreign_keys = ON`,
		`UPDATE articles SET rid = ?1 WHERE rid = 1`,
		`UPDATE article_bodies SET rid = ?1 WHERE rid = 1`,
		`UPDATE article_topics SET article_rid = ?1 WHERE article_rid = 1`,
		`UPDATE article_entities SET article_rid = ?1 WHERE article_rid = 1`,
	} {
		if _, err := tx.ExecContext(ctx, q, huge); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// The re-Put writes its FTS row under the new rid; the one under rid 1
	// is left behind, pointing at no article.
	if res, err := s.Put(ctx, all[0].doc, all[1].doc, all[2].doc); err != nil || len(res.Failed) > 0 {
		t.Fatal(res, err)
	}
	for _, q := range []index.Query{{Text: "report", Limit: 10}, {Limit: 10}, {Countries: []string{"PL", "FI"}, Limit: 10}} {
		got := mustSearch(t, s, q)
		var ids []string
		for _, d := range all[:3] {
			if len(q.Countries) == 0 || d.relevant {
				ids = append(ids, d.doc.ID)
			}
		}
		slices.Sort(ids)
		gotIDs := slices.Sorted(slices.Values(got.IDs))
		if got.Total != len(ids) || !slices.Equal(gotIDs, ids) {
			t.Errorf("%+v: Total %d, %v; want %v", q, got.Total, gotIDs, ids)
		}
	}
	var rid int64
	if err := s.reader.QueryRowContext(ctx, `SELECT rid FROM articles WHERE id = ?`, all[2].doc.ID).Scan(&rid); err != nil || rid <= huge {
		t.Fatalf("a later article got rid %d (%v), want one past %d", rid, err, huge)
	}
}

// TestWarmSearch checks that WarmSearch loads the whole copy, so that the
// next search applies nothing.
func TestWarmSearch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w := openDir(t, dir)
	for _, wd := range windowDocs(20) {
		if _, err := w.Put(ctx, wd.doc); err != nil {
			t.Fatal(err)
		}
	}
	s := openDir(t, dir)
	if err := s.WarmSearch(ctx); err != nil {
		t.Fatal(err)
	}
	var maxSeq int64
	if err := s.reader.QueryRowContext(ctx, `SELECT max(seq) FROM search_seq`).Scan(&maxSeq); err != nil {
		t.Fatal(err)
	}
	s.search.mu.RLock()
	got := s.search.seq
	s.search.mu.RUnlock()
	if got != maxSeq || maxSeq == 0 {
		t.Errorf("after WarmSearch the copy is at stamp %d, the index at %d", got, maxSeq)
	}
}

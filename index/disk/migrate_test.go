package disk

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/indextest"
	"github.com/minewatch/minewatch/news"
)

// writeV1 makes a data directory as minewatch with schema version 1 left it:
// the version 1 tables, filled the way its Put filled them.
func writeV1(t *testing.T, dir string, docs []news.Document) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName)+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, migrations[0].sql); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		r, err := encode(d)
		if err != nil {
			t.Fatal(err)
		}
		c := d.Classification
		var rid int64
		if err := db.QueryRowContext(ctx, `INSERT INTO articles (id, source_id, language, published, first_seen,
			relevant, score, story_id, rules_version, published_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING rid`,
			d.ID, d.SourceID, d.Language, nanos(d.Published), nanos(d.FirstSeen), c.Relevant, c.Score, d.StoryID,
			c.RulesVersion, d.PublishedFrom).Scan(&rid); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO article_bodies (rid, url, canonical_url, site_name, authors,
			title, summary, text, classification) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, rid, d.URL, d.CanonicalURL,
			d.SiteName, r.authors, d.Title, d.Summary, d.Text, r.classification); err != nil {
			t.Fatal(err)
		}
		for _, tp := range c.Topics {
			if _, err := db.ExecContext(ctx, `INSERT INTO article_topics (article_rid, topic, score) VALUES (?, ?, ?)`,
				rid, tp.Topic, tp.Score); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range c.Entities {
			if _, err := db.ExecContext(ctx, `INSERT INTO article_entities (article_rid, country, action, treaty, evidence)
				VALUES (?, ?, ?, ?, ?)`, rid, e.Country, string(e.Action), string(e.Treaty), e.Evidence); err != nil {
				t.Fatal(err)
			}
		}
		title, _ := ftsColumn(d.Title, nil)
		body, _ := ftsColumn(searchText(d.Summary, d.Text), nil)
		if _, err := db.ExecContext(ctx, `INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)`,
			rid, title, body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO source_state (source_id, state, updated) VALUES ('lrt', '{"ItemsSeen":3}', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO events (key, country, action, treaty, first_seen, first_article_id,
		first_source_id, evidence, articles) VALUES ('LT/withdraw_effective/ccm', 'LT', 'withdraw_effective', 'ccm', 1, 'a', 'lrt', '', 1)`); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateFromV1 upgrades a version 1 data directory in place: documents,
// state and events survive, and searches, facets and the new features work
// on the old documents.
func TestMigrateFromV1(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fx := indextest.Fixtures()
	// More than one rebuild chunk, so the migration pages.
	docs := benchDocs(rebuildChunk + 37)
	for i := range docs {
		// Unclassified, unrelated filler, so the counts below are the fixtures'.
		docs[i].Classification = news.Classification{}
		docs[i].Language, docs[i].Title, docs[i].Text = "zz", "Filler", "Weather and traffic."
	}
	for _, d := range fx {
		docs = append(docs, d)
	}
	writeV1(t, dir, docs)

	s, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open version 1: %v", err)
	}
	defer s.Close()
	var v int
	if err := s.reader.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("user_version = %d, %v; want %d", v, err, SchemaVersion)
	}
	for k, d := range fx {
		got, err := s.Get(ctx, d.ID)
		if err != nil {
			t.Fatalf("Get %s: %v", k, err)
		}
		if !got.Published.Equal(d.Published) || !got.FirstSeen.Equal(d.FirstSeen) {
			t.Errorf("%s: dates changed", k)
		}
		got.Published, got.FirstSeen = d.Published, d.FirstSeen
		if !reflect.DeepEqual(got, d) {
			t.Errorf("%s: got %+v, want %+v", k, got, d)
		}
	}
	tests := []struct {
		name string
		q    index.Query
		want int
	}{
		{"all", index.Query{}, len(docs)},
		{"text", index.Query{Text: "оттавської"}, 1},
		{"text and filter", index.Query{Text: "ottawa", Sources: []string{"reuters"}}, 2},
		{"topic", index.Query{Topics: []string{news.TopicClusterMunitions}}, 1},
		{"country", index.Query{Countries: []string{"FI", "EE"}, Languages: []string{"en", "et"}}, 2},
		{"relevant", index.Query{RelevantOnly: true, Sources: []string{"lsm", "reuters"}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := s.Search(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if h.Total != tc.want {
				t.Errorf("Total %d, want %d", h.Total, tc.want)
			}
		})
	}
	// Date windows read day_rids, which the migration filled.
	every, err := s.Search(ctx, index.Query{Text: "ottawa", Limit: maxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, hit := range every.Docs {
		day := sortDate(hit.Document).Truncate(24 * time.Hour)
		h, err := s.Search(ctx, index.Query{Text: "ottawa", Since: day, Until: day.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if h.Total == 0 {
			t.Errorf("%s: not found in its day %s after migration", hit.ID, day.Format(time.DateOnly))
		}
	}
	h, err := s.Search(ctx, index.Query{Text: "ottawa", Languages: []string{"en"}, Facets: true, Histogram: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Facets[index.FacetCountry]; !reflect.DeepEqual(got, []index.FacetCount{{Value: "FI", Count: 1}, {Value: "US", Count: 1}}) {
		t.Errorf("country facet after migration = %v", got)
	}
	if len(h.Histogram) != 2 {
		t.Errorf("histogram after migration = %v", h.Histogram)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != len(docs) || st.Events != 1 || st.Sources != 1 {
		t.Errorf("Stats after migration = %+v", st)
	}
	// Old documents have no fingerprint: no story found, until re-Put.
	d := fx[indextest.KeyNorway]
	if _, ok, err := s.FindStory(ctx, 1, 0, d.FirstSeen); err != nil || ok {
		t.Errorf("FindStory on migrated documents = %v, %v", ok, err)
	}
	d.SimHash = 1
	if _, err := s.Put(ctx, d); err != nil {
		t.Fatal(err)
	}
	if id, ok, err := s.FindStory(ctx, 1, 0, d.FirstSeen); err != nil || !ok || id != d.StoryID {
		t.Errorf("FindStory after re-Put = %q, %v, %v", id, ok, err)
	}
}

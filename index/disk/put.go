package disk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// ErrMissingID rejects a document without Article.ID.
var ErrMissingID = errors.New("disk: document has no id")

// ErrBadIdentifier rejects a document whose source, language, topic or
// entity codes hold the separators of the list columns (listSep, histSep):
// such codes are never legitimate, and would split into other values.
var ErrBadIdentifier = errors.New("disk: identifier holds a control separator")

const upsertArticle = `
INSERT INTO articles (id, source_id, language, published, first_seen, relevant, score, story_id,
	rules_version, published_from, simhash, topics, countries, actions, treaties, facet_key, hist_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	source_id = excluded.source_id, language = excluded.language, published = excluded.published,
	first_seen = COALESCE(articles.first_seen, excluded.first_seen),
	relevant = excluded.relevant, score = excluded.score, story_id = excluded.story_id,
	rules_version = excluded.rules_version, published_from = excluded.published_from,
	simhash = excluded.simhash, topics = excluded.topics, countries = excluded.countries,
	actions = excluded.actions, treaties = excluded.treaties, facet_key = excluded.facet_key,
	hist_key = excluded.hist_key
RETURNING rid`

const upsertBody = `
INSERT INTO article_bodies (rid, url, canonical_url, site_name, authors, title, summary, text, classification)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (rid) DO UPDATE SET
	url = excluded.url, canonical_url = excluded.canonical_url, site_name = excluded.site_name,
	authors = excluded.authors, title = excluded.title, summary = excluded.summary,
	text = excluded.text, classification = excluded.classification`

// putStmts are the statements of a Put. They are prepared once, on the
// writer's only connection, and bound to each transaction (in): preparing
// them per transaction was 8% of the feed farm's steady cycle, the article
// upsert compiling the programs of its triggers every time.
type putStmts struct {
	article, body, delTopics, topic, delEntities, entity, delFTS, fts, terms *sql.Stmt
}

func (p *putStmts) all() []**sql.Stmt {
	return []**sql.Stmt{&p.article, &p.body, &p.delTopics, &p.topic, &p.delEntities, &p.entity, &p.delFTS, &p.fts, &p.terms}
}

func preparePut(ctx context.Context, db *sql.DB) (*putStmts, error) {
	var p putStmts
	dst := p.all()
	for i, q := range []string{
		upsertArticle,
		upsertBody,
		`DELETE FROM article_topics WHERE article_rid = ?`,
		`INSERT OR IGNORE INTO article_topics (article_rid, topic, score) VALUES (?, ?, ?)`,
		`DELETE FROM article_entities WHERE article_rid = ?`,
		`INSERT INTO article_entities (article_rid, country, action, treaty, evidence) VALUES (?, ?, ?, ?, ?)`,
		`DELETE FROM articles_fts WHERE rowid = ?`,
		`INSERT INTO articles_fts (rowid, title, text, meta) VALUES (?, ?, ?, ?)`,
		// One statement per batch whatever its number of words.
		`INSERT OR IGNORE INTO fts_terms (term) SELECT value FROM json_each(?)`,
	} {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			p.Close()
			return nil, err
		}
		*dst[i] = st
	}
	return &p, nil
}

// in returns the statements bound to tx; they close with it.
func (p *putStmts) in(ctx context.Context, tx *sql.Tx) *putStmts {
	var b putStmts
	src, dst := p.all(), b.all()
	for i := range src {
		*dst[i] = tx.StmtContext(ctx, *src[i])
	}
	return &b
}

func (p *putStmts) Close() error {
	var errs []error
	for _, st := range p.all() {
		if *st != nil {
			errs = append(errs, (*st).Close())
		}
	}
	return errors.Join(errs...)
}

// row is one document ready for the articles table.
type row struct {
	authors, classification string
	lists                   valueLists
}

// encode checks a document and renders its JSON columns. Its errors are
// permanent: the same document would fail again.
func encode(d news.Document) (row, error) {
	if d.ID == "" {
		return row{}, ErrMissingID
	}
	if err := checkIdentifiers(d); err != nil {
		return row{}, err
	}
	authors := d.Authors
	if authors == nil {
		authors = []string{}
	}
	a, err := json.Marshal(authors)
	if err != nil {
		return row{}, fmt.Errorf("encode authors: %w", err)
	}
	c, err := json.Marshal(d.Classification)
	if err != nil {
		return row{}, fmt.Errorf("encode classification: %w", err)
	}
	return row{authors: string(a), classification: string(c), lists: listsOf(d)}, nil
}

// checkIdentifiers rejects codes that the list columns cannot hold.
func checkIdentifiers(d news.Document) error {
	const seps = listSep + histSep
	vals := []string{d.SourceID, d.Language}
	for _, t := range d.Classification.Topics {
		vals = append(vals, t.Topic)
	}
	for _, e := range d.Classification.Entities {
		vals = append(vals, e.Country, string(e.Action), string(e.Treaty))
	}
	for _, v := range vals {
		if strings.ContainsAny(v, seps) {
			return fmt.Errorf("%w: %q", ErrBadIdentifier, v)
		}
	}
	return nil
}

// Put upserts docs in one transaction (shared with concurrent writers:
// groupDo). Documents that can never be stored (no id, a classification JSON
// cannot encode) are reported in Failed; any database error fails the whole
// call, since a retry may succeed.
func (s *Store) Put(ctx context.Context, docs ...news.Document) (index.PutResult, error) {
	if len(docs) == 0 {
		return index.PutResult{}, nil
	}
	rows, ok, failed := encodeAll(docs)
	res := index.PutResult{Failed: failed}
	err := s.groupDo(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n, err := s.putAll(ctx, tx, docs, rows, ok)
		res.Indexed = n
		return err
	})
	if err != nil {
		return index.PutResult{}, fmt.Errorf("disk: put: %w", err)
	}
	return res, nil
}

// encodeAll encodes docs for putAll: ok[i] says whether docs[i] can be
// stored; those that cannot are in failed, by id (nil when none).
func encodeAll(docs []news.Document) (rows []row, ok []bool, failed map[string]error) {
	rows = make([]row, len(docs))
	ok = make([]bool, len(docs))
	for i, d := range docs {
		r, err := encode(d)
		if err != nil {
			if failed == nil {
				failed = map[string]error{}
			}
			failed[d.ID] = fmt.Errorf("put %s: %w", d.ID, err)
			continue
		}
		rows[i], ok[i] = r, true
	}
	return rows, ok, failed
}

// putAll upserts the documents encodeAll accepted, in tx, and returns how
// many it stored.
func (s *Store) putAll(ctx context.Context, tx *sql.Tx, docs []news.Document, rows []row, ok []bool) (int, error) {
	if !slices.Contains(ok, true) {
		return 0, nil // no statements to bind
	}
	st := s.put.in(ctx, tx)
	n := 0
	var err error
	var w ftsWriter
	w.reset()
	for i, d := range docs {
		if !ok[i] {
			continue
		}
		if err = putOne(ctx, st, d, rows[i], &w); err != nil {
			return n, fmt.Errorf("put %s: %w", d.ID, markFull(err))
		}
		n++
	}
	// The words of the whole batch at once: a feed's articles share most
	// of theirs, and each word costs a probe of fts_terms.
	terms, err := w.termsJSON()
	if err != nil {
		return n, err
	}
	if _, err := st.terms.ExecContext(ctx, terms); err != nil {
		return n, fmt.Errorf("put: words: %w", markFull(err))
	}
	return n, nil
}

func putOne(ctx context.Context, st *putStmts, d news.Document, r row, w *ftsWriter) error {
	c := d.Classification
	var rid int64
	l := r.lists
	err := st.article.QueryRowContext(ctx,
		d.ID, d.SourceID, d.Language, nanos(d.Published), nanos(d.FirstSeen), c.Relevant, c.Score,
		d.StoryID, c.RulesVersion, d.PublishedFrom, int64(d.SimHash), // the bits, as SQLite has no unsigned type
		l.topics, l.countries, l.actions, l.treaties, l.facetKey, l.histKey,
	).Scan(&rid)
	if err != nil {
		return err
	}
	if _, err := st.body.ExecContext(ctx, rid, d.URL, d.CanonicalURL, d.SiteName, r.authors,
		d.Title, d.Summary, d.Text, r.classification); err != nil {
		return err
	}
	if _, err := st.delTopics.ExecContext(ctx, rid); err != nil {
		return err
	}
	for _, t := range c.Topics {
		if _, err := st.topic.ExecContext(ctx, rid, t.Topic, t.Score); err != nil {
			return err
		}
	}
	if _, err := st.delEntities.ExecContext(ctx, rid); err != nil {
		return err
	}
	for _, e := range c.Entities {
		if _, err := st.entity.ExecContext(ctx, rid, e.Country, string(e.Action), string(e.Treaty), e.Evidence); err != nil {
			return err
		}
	}
	if _, err := st.delFTS.ExecContext(ctx, rid); err != nil {
		return err
	}
	title := w.column(d.Title)
	body := w.column(searchText(d.Summary, d.Text))
	_, err = st.fts.ExecContext(ctx, rid, title, body, metaColumn(d))
	return err
}

// nanos is t for an INTEGER column: Unix nanoseconds, NULL for the zero time.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// fromNanos undoes nanos, in UTC.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// docColumns are read by scanDoc, in this order, from docFrom.
const docColumns = `a.rid, a.id, b.url, b.canonical_url, a.source_id, b.title, b.summary, b.text, a.language,
	b.authors, b.site_name, a.published, a.published_from, a.first_seen, a.story_id, a.simhash, b.classification`

// docFrom joins the two halves of a document.
const docFrom = `articles a JOIN article_bodies b ON b.rid = a.rid`

type scanner interface{ Scan(dest ...any) error }

// scanDoc reads docColumns.
func scanDoc(sc scanner) (news.Document, int64, error) {
	var (
		d                     news.Document
		rid                   int64
		published, firstSeen  sql.NullInt64
		simhash               int64
		authors, classifyJSON string
	)
	dest := []any{&rid, &d.ID, &d.URL, &d.CanonicalURL, &d.SourceID, &d.Title, &d.Summary, &d.Text,
		&d.Language, &authors, &d.SiteName, &published, &d.PublishedFrom, &firstSeen, &d.StoryID,
		&simhash, &classifyJSON}
	if err := sc.Scan(dest...); err != nil {
		return news.Document{}, 0, err
	}
	d.Published = fromNanos(published)
	d.FirstSeen = fromNanos(firstSeen)
	d.SimHash = uint64(simhash)
	if err := json.Unmarshal([]byte(authors), &d.Authors); err != nil {
		return news.Document{}, 0, fmt.Errorf("decode authors of %s: %w", d.ID, err)
	}
	if len(d.Authors) == 0 {
		d.Authors = nil
	}
	if err := json.Unmarshal([]byte(classifyJSON), &d.Classification); err != nil {
		return news.Document{}, 0, fmt.Errorf("decode classification of %s: %w", d.ID, err)
	}
	return d, rid, nil
}

// Get returns the document with the given id, or an error wrapping
// index.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (news.Document, error) {
	r := s.reader.QueryRowContext(ctx, `SELECT `+docColumns+` FROM `+docFrom+` WHERE a.id = ?`, id)
	d, _, err := scanDoc(r)
	if errors.Is(err, sql.ErrNoRows) {
		return news.Document{}, fmt.Errorf("disk: get %s: %w", id, index.ErrNotFound)
	}
	if err != nil {
		return news.Document{}, fmt.Errorf("disk: get %s: %w", id, err)
	}
	return d, nil
}

// StoryDocuments lists up to limit documents of a story, oldest first.
func (s *Store) StoryDocuments(ctx context.Context, storyID string, limit int) ([]news.Document, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+docColumns+` FROM `+docFrom+
		` WHERE a.story_id = ? ORDER BY a.first_seen, a.id LIMIT ?`, storyID, limit)
	if err != nil {
		return nil, fmt.Errorf("disk: story %s: %w", storyID, err)
	}
	defer rows.Close()
	var out []news.Document
	for rows.Next() {
		d, _, err := scanDoc(rows)
		if err != nil {
			return nil, fmt.Errorf("disk: story %s: %w", storyID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("disk: story %s: %w", storyID, err)
	}
	return out, nil
}

// knownURLsSQL answers KnownURLs in one statement whatever the number of
// URLs: the list arrives as one JSON array, so the SQL text never changes and
// is prepared once per connection (an IN list of n placeholders was parsed
// and planned anew for every feed), and each URL costs two index probes.
const knownURLsSQL = `SELECT j.value FROM json_each(?) AS j
WHERE EXISTS (SELECT 1 FROM article_bodies WHERE url = j.value)
	OR EXISTS (SELECT 1 FROM article_bodies WHERE canonical_url = j.value)`

// KnownURLs reports, for each of urls, whether an article has it as its URL or
// canonical URL.
func (s *Store) KnownURLs(ctx context.Context, urls []string) (map[string]bool, error) {
	known := make(map[string]bool, len(urls))
	for _, u := range urls {
		known[u] = false
	}
	if len(urls) == 0 {
		return known, nil
	}
	list, err := json.Marshal(urls)
	if err != nil {
		return nil, fmt.Errorf("disk: known urls: %w", err)
	}
	rows, err := s.known.QueryContext(ctx, string(list))
	if err != nil {
		return nil, fmt.Errorf("disk: known urls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("disk: known urls: %w", err)
		}
		if _, asked := known[u]; asked {
			known[u] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("disk: known urls: %w", err)
	}
	return known, nil
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

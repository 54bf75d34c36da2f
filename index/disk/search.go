package disk

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

const (
	defaultLimit = 20
	maxLimit     = 1000
)

// Search answers q: the text query through FTS5, the filters through indexed
// columns, facets over the whole match set, in one read transaction so Total,
// facets and the page agree.
func (s *Store) Search(ctx context.Context, q index.Query) (index.Hits, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return index.Hits{}, fmt.Errorf("disk: search: %w", err)
	}
	defer tx.Rollback()
	c, err := compileSearch(q, expandIn(ctx, tx))
	if err != nil {
		return index.Hits{}, fmt.Errorf("disk: search %q: %w", short(q.Text), err)
	}

	hits := index.Hits{}
	if err := c.run(ctx, tx, s.search, q.Facets, q.Histogram, &hits); err != nil {
		return index.Hits{}, fmt.Errorf("disk: search %q: %w", short(q.Text), err)
	}
	return hits, nil
}

// expandIn answers expandFunc from fts_terms in tx, the snapshot the search
// reads, so an expansion lists exactly the words of the articles searched.
func expandIn(ctx context.Context, tx *sql.Tx) expandFunc {
	return func(prefix string) ([]string, bool, error) {
		// Words starting with prefix sort from prefix up to, excluding,
		// prefix with its last byte raised (SQLite compares text bytewise).
		// UTF-8 never holds 0xff, so the raise cannot overflow on our words.
		if prefix == "" || prefix[len(prefix)-1] == 0xff {
			return nil, false, nil
		}
		upper := prefix[:len(prefix)-1] + string([]byte{prefix[len(prefix)-1] + 1})
		rows, err := tx.QueryContext(ctx, `SELECT term FROM fts_terms WHERE term >= ? AND term < ? ORDER BY term LIMIT ?`,
			prefix, upper, maxExpansion+1)
		if err != nil {
			return nil, false, err
		}
		defer rows.Close()
		var words []string
		for rows.Next() {
			var w string
			if err := rows.Scan(&w); err != nil {
				return nil, false, err
			}
			words = append(words, w)
		}
		if err := rows.Err(); err != nil {
			return nil, false, err
		}
		if len(words) > maxExpansion {
			return nil, false, nil
		}
		return words, true, nil
	}
}

// short keeps error messages readable when a query is long.
func short(text string) string {
	const n = 80
	if len(text) <= n {
		return text
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

// compiled is a Query turned into SQL pieces.
type compiled struct {
	plan
	hasText bool
	sort    index.Sort
	limit   int
	cur     cursor
	fp      uint64 // fingerprint of everything but Limit and Cursor
	// sel selects the candidates, (rid, score) rows with score the
	// relevance, from which searchIndex keeps those in the date window
	// (and relevant, when relevantOnly); with its arguments. bound is the
	// rid column that takes the window's rowid bounds. sel is empty when
	// every article is a candidate.
	sel, bound string
	args       []any
	// since and until are the date window in Unix nanoseconds, MinInt64
	// and MaxInt64 when open.
	since, until int64
	relevantOnly bool
	noSnippets   bool
}

func compileSearch(q index.Query, expand expandFunc) (*compiled, error) {
	c := &compiled{limit: q.Limit, sort: q.Sort, fp: fingerprint(q), noSnippets: q.NoSnippets}
	if c.limit <= 0 {
		c.limit = defaultLimit
	}
	c.limit = min(c.limit, maxLimit)
	if strings.TrimSpace(q.Text) != "" {
		n, err := query.Parse(q.Text)
		if err != nil {
			// Both wrapped: callers test ErrBadQuery, the web page points at
			// the *query.SyntaxError position.
			return nil, fmt.Errorf("%w: %w", index.ErrBadQuery, err)
		}
		if c.plan, err = translate(n, expand); err != nil {
			return nil, err
		}
		c.hasText = true
	}
	switch c.sort {
	case "":
		c.sort = index.SortDate
		if c.hasText {
			c.sort = index.SortRelevance
		}
	case index.SortDate, index.SortRelevance:
	default:
		return nil, fmt.Errorf("%w: unknown sort %q", index.ErrBadQuery, q.Sort)
	}
	if q.Cursor != "" {
		cur, err := decodeCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		if cur.FP != c.fp || cur.Sort != string(c.sort) {
			return nil, fmt.Errorf("%w: cursor belongs to another query", index.ErrBadQuery)
		}
		c.cur = cur
	}

	// bm25 costs a scan of every query phrase's whole posting list (its
	// document frequency) and a few µs a row; results sorted by date do not
	// need it. Their Score is 0, as Elasticsearch's _score is when it sorts
	// by a field.
	ranked := c.sort == index.SortRelevance
	// Filters are FTS terms of the meta column (see schemaV2): each is "any
	// of these values"; different filters must all hold, but not
	// necessarily on the same entity (as facets count).
	// An empty source or language is a value (unknown); an empty topic or
	// entity code is never stored (joinSet), so it is ignored, as an empty
	// choice in a form should be.
	var filters []string
	add := func(kind byte, vals []string, dropEmpty bool) {
		if dropEmpty {
			vals = slices.DeleteFunc(slices.Clone(vals), func(v string) bool { return v == "" })
		}
		if len(vals) > 0 {
			filters = append(filters, metaMatch(kind, vals))
		}
	}
	add(metaTopic, q.Topics, true)
	add(metaCountry, q.Countries, true)
	add(metaAction, strs(q.Actions), true)
	add(metaTreaty, strs(q.Treaties), true)
	add(metaSource, q.Sources, false)
	add(metaLanguage, q.Languages, false)
	filt := strings.Join(filters, " AND ")
	// The date window and "relevant only" are tested in memory
	// (searchIndex), not in SQL: the relevant token's posting list is the
	// longest of all, and the date is not in the FTS index. metaColumn
	// still writes the relevant token, so every index has one format.
	c.relevantOnly = q.RelevantOnly
	score := `0.0`
	if ranked {
		score = `-` + bm25
	}
	switch {
	case c.fts != "":
		m := c.fts
		if filt != "" {
			// One MATCH: FTS5 intersects the posting lists of text and
			// filters, so rows the filters reject are never read.
			m = "(" + c.fts + ") AND " + filt
		}
		c.sel = `SELECT rowid, ` + score + ` FROM articles_fts WHERE articles_fts MATCH ?`
		c.args = []any{m}
		c.bound = `rowid`
	case c.pred != "":
		from := `articles a`
		if c.rank != "" && ranked {
			// The predicate decides what matches; this join only ranks.
			from += ` LEFT JOIN (SELECT rowid AS rid, -` + bm25 + ` AS score FROM articles_fts
				WHERE articles_fts MATCH ?) r ON r.rid = a.rid`
			c.args = append(c.args, c.rank)
			score = `COALESCE(r.score, 0.0)`
		} else {
			score = `0.0`
		}
		where := "(" + c.pred + ")"
		c.args = append(c.args, c.predArgs...)
		if filt != "" {
			where += ` AND ` + inFTS
			c.args = append(c.args, filt)
		}
		c.sel = `SELECT a.rid, ` + score + ` FROM ` + from + ` WHERE ` + where
		c.bound = `a.rid`
	case filt != "":
		c.sel = `SELECT rowid, 0.0 FROM articles_fts WHERE articles_fts MATCH ?`
		c.args = []any{filt}
		c.bound = `rowid`
	default:
		// Every article is a candidate: the search reads none from SQL.
	}
	c.since, c.until = math.MinInt64, math.MaxInt64
	if !q.Since.IsZero() {
		c.since = q.Since.UnixNano()
	}
	if !q.Until.IsZero() {
		c.until = q.Until.UnixNano()
	}
	return c, nil
}

func strs[T ~string](vals []T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// facetOrder is the order of the facet values in a facets cell (aggregator):
// source, language and the list columns, split by histSep.
var facetOrder = [...]string{index.FacetSource, index.FacetLanguage, index.FacetTopic, index.FacetCountry,
	index.FacetAction, index.FacetTreaty}

// histSep is char(30), between the parts of a combination of values.
const histSep = "\x1e"

// pageRow is one result before its document is read.
type pageRow struct {
	rid, date int64
	score     float64
}

// offset is how many rows of the match set come before the page: the
// relevance sort pages by offset, since bm25 scores are floats that change
// as documents are added and a keyset over them would not be stable either;
// the date sort pages by keyset (afterCursor).
func (c *compiled) offset() int {
	if c.sort == index.SortDate {
		return 0
	}
	return c.cur.Offset
}

// windowRIDs returns rowid bounds that hold every article of the date
// window, from day_rids (see schemaV4); ok is false when the window is
// open on both sides.
func (c *compiled) windowRIDs(ctx context.Context, tx *sql.Tx) (lo, hi int64, ok bool, err error) {
	if c.since == math.MinInt64 && c.until == math.MaxInt64 {
		return 0, 0, false, nil
	}
	first, last := int64(math.MinInt64), int64(math.MaxInt64)
	if c.since != math.MinInt64 {
		first = dayOf(c.since)
	}
	if c.until != math.MaxInt64 {
		last = dayOf(c.until - 1) // until is exclusive
	}
	var l, h sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT min(lo), max(hi) FROM day_rids WHERE day BETWEEN ? AND ?`,
		first, last).Scan(&l, &h)
	if err != nil {
		return 0, 0, false, fmt.Errorf("date window: %w", err)
	}
	if !l.Valid {
		return 1, 0, true, nil // an empty range: no article is in the window
	}
	return l.Int64, h.Int64, true, nil
}

// run fills Total, the facets when asked, and the page: SQL selects the
// candidates (rid and score only), searchIndex filters and counts them, and
// only the page's documents are read.
func (c *compiled) run(ctx context.Context, tx *sql.Tx, x *searchIndex, facets, histogram bool, hits *index.Hits) error {
	snap, err := x.catchUp(ctx, tx)
	if err != nil {
		return err
	}
	lo, hi, bounded, err := c.windowRIDs(ctx, tx)
	if err != nil {
		return err
	}
	if !bounded {
		lo, hi = math.MinInt64, math.MaxInt64
	}
	all := c.sel == ""
	var cands []candidate
	if all {
		// The copy holds no rid past maxMemoryRID.
		cands, err = selectCandidates(ctx, tx, `SELECT rid, 0.0 FROM articles WHERE rid >= ? AND rid BETWEEN ? AND ?`,
			maxMemoryRID, lo, hi)
	} else {
		q, args := c.sel, c.args
		if bounded {
			// FTS5 takes rowid bounds into its scan: posting lists are
			// read from lo, and no further than hi.
			q += ` AND ` + c.bound + ` BETWEEN ? AND ?`
			args = append(slices.Clip(args), lo, hi)
		}
		cands, err = selectCandidates(ctx, tx, q, args...)
	}
	if err != nil {
		return err
	}
	offset := c.offset()
	g := newAggregator(c, facets, histogram, offset+c.limit+1)
	late := x.collect(c, snap, cands, all, lo, hi, g)
	if all {
		late = append(late, cands...)
	}
	if err := collectLate(ctx, tx, c, late, g); err != nil {
		return err
	}
	page := g.result(hits)
	return c.fill(ctx, tx, page[min(offset, len(page)):], offset, hits)
}

func selectCandidates(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]candidate, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var cd candidate
		if err := rows.Scan(&cd.rid, &cd.score); err != nil {
			return nil, err
		}
		out = append(out, cd)
	}
	return out, rows.Err()
}

// afterCursor reports whether r may be on the page the cursor asks for:
// under the date sort, rows after the cursor's; under relevance, any row,
// the offset skipping the earlier pages.
func (c *compiled) afterCursor(r pageRow) bool {
	if c.sort != index.SortDate || c.cur.Sort == "" {
		return true
	}
	return r.date < c.cur.Date || (r.date == c.cur.Date && r.rid < c.cur.RID)
}

// addDay counts n matches with the given topics and countries (list
// columns) on the day with number day since 1970-01-01.
func addDay(days map[int64]*index.DayCount, day int64, topics, countries string, n int) {
	dc := days[day]
	if dc == nil {
		dc = &index.DayCount{Day: time.Unix(day*86400, 0).UTC()}
		days[day] = dc
	}
	dc.Count += n
	for _, t := range splitList(topics) {
		if dc.Topics == nil {
			dc.Topics = map[string]int{}
		}
		dc.Topics[t] += n
	}
	for _, c := range splitList(countries) {
		if dc.Countries == nil {
			dc.Countries = map[string]int{}
		}
		dc.Countries[c] += n
	}
}

// sortDays lists the days oldest first.
func sortDays(days map[int64]*index.DayCount) []index.DayCount {
	out := make([]index.DayCount, 0, len(days))
	for _, dc := range days {
		out = append(out, *dc)
	}
	slices.SortFunc(out, func(a, b index.DayCount) int { return a.Day.Compare(b.Day) })
	return out
}

// comparePage orders page rows: by score under the relevance sort, then
// newest first, then by rid.
func (c *compiled) comparePage(a, b pageRow) int {
	if c.sort != index.SortDate {
		if r := cmp.Compare(b.score, a.score); r != 0 {
			return r
		}
	}
	if r := cmp.Compare(b.date, a.date); r != 0 {
		return r
	}
	return cmp.Compare(b.rid, a.rid)
}

// sortFacet orders by count, largest first, then by value for a stable page.
func sortFacet(fc []index.FacetCount) {
	slices.SortFunc(fc, func(a, b index.FacetCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
}

// fill reads the documents of page (one row more than the limit tells that
// another page exists), makes their snippets and the next cursor.
func (c *compiled) fill(ctx context.Context, tx *sql.Tx, page []pageRow, offset int, hits *index.Hits) error {
	more := len(page) > c.limit
	if more {
		page = page[:c.limit]
	}
	if len(page) == 0 {
		return nil
	}
	ids := make([]any, len(page))
	for i, r := range page {
		ids[i] = r.rid
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+docColumns+` FROM `+docFrom+` WHERE a.rid IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	docs := make(map[int64]news.Document, len(page))
	for rows.Next() {
		d, rid, err := scanDoc(rows)
		if err != nil {
			return err
		}
		docs[rid] = d
	}
	if err := rows.Err(); err != nil {
		return err
	}
	hits.Docs = make([]index.Hit, 0, len(page))
	for _, r := range page {
		d, ok := docs[r.rid]
		if !ok {
			return fmt.Errorf("article %d vanished inside a read transaction", r.rid)
		}
		h := index.Hit{Document: d, Score: r.score}
		if !c.noSnippets {
			h.Snippet = snippet(searchText(d.Summary, d.Text), c.words)
		}
		hits.Docs = append(hits.Docs, h)
	}
	if more {
		last := page[len(page)-1]
		next := cursor{Sort: string(c.sort), FP: c.fp}
		if c.sort == index.SortDate {
			next.Date, next.RID = last.date, last.rid
		} else {
			next.Offset = offset + c.limit
		}
		hits.NextCursor = next.encode()
	}
	return nil
}

// cursor is the opaque Hits.NextCursor: where the next page starts, and a
// fingerprint of the query it belongs to.
type cursor struct {
	Sort   string `json:"s"`
	FP     uint64 `json:"q"`
	Date   int64  `json:"d,omitempty"`
	RID    int64  `json:"r,omitempty"`
	Offset int    `json:"o,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // a struct of numbers and a string cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, fmt.Errorf("%w: malformed cursor", index.ErrBadQuery)
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return cursor{}, fmt.Errorf("%w: malformed cursor", index.ErrBadQuery)
	}
	if c.Offset < 0 || (c.Sort != string(index.SortDate) && c.Sort != string(index.SortRelevance)) {
		return cursor{}, fmt.Errorf("%w: malformed cursor", index.ErrBadQuery)
	}
	return c, nil
}

// fingerprint identifies what a query selects and how it sorts, so a cursor is
// not replayed against another query.
func fingerprint(q index.Query) uint64 {
	h := fnv.New64a()
	w := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	w(q.Text, string(q.Sort))
	w(q.Topics...)
	w(q.Countries...)
	w(strs(q.Actions)...)
	w(strs(q.Treaties)...)
	w(q.Sources...)
	w(q.Languages...)
	w(fmt.Sprint(q.Since.UnixNano(), q.Until.UnixNano(), q.RelevantOnly))
	return h.Sum64()
}

// Optimize merges the FTS index's segments into one. Every search reads each
// query term's posting list once per segment, so after a bulk load (hundreds
// of segments from many small transactions) a search pays for all of them.
// It rewrites the whole FTS index and holds the write lock while it does:
// run it after loading or from maintenance, not on every write.
func (s *Store) Optimize(ctx context.Context) error {
	if _, err := s.writer.ExecContext(ctx, `INSERT INTO articles_fts(articles_fts) VALUES ('optimize')`); err != nil {
		return fmt.Errorf("disk: optimize: %w", err)
	}
	// The rewrite leaves the whole FTS index in the WAL, outside the
	// readers' memory map, and with readers busy no automatic checkpoint
	// moves it back: a search bench run right after it on 100k articles
	// stalled for minutes until the WAL was checkpointed.
	if _, err := s.writer.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("disk: optimize: checkpoint: %w", err)
	}
	return nil
}

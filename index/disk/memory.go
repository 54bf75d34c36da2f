package disk

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
)

// searchIndex is the in-memory copy of what searches filter, count and sort
// by: each article's date, relevance and filter values, by rid. SQL gives a
// search its candidates (FTS matches with their bm25 score, or the articles
// of a NOT query) and the documents of the page; everything in between is
// array reads here. Joining each FTS match to its articles row cost about
// 2 µs a row, and returning its value strings 1 µs more; this costs tens
// of nanoseconds, at 41 bytes per article (arrays that grow by doubling:
// at most 82 MB per million).
//
// It follows the table search_seq (schema version 5) as storyIndex follows
// story_keys: triggers stamp every change of an article's row with a
// growing seq, whoever made it; a search reads, in its own read
// transaction, the stamps after the last one applied. A row changed after a
// search's snapshot (by a concurrent search's catch-up that saw a newer
// one) is read again from SQL in the search's transaction (late), so that
// Total, facets and the page always describe one snapshot.
type searchIndex struct {
	mu  sync.RWMutex
	seq int64 // the highest search_seq.seq applied
	// By rid; rids are handed out by SQLite as max(rid)+1, so they are dense.
	seqs  []int64 // the stamp of the row's last change; 0: never seen
	dates []int64 // sort_date
	flags []uint8 // rowPresent, rowRelevant
	// vals[d][rid] is the id of the row's value of dimension d in dict[d]:
	// the source, the language, or a whole list column (joinSet form).
	vals [dims][]uint32
	dict [dims]interner
}

const (
	rowPresent = 1 << iota // the article exists (a stamp may be a deletion)
	rowRelevant
)

// Dimensions of the filter values, in facetOrder.
const (
	dimSource = iota
	dimLanguage
	dimTopics
	dimCountries
	dimActions
	dimTreaties
	dims
)

// maxMemoryRID bounds the arrays: a rid past it is not SQLite's max+1 but
// a row someone inserted by hand, and is read from SQL instead.
const maxMemoryRID = 1 << 30

// interner numbers distinct strings.
type interner struct {
	ids  map[string]uint32
	strs []string
}

func (d *interner) id(s string) uint32 {
	if id, ok := d.ids[s]; ok {
		return id
	}
	if d.ids == nil {
		d.ids = map[string]uint32{}
	}
	id := uint32(len(d.strs))
	d.ids[s] = id
	d.strs = append(d.strs, s)
	return id
}

// memRow is one article's values as SQL gives them.
type memRow struct {
	seq, rid, date    int64
	present, relevant bool
	vals              [dims]string
}

// memColumns are scanned by scanMemRow, in this order, from articles a.
const memColumns = `a.sort_date, a.relevant, a.source_id, a.language, a.topics, a.countries, a.actions, a.treaties`

func scanMemRow(rows *sql.Rows, r *memRow, withSeq bool) error {
	dest := []any{&r.date, &r.relevant, &r.vals[dimSource], &r.vals[dimLanguage], &r.vals[dimTopics],
		&r.vals[dimCountries], &r.vals[dimActions], &r.vals[dimTreaties]}
	if withSeq {
		dest = append([]any{&r.seq, &r.rid, &r.present}, dest...)
	} else {
		dest = append([]any{&r.rid}, dest...)
		r.present = true
	}
	return rows.Scan(dest...)
}

// apply copies one stamped row, unless a newer stamp of it is applied.
func (x *searchIndex) apply(r *memRow) {
	x.seq = max(x.seq, r.seq)
	if r.rid <= 0 || r.rid >= maxMemoryRID {
		return // read from SQL by every search that meets it (late)
	}
	if n := int(r.rid) + 1; n > len(x.seqs) {
		grow := max(n, 2*len(x.seqs), 1024)
		x.seqs = append(x.seqs, make([]int64, grow-len(x.seqs))...)
		x.dates = append(x.dates, make([]int64, grow-len(x.dates))...)
		x.flags = append(x.flags, make([]uint8, grow-len(x.flags))...)
		for d := range x.vals {
			x.vals[d] = append(x.vals[d], make([]uint32, grow-len(x.vals[d]))...)
		}
	}
	if r.seq <= x.seqs[r.rid] {
		return
	}
	x.seqs[r.rid] = r.seq
	x.flags[r.rid] = 0
	if !r.present {
		return
	}
	x.flags[r.rid] = rowPresent
	if r.relevant {
		x.flags[r.rid] |= rowRelevant
	}
	x.dates[r.rid] = r.date
	for d := range x.vals {
		x.vals[d][r.rid] = x.dict[d].id(r.vals[d])
	}
}

// catchUp applies, in tx, the stamps after the last applied one, and returns
// the highest stamp tx sees: the search's snapshot. The rows are read
// without the lock, so searches keep running while a first load of a large
// index streams in; apply skips what another catch-up applied meanwhile.
func (x *searchIndex) catchUp(ctx context.Context, tx *sql.Tx) (snap int64, err error) {
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM search_seq`).Scan(&snap); err != nil {
		return 0, fmt.Errorf("search index: %w", err)
	}
	x.mu.RLock()
	from := x.seq
	x.mu.RUnlock()
	if from >= snap {
		return snap, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT s.seq, s.rid, a.rid IS NOT NULL,
		coalesce(a.sort_date, 0), coalesce(a.relevant, 0), coalesce(a.source_id, ''), coalesce(a.language, ''),
		coalesce(a.topics, ''), coalesce(a.countries, ''), coalesce(a.actions, ''), coalesce(a.treaties, '')
		FROM search_seq s LEFT JOIN articles a ON a.rid = s.rid WHERE s.seq > ? ORDER BY s.seq`, from)
	if err != nil {
		return 0, fmt.Errorf("search index: %w", err)
	}
	defer rows.Close()
	// Applied in batches, so that a first load neither holds the lock for
	// long nor keeps a copy of every row.
	const batch = 4096
	buf := make([]memRow, 0, 64)
	flush := func() {
		x.mu.Lock()
		for i := range buf {
			x.apply(&buf[i])
		}
		x.mu.Unlock()
		buf = buf[:0]
	}
	for rows.Next() {
		buf = append(buf, memRow{})
		if err := scanMemRow(rows, &buf[len(buf)-1], true); err != nil {
			return 0, fmt.Errorf("search index: %w", err)
		}
		if len(buf) == batch {
			flush()
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("search index: %w", err)
	}
	flush()
	return snap, nil
}

// WarmSearch loads the in-memory copy searches use, so that the first search
// after start does not pay for it (about 0.2 s per 100,000 articles). A
// server calls it in the background when it starts; searches work without.
func (s *Store) WarmSearch(ctx context.Context) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("disk: warm search: %w", err)
	}
	defer tx.Rollback()
	if _, err := s.search.catchUp(ctx, tx); err != nil {
		return fmt.Errorf("disk: warm search: %w", err)
	}
	return nil
}

// candidate is a row SQL selected: an article and its relevance.
type candidate struct {
	rid   int64
	score float64
}

// collect passes the candidates to g, or every article with a rid in
// [lo, hi] when all is set, keeping those in c's date window (and relevant,
// if asked). It returns the candidates it cannot answer for the snapshot
// snap: changed after it, or unknown to the copy.
func (x *searchIndex) collect(c *compiled, snap int64, cands []candidate, all bool, lo, hi int64, g *aggregator) (late []candidate) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	g.start(x)
	defer g.finishMemory(x)
	keep := func(rid int64, score float64) {
		f := x.flags[rid]
		if f&rowPresent == 0 || (c.relevantOnly && f&rowRelevant == 0) {
			return
		}
		if d := x.dates[rid]; d >= c.since && d < c.until {
			g.addMemory(x, rid, d, score)
		}
	}
	if all {
		for rid := max(1, lo); rid <= hi && rid < int64(len(x.seqs)); rid++ {
			switch s := x.seqs[rid]; {
			case s == 0:
			case s > snap:
				late = append(late, candidate{rid: rid})
			default:
				keep(rid, 0)
			}
		}
		return late
	}
	for _, cd := range cands {
		if cd.rid <= 0 || cd.rid >= int64(len(x.seqs)) || x.seqs[cd.rid] == 0 || x.seqs[cd.rid] > snap {
			late = append(late, cd)
			continue
		}
		keep(cd.rid, cd.score)
	}
	return late
}

// collectLate reads the late candidates' rows in tx and passes those in the
// window to g. Under all (every article a candidate), late rows newer than
// the snapshot are simply absent from it.
func collectLate(ctx context.Context, tx *sql.Tx, c *compiled, late []candidate, g *aggregator) error {
	if len(late) == 0 {
		return nil
	}
	ids := make([]int64, len(late))
	score := make(map[int64]float64, len(late))
	for i, cd := range late {
		ids[i] = cd.rid
		score[cd.rid] = cd.score
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT a.rid, `+memColumns+` FROM articles a
		WHERE a.rid IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return fmt.Errorf("late rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r memRow
		if err := scanMemRow(rows, &r, false); err != nil {
			return fmt.Errorf("late rows: %w", err)
		}
		if (c.relevantOnly && !r.relevant) || r.date < c.since || r.date >= c.until {
			continue
		}
		g.addValues(r.rid, r.date, score[r.rid], &r.vals)
	}
	return rows.Err()
}

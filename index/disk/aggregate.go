package disk

import (
	"container/heap"
	"database/sql"

	"github.com/minewatch/minewatch/index"
)

// aggregator counts a match set as its rows stream out of SQLite: Total, the
// facets and the histogram, and the best rows for the page. Go does this
// several times faster than SQLite's GROUP BY and ORDER BY, which sort the
// whole match set: a 6-month window of 3,158 matches spent 6 ms sorting
// them for facets that had 3,135 distinct combinations of values.
type aggregator struct {
	c *compiled
	// keep is how many of the best rows the page needs (offset, limit and
	// one more, which tells that another page exists); 0 when the page
	// comes from elsewhere.
	keep int
	page pageHeap

	total int
	// facet and histogram cells, by combination key (see schemaV2), with
	// the values of the first row of each combination.
	facets map[int64]*cell
	days   map[dayKey]*cell
}

// cell counts the rows of one combination of values.
type cell struct {
	n     int
	value string // the values joined by histSep, as addFacets and addDay read them
}

type dayKey struct{ day, hist int64 }

// aggRow is one streamed row; the RawBytes are valid until the next scan.
type aggRow struct {
	rid, date, facetKey, histKey              int64
	score                                     float64
	source, lang, topics, countries, act, trt sql.RawBytes
}

// aggColumns are the columns of an aggregated row, in scan order, with
// score the relevance expression.
func aggColumns(score string, facets bool) string {
	cols := `a.rid, a.sort_date, ` + score
	if facets {
		cols += `, a.facet_key, a.hist_key, a.source_id, a.language, a.topics, a.countries, a.actions, a.treaties`
	}
	return cols
}

func (g *aggregator) scan(rows *sql.Rows, r *aggRow, facets bool) error {
	if !facets {
		return rows.Scan(&r.rid, &r.date, &r.score)
	}
	return rows.Scan(&r.rid, &r.date, &r.score, &r.facetKey, &r.histKey, &r.source, &r.lang,
		&r.topics, &r.countries, &r.act, &r.trt)
}

// add counts one row.
func (g *aggregator) add(r *aggRow) {
	g.total++
	if g.facets != nil {
		f := g.facets[r.facetKey]
		if f == nil {
			f = &cell{value: join(histSep, r.source, r.lang, r.topics, r.countries, r.act, r.trt)}
			g.facets[r.facetKey] = f
		}
		f.n++
	}
	if g.days != nil {
		k := dayKey{day: dayOf(r.date), hist: r.histKey}
		d := g.days[k]
		if d == nil {
			d = &cell{value: join(histSep, r.topics, r.countries)}
			g.days[k] = d
		}
		d.n++
	}
	if g.keep > 0 {
		p := pageRow{rid: r.rid, date: r.date, score: r.score}
		if !g.c.afterCursor(p) {
			return
		}
		if len(g.page.rows) < g.keep {
			heap.Push(&g.page, p)
		} else if g.c.comparePage(p, g.page.rows[0]) < 0 {
			// Better than the worst row kept.
			g.page.rows[0] = p
			heap.Fix(&g.page, 0)
		}
	}
}

// result fills hits from the counts and returns the page rows, best first.
func (g *aggregator) result(hits *index.Hits) []pageRow {
	hits.Total = g.total
	if g.facets != nil {
		counts := make(map[string]map[string]int, len(facetOrder))
		for _, name := range facetOrder {
			counts[name] = map[string]int{}
		}
		for _, f := range g.facets {
			addFacets(counts, f.value, f.n)
		}
		hits.Facets = make(map[string][]index.FacetCount, len(counts))
		for name, byValue := range counts {
			fc := make([]index.FacetCount, 0, len(byValue))
			for v, n := range byValue {
				fc = append(fc, index.FacetCount{Value: v, Count: n})
			}
			sortFacet(fc)
			hits.Facets[name] = fc
		}
	}
	if g.days != nil {
		days := map[int64]*index.DayCount{}
		for k, d := range g.days {
			addDay(days, k.day, d.value, d.n)
		}
		hits.Histogram = sortDays(days)
	}
	page := make([]pageRow, len(g.page.rows))
	for i := len(page) - 1; i >= 0; i-- {
		page[i] = heap.Pop(&g.page).(pageRow)
	}
	return page
}

// dayOf is the number of the UTC day of a sort_date, floored for dates
// before 1970 too.
func dayOf(nanos int64) int64 {
	const ns = 86_400_000_000_000
	d := nanos / ns
	if nanos%ns < 0 {
		d--
	}
	return d
}

func join(sep string, parts ...sql.RawBytes) string {
	n := len(sep) * (len(parts) - 1)
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, sep...)
		}
		b = append(b, p...)
	}
	return string(b)
}

// pageHeap keeps the best rows seen with the worst on top, so a better row
// replaces it in O(log keep).
type pageHeap struct {
	c    *compiled
	rows []pageRow
}

func (h *pageHeap) Len() int           { return len(h.rows) }
func (h *pageHeap) Less(i, j int) bool { return h.c.comparePage(h.rows[i], h.rows[j]) > 0 }
func (h *pageHeap) Swap(i, j int)      { h.rows[i], h.rows[j] = h.rows[j], h.rows[i] }
func (h *pageHeap) Push(x any)         { h.rows = append(h.rows, x.(pageRow)) }
func (h *pageHeap) Pop() any {
	r := h.rows[len(h.rows)-1]
	h.rows = h.rows[:len(h.rows)-1]
	return r
}

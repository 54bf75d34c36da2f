package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/minewatch/minewatch/index"
)

const (
	// maxExportRows caps an export: beyond it analysts should narrow the search.
	maxExportRows = 10_000
	// exportPage is the page size used to walk the result set by cursor.
	exportPage = 500
)

// exportHits walks the result set page by page. The first page's error is
// returned before anything is written, so it can still become a proper error
// response; a later failure ends the iteration with its error.
func (s *Server) exportHits(ctx context.Context, q index.Query) (first index.Hits, rest iter.Seq2[index.Hit, error], err error) {
	q.Limit, q.Facets, q.Histogram, q.Cursor = exportPage, false, false, ""
	first, err = s.search.Search(ctx, q)
	if err != nil {
		return first, nil, err
	}
	rest = func(yield func(index.Hit, error) bool) {
		hits, n := first, 0
		for {
			for _, h := range hits.Docs {
				if n >= maxExportRows {
					return
				}
				n++
				if !yield(h, nil) {
					return
				}
			}
			if hits.NextCursor == "" || n >= maxExportRows {
				return
			}
			q.Cursor = hits.NextCursor
			var err error
			if hits, err = s.search.Search(ctx, q); err != nil {
				yield(index.Hit{}, err)
				return
			}
		}
	}
	return first, rest, nil
}

// exportQuery parses the URL state and answers problems the way the API does.
func (s *Server) exportQuery(w http.ResponseWriter, r *http.Request) (index.Query, bool) {
	p, err := parseParams(r.URL.Query())
	var q index.Query
	if err == nil {
		q, err = p.query(s.now())
	}
	if err != nil {
		s.writeProblem(w, r, http.StatusBadRequest, problemBadParameter, "Bad search parameter", badParamMessage(err))
		return q, false
	}
	return q, true
}

func (s *Server) exportStart(w http.ResponseWriter, r *http.Request) (index.Hits, iter.Seq2[index.Hit, error], bool) {
	ctx := r.Context()
	q, ok := s.exportQuery(w, r)
	if !ok {
		return index.Hits{}, nil, false
	}
	first, rest, err := s.exportHits(ctx, q)
	switch {
	case errors.Is(err, index.ErrBadQuery):
		s.writeProblem(w, r, http.StatusBadRequest, problemBadQuery, "Bad query", badQueryMessage(err))
		return first, nil, false
	case err != nil:
		if ctx.Err() == nil {
			s.log.ErrorContext(ctx, "export search", "err", err)
			s.writeProblem(w, r, http.StatusInternalServerError, "", "", "the search failed")
		}
		return first, nil, false
	}
	return first, rest, true
}

func exportFilename(ext string, now time.Time) string {
	return fmt.Sprintf(`attachment; filename="minewatch-%s.%s"`, now.UTC().Format("2006-01-02-1504"), ext)
}

var csvHeader = []string{"id", "published", "first_seen", "source", "language", "title", "url", "topics", "moves", "score", "permalink"}

func (s *Server) handleExportCSV(w http.ResponseWriter, r *http.Request) {
	first, rest, ok := s.exportStart(w, r)
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", exportFilename("csv", s.now()))
	h.Set("X-Total-Count", fmt.Sprint(min(first.Total, maxExportRows)))
	bw := bufio.NewWriterSize(w, 32<<10)
	cw := csv.NewWriter(bw)
	_ = cw.Write(csvHeader)
	base := baseURL(r)
	for hit, err := range rest {
		if err != nil {
			// Headers are sent: the truncated file ends with a row saying so
			// rather than silently looking complete.
			s.log.ErrorContext(r.Context(), "export csv page", "err", err)
			_ = cw.Write([]string{"# export stopped early: the search failed"})
			break
		}
		_ = cw.Write(safeCells(csvRow(hit, base)))
	}
	cw.Flush()
	_ = bw.Flush()
}

func csvRow(h index.Hit, base string) []string {
	d := h.Document
	var moves []string
	for _, e := range d.Classification.Entities {
		moves = append(moves, e.Key())
	}
	return []string{
		d.ID, rfc3339(d.Published), rfc3339(d.FirstSeen), d.SourceID, d.Language,
		strings.TrimSpace(d.Title), firstNonEmpty(d.CanonicalURL, d.URL),
		strings.Join(d.Classification.TopicIDs(), ";"), strings.Join(moves, ";"),
		fmt.Sprintf("%.3f", h.Score), base + "/articles/" + d.ID,
	}
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// safeCells defuses spreadsheet formulas (CSV injection): a cell starting with
// = + - @ (or a tab or carriage return, which some spreadsheets skip) gets a
// leading apostrophe, which spreadsheets show as text.
func safeCells(row []string) []string {
	for i, c := range row {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			row[i] = "'" + c
		}
	}
	return row
}

func (s *Server) handleExportJSON(w http.ResponseWriter, r *http.Request) {
	first, rest, ok := s.exportStart(w, r)
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if r.URL.Path == "/export.json" {
		h.Set("Content-Disposition", exportFilename("json", s.now()))
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(true)
	fmt.Fprintf(bw, `{"total":%d,"max_rows":%d,"results":[`, first.Total, maxExportRows)
	n := 0
	complete := true
	for hit, err := range rest {
		if err != nil {
			s.log.ErrorContext(r.Context(), "export json page", "err", err)
			complete = false
			break
		}
		if n > 0 {
			_ = bw.WriteByte(',')
		}
		n++
		_ = enc.Encode(newAPIResult(hit))
	}
	fmt.Fprintf(bw, `],"count":%d,"complete":%t,"truncated":%t}`+"\n", n, complete, complete && n < first.Total)
	_ = bw.Flush()
}

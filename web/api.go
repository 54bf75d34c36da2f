package web

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// Problem types (RFC 9457). Generic errors use about:blank, whose title is the
// HTTP status text.
const (
	problemBadQuery     = "urn:minewatch:problem:bad-query"
	problemBadParameter = "urn:minewatch:problem:bad-parameter"
)

// problem is an RFC 9457 problem details object.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, status int, typ, title, detail string) {
	if typ == "" {
		typ = "about:blank"
		title = http.StatusText(status)
	}
	s.writeJSON(w, r, status, "application/problem+json", problem{Type: typ, Title: title, Status: status, Detail: detail})
}

func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, contentType string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true) // belt and braces if a client renders it as HTML
	if err := enc.Encode(v); err != nil {
		s.log.ErrorContext(r.Context(), "encode json", "path", r.URL.Path, "err", err)
		http.Error(w, `{"type":"about:blank","title":"Internal Server Error","status":500}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType+"; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// apiSearch is the /api/search answer.
type apiSearch struct {
	Total      int                           `json:"total"`
	NextCursor string                        `json:"next_cursor"`
	Facets     map[string][]index.FacetCount `json:"facets"`
	Results    []apiResult                   `json:"results"`
	Histogram  []index.DayCount              `json:"histogram,omitempty"`
}

type apiResult struct {
	ID           string            `json:"id"`
	URL          string            `json:"url"`
	CanonicalURL string            `json:"canonical_url"`
	Title        string            `json:"title"`
	Source       string            `json:"source"`
	Published    *time.Time        `json:"published"`
	FirstSeen    *time.Time        `json:"first_seen"`
	Language     string            `json:"language"`
	Topics       []news.TopicScore `json:"topics"`
	Entities     []news.Entity     `json:"entities"`
	Score        float64           `json:"score"`
	Snippet      []index.Fragment  `json:"snippet"`
}

func (s *Server) handleAPISearch(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := parseParams(r.URL.Query())
	var q index.Query
	if err == nil {
		q, err = p.query(s.now())
	}
	if err == nil {
		switch h := r.URL.Query().Get("histogram"); h {
		case "1", "true":
			q.Histogram = true
		case "", "0", "false":
		default:
			err = fmt.Errorf("%w: histogram %q: want 1 or 0", ErrBadParameter, h)
		}
	}
	if err != nil {
		s.writeProblem(w, r, http.StatusBadRequest, problemBadParameter, "Bad search parameter", badParamMessage(err))
		return
	}
	hits, err := s.search.Search(ctx, q)
	switch {
	case errors.Is(err, index.ErrBadQuery):
		s.writeProblem(w, r, http.StatusBadRequest, problemBadQuery, "Bad query", badQueryMessage(err))
		return
	case err != nil:
		if ctx.Err() != nil {
			return
		}
		s.log.ErrorContext(ctx, "api search", "q", q.Text, "err", err)
		s.writeProblem(w, r, http.StatusInternalServerError, "", "", "the search failed")
		return
	}
	out := apiSearch{
		Total:      hits.Total,
		NextCursor: hits.NextCursor,
		Facets:     make(map[string][]index.FacetCount, len(hits.Facets)),
		Results:    make([]apiResult, 0, len(hits.Docs)),
	}
	if q.Histogram {
		out.Histogram = nonNil(hits.Histogram)
	}
	for name, counts := range hits.Facets {
		if counts == nil {
			counts = []index.FacetCount{}
		}
		out.Facets[name] = counts
	}
	for _, h := range hits.Docs {
		out.Results = append(out.Results, newAPIResult(h))
	}
	s.writeJSON(w, r, http.StatusOK, "application/json", out)
}

func newAPIResult(h index.Hit) apiResult {
	d := h.Document
	res := apiResult{
		ID:           d.ID,
		URL:          d.URL,
		CanonicalURL: d.CanonicalURL,
		Title:        d.Title,
		Source:       d.SourceID,
		Published:    optTime(d.Published),
		FirstSeen:    optTime(d.FirstSeen),
		Language:     d.Language,
		Topics:       make([]news.TopicScore, 0, len(d.Classification.Topics)),
		Entities:     nonNil(d.Classification.Entities),
		Score:        h.Score,
		Snippet:      nonNil(h.Snippet),
	}
	// Rule matches belong to the article endpoint; in a result list they would
	// multiply the payload for little use.
	for _, t := range d.Classification.Topics {
		res.Topics = append(res.Topics, news.TopicScore{Topic: t.Topic, Score: t.Score})
	}
	return res
}

// apiArticle is a full document with snake_case names, like the rest of the API.
type apiArticle struct {
	ID             string              `json:"id"`
	Source         string              `json:"source"`
	URL            string              `json:"url"`
	CanonicalURL   string              `json:"canonical_url"`
	Title          string              `json:"title"`
	Summary        string              `json:"summary"`
	Text           string              `json:"text"`
	Language       string              `json:"language"`
	Authors        []string            `json:"authors"`
	SiteName       string              `json:"site_name"`
	Published      *time.Time          `json:"published"`
	PublishedFrom  string              `json:"published_from"`
	FirstSeen      *time.Time          `json:"first_seen"`
	StoryID        string              `json:"story_id"`
	Classification news.Classification `json:"classification"`
	// OtherOutlets are near-duplicates (same StoryID) when the searcher can
	// list stories; [] otherwise.
	OtherOutlets []apiOutlet `json:"other_outlets"`
}

type apiOutlet struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Source    string     `json:"source"`
	URL       string     `json:"url"`
	Published *time.Time `json:"published"`
}

func (s *Server) handleAPIArticle(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	doc, err := s.getDocument(ctx, id)
	switch {
	case errors.Is(err, index.ErrNotFound):
		s.writeProblem(w, r, http.StatusNotFound, "", "", "no article with this id")
		return
	case err != nil:
		if ctx.Err() != nil {
			return
		}
		s.log.ErrorContext(ctx, "api get article", "article_id", id, "err", err)
		s.writeProblem(w, r, http.StatusInternalServerError, "", "", "the index did not answer")
		return
	}
	c := doc.Classification
	c.Topics = nonNil(c.Topics)
	c.Entities = nonNil(c.Entities)
	s.writeJSON(w, r, http.StatusOK, "application/json", apiArticle{
		ID: doc.ID, Source: doc.SourceID, URL: doc.URL, CanonicalURL: doc.CanonicalURL,
		Title: doc.Title, Summary: doc.Summary, Text: doc.Text, Language: doc.Language,
		Authors: nonNil(doc.Authors), SiteName: doc.SiteName,
		Published: optTime(doc.Published), PublishedFrom: doc.PublishedFrom,
		FirstSeen: optTime(doc.FirstSeen), StoryID: doc.StoryID, Classification: c,
		OtherOutlets: s.otherOutlets(ctx, doc, nil),
	})
}

type apiSource struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Kind     news.SourceKind `json:"kind"`
	URL      string          `json:"url"`
	Language string          `json:"language"`
	Country  string          `json:"country"`
	Schedule string          `json:"schedule"`
	Healthy  bool            `json:"healthy"`
	NextRun  *time.Time      `json:"next_run"`
	State    apiSourceState  `json:"state"`
}

type apiSourceState struct {
	URL                 string     `json:"url"`
	NextCheck           *time.Time `json:"next_check"`
	LastAttempt         *time.Time `json:"last_attempt"`
	LastSuccess         *time.Time `json:"last_success"`
	LastError           string     `json:"last_error"`
	LastErrorClass      string     `json:"last_error_class"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	ItemsSeen           int        `json:"items_seen"`
	ArticlesTotal       int        `json:"articles_total"`
}

func (s *Server) handleAPISources(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.sources == nil {
		s.writeProblem(w, r, http.StatusNotFound, "", "", "source status is not available on this server")
		return
	}
	sts, err := s.sources.SourceStatuses(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.log.ErrorContext(ctx, "api list sources", "err", err)
		s.writeProblem(w, r, http.StatusInternalServerError, "", "", "the source list is not available")
		return
	}
	out := make([]apiSource, 0, len(sts))
	for _, st := range parseSourceFilter(r.URL.Query()).apply(sts) {
		src, state := st.Source, st.State
		out = append(out, apiSource{
			ID: src.ID, Name: src.Name, Kind: src.Kind, URL: src.URL, Language: src.Language,
			Country: src.Country, Schedule: src.Schedule, Healthy: state.Healthy(),
			NextRun: optTime(st.NextRun),
			State: apiSourceState{
				URL: state.URL, NextCheck: optTime(state.NextCheck), LastAttempt: optTime(state.LastAttempt),
				LastSuccess: optTime(state.LastSuccess), LastError: state.LastError,
				LastErrorClass: state.LastErrorClass, ConsecutiveFailures: state.ConsecutiveFailures,
				ItemsSeen: state.ItemsSeen, ArticlesTotal: state.ArticlesTotal,
			},
		})
	}
	s.writeJSON(w, r, http.StatusOK, "application/json", out)
}

func (s *Server) handleAPINotFound(w http.ResponseWriter, r *http.Request) {
	s.writeProblem(w, r, http.StatusNotFound, "", "", "no API endpoint at "+r.URL.Path)
}

// optTime maps the zero time to JSON null: "0001-01-01T00:00:00Z" reads like
// a date to a client that does not know Go.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(openAPIDoc)
}

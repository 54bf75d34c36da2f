// Package web serves minewatch to analysts: search, article, events and source-health
// views, saved searches with Atom feeds and exports, the JSON API, health and metrics.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// Searcher is the part of the index the web needs. Implementations must be
// safe for concurrent use: every request calls it from its own goroutine.
type Searcher interface {
	Search(ctx context.Context, q index.Query) (index.Hits, error)
	Get(ctx context.Context, id string) (news.Document, error)
}

// SourceStatus is one configured source with what the monitor knows of it.
type SourceStatus struct {
	Source  news.Source
	State   news.SourceState
	NextRun time.Time // zero when not scheduled
}

// SourceLister reports the sources and their fetch health; it must be safe
// for concurrent use.
type SourceLister interface {
	SourceStatuses(ctx context.Context) ([]SourceStatus, error)
}

// Options configure a Server. Searcher is required; the rest have defaults.
type Options struct {
	Searcher Searcher
	Sources  SourceLister // may be nil: /sources then says it is unavailable
	Logger   *slog.Logger
	// Gatherer backs /metrics; nil means no /metrics. It is injected so the
	// caller decides what is exposed and no global registry is involved.
	Gatherer prometheus.Gatherer
	// Ready backs /readyz; nil means always ready.
	Ready func(ctx context.Context) error
	// Now anchors the date presets; nil means time.Now.
	Now func() time.Time
	// Events backs /events (treaty moves per country); nil shows the treaty
	// status table and map without timelines.
	Events EventLister
	// Saved backs saved searches and their Atom feeds; nil hides the feature.
	Saved SearchSaver
	// Registerer receives the web's request metrics (requests by route and
	// status, latency); nil means none are kept. Pass the registry whose
	// Gatherer serves /metrics.
	Registerer prometheus.Registerer
}

// EventLister lists recorded treaty moves (index.EventStore's read half).
type EventLister interface {
	Events(ctx context.Context, f index.EventFilter) ([]news.Event, error)
}

// SearchSaver keeps analysts' saved searches; index.SearchSaver satisfies it.
type SearchSaver = index.SearchSaver

// StoryLister is an optional extension of Searcher: when the searcher also
// lists the documents of a story (near-duplicates grouped by StoryID), the
// article view shows "+N other outlets". index.Store has no such method yet.
type StoryLister interface {
	StoryDocuments(ctx context.Context, storyID string, limit int) ([]news.Document, error)
}

// ErrNoSearcher is returned by New when Options.Searcher is nil.
var ErrNoSearcher = errors.New("web: no searcher")

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// Server is the http.Handler for the whole site. It is safe for concurrent use
// and holds no mutable state after New.
type Server struct {
	search   Searcher
	sources  SourceLister
	log      *slog.Logger
	ready    func(ctx context.Context) error
	now      func() time.Time
	pages    map[string]*template.Template
	styleTag string // content hash, for cache busting and ETag
	handler  http.Handler
	events   EventLister
	saved    SearchSaver
	stories  StoryLister // nil when the searcher cannot list stories
	metrics  *httpMetrics
}

// New builds the server and parses every template, so a broken template fails
// at start-up rather than on the first request.
func New(opts Options) (*Server, error) {
	if opts.Searcher == nil {
		return nil, ErrNoSearcher
	}
	s := &Server{
		search:  opts.Searcher,
		sources: opts.Sources,
		log:     opts.Logger,
		ready:   opts.Ready,
		now:     opts.Now,
		events:  opts.Events,
		saved:   opts.Saved,
	}
	s.stories, _ = opts.Searcher.(StoryLister)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	sum := sha256.Sum256(styleCSS)
	s.styleTag = hex.EncodeToString(sum[:8])

	pages, err := parsePages(templateFS, s.styleTag)
	if err != nil {
		return nil, err
	}
	s.pages = pages
	if opts.Registerer != nil {
		if s.metrics, err = newHTTPMetrics(opts.Registerer); err != nil {
			return nil, err
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleSearchPage)
	mux.HandleFunc("GET /articles/{id}", s.handleArticlePage)
	mux.HandleFunc("GET /sources", s.handleSourcesPage)
	mux.HandleFunc("GET /static/style.css", s.handleStyle)
	mux.HandleFunc("GET /api/search", s.handleAPISearch)
	mux.HandleFunc("GET /api/articles/{id}", s.handleAPIArticle)
	mux.HandleFunc("GET /api/sources", s.handleAPISources)
	mux.HandleFunc("GET /events", s.handleEventsPage)
	mux.HandleFunc("GET /events/{country}", s.handleCountryPage)
	mux.HandleFunc("GET /api/events", s.handleAPIEvents)
	mux.HandleFunc("GET /api/events/{country}", s.handleAPICountry)
	mux.HandleFunc("GET /export.csv", s.handleExportCSV)
	mux.HandleFunc("GET /export.json", s.handleExportJSON)
	mux.HandleFunc("GET /api/export", s.handleExportJSON)
	mux.HandleFunc("POST /saved", s.handleSave)
	mux.HandleFunc("GET /saved/{id}", s.handleSaved)
	mux.HandleFunc("POST /saved/{id}/delete", s.handleDeleteSaved)
	mux.HandleFunc("DELETE /saved/{id}", s.handleDeleteSaved)
	mux.HandleFunc("GET /api/saved", s.handleAPISaved)
	mux.HandleFunc("GET /api/openapi.json", s.handleOpenAPI)
	mux.HandleFunc("GET /api/", s.handleAPINotFound)
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	if opts.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{
			ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelError),
			ErrorHandling: promhttp.ContinueOnError,
		}))
	}
	mux.HandleFunc("GET /", s.handleNotFound)

	s.handler = s.logRequests(s.recoverPanics(securityHeaders(mux)))
	if s.metrics != nil {
		s.handler = s.metrics.wrap(s.handler)
	}
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// pageFiles are the pages; each is parsed together with layout.html so they
// can all define the same "title" and "content" blocks.
var pageFiles = []string{"search", "article", "sources", "error", "events", "country"}

func parsePages(fsys fs.FS, styleTag string) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"styleURL":     func() string { return "/static/style.css?v=" + styleTag },
		"topicLabel":   topicLabel,
		"actionLabel":  actionLabel,
		"treatyLabel":  treatyLabel,
		"languageName": languageName,
		"countryName":  func(code string) string { return countryName(code, nil) },
		"humanTime":    humanTime,
		"isoTime":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"thousands":    thousands,
		"webURL":       webURL,
		"pluralize":    pluralize,
		"pathEscape":   url.PathEscape,
		"day":          func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
		"isoDay":       func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
		"stageLabel":   stageLabel,
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/parts.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout template: %w", err)
	}
	pages := make(map[string]*template.Template, len(pageFiles))
	for _, name := range pageFiles {
		t, err := template.Must(base.Clone()).ParseFS(fsys, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse %s template: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", page, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error while rendering the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) handleStyle(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	etag := `"` + s.styleTag + `"`
	h.Set("ETag", etag)
	// Pages link the stylesheet with its content hash, so a cached copy can
	// never be stale for a page that asks for it.
	if r.URL.Query().Get("v") == s.styleTag {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=3600")
	}
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(styleCSS)
}

func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
	}
	_, _ = w.Write([]byte("ok\n"))
}

// sourceNames maps source ids to display names; without a lister, or when it
// fails, pages fall back to ids rather than failing the search.
func (s *Server) sourceNames(ctx context.Context) map[string]string {
	if s.sources == nil {
		return nil
	}
	sts, err := s.sources.SourceStatuses(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "list sources for names", "err", err)
		return nil
	}
	names := make(map[string]string, len(sts))
	for _, st := range sts {
		if st.Source.Name != "" {
			names[st.Source.ID] = st.Source.Name
		}
	}
	return names
}

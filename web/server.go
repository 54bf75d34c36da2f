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
	// Auth turns logins on: every route but /healthz, /readyz, /login and
	// the stylesheet then needs a session or an API token. nil means
	// everyone is trusted as an admin, which is only right on loopback
	// (see NeedsAuth).
	Auth *AuthOptions
	// SecureCookies marks every cookie Secure even on plain-HTTP requests:
	// the site is served over HTTPS by a proxy in front.
	SecureCookies bool
	// Admin backs the admin page and its endpoints; nil members are hidden.
	Admin AdminOptions
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

// Server is the http.Handler for the whole site. It is safe for concurrent
// use; its only mutable state is the login sessions and the failed-login
// counters, both behind their own locks.
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
	auth     *authState // nil: logins off
	admin    AdminOptions
	// secureCookies: see Options.SecureCookies.
	secureCookies bool
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
	s.admin, s.secureCookies = opts.Admin, opts.SecureCookies
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.Auth != nil {
		var err error
		if s.auth, err = newAuthState(opts.Auth, s.now); err != nil {
			return nil, err
		}
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

	// Every route states who may use it: public ones are registered as is,
	// the rest through need (see auth.go).
	mux := http.NewServeMux()
	viewer := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.need(accessViewer, h)) }
	admin := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.need(accessAdmin, h)) }
	viewer("GET /{$}", s.handleSearchPage)
	viewer("GET /articles/{id}", s.handleArticlePage)
	viewer("GET /sources", s.handleSourcesPage)
	viewer("GET /api/search", s.handleAPISearch)
	viewer("GET /api/articles/{id}", s.handleAPIArticle)
	viewer("GET /api/sources", s.handleAPISources)
	viewer("GET /events", s.handleEventsPage)
	viewer("GET /events/{country}", s.handleCountryPage)
	viewer("GET /api/events", s.handleAPIEvents)
	viewer("GET /api/events/{country}", s.handleAPICountry)
	viewer("GET /export.csv", s.handleExportCSV)
	viewer("GET /export.json", s.handleExportJSON)
	viewer("GET /api/export", s.handleExportJSON)
	viewer("POST /saved", s.handleSave)
	viewer("GET /saved/{id}", s.handleSaved)
	viewer("POST /saved/{id}/delete", s.handleDeleteSaved)
	viewer("DELETE /saved/{id}", s.handleDeleteSaved)
	viewer("GET /api/saved", s.handleAPISaved)
	viewer("GET /api/openapi.json", s.handleOpenAPI)
	viewer("GET /api/", s.handleAPINotFound)
	admin("GET /admin", s.handleAdminPage)
	admin("POST /admin/sources/{id}/fetch", s.handleAdminFetch)
	admin("POST /admin/rules/test", s.handleAdminRuleTest)
	admin("POST /admin/reclassify", s.handleAdminReclassify)
	admin("POST /admin/alerts/{rule}/test", s.handleAdminAlertTest)
	admin("POST /api/admin/sources/{id}/fetch", s.handleAdminFetch)
	admin("POST /api/admin/rules/test", s.handleAdminRuleTest)
	admin("GET /api/admin/reclassify", s.handleAdminReclassify)
	admin("POST /api/admin/reclassify", s.handleAdminReclassify)
	admin("POST /api/admin/alerts/{rule}/test", s.handleAdminAlertTest)
	// Public: probes, the stylesheet the login page needs, and the login
	// itself. The WebSub callback is mounted beside this handler by the
	// command and checks its own HMAC signatures.
	mux.HandleFunc("GET /static/style.css", s.handleStyle)
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.HandleFunc("GET /login", s.handleLoginPage)
	mux.HandleFunc("POST /login", s.handleLogin)
	mux.HandleFunc("POST /logout", s.handleLogout)
	if opts.Gatherer != nil {
		mux.Handle("GET /metrics", s.need(accessMetrics, promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{
			ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelError),
			ErrorHandling: promhttp.ContinueOnError,
		}).ServeHTTP))
	}
	viewer("GET /", s.handleNotFound)

	s.handler = s.logRequests(s.recoverPanics(securityHeaders(s.identify(mux))))
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
var pageFiles = []string{"search", "article", "sources", "error", "events", "country", "login", "admin"}

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
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	if s.auth != nil {
		// Pages differ per user; a shared cache must never keep them.
		h.Set("Cache-Control", "private, "+h.Get("Cache-Control"))
	}
	w.WriteHeader(status)
	_, _ = w.Write(s.fillAccount(r, buf.Bytes()))
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

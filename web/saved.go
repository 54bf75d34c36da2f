package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

const (
	csrfCookie = "mw_csrf"
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
	// maxNameLen bounds a saved search's name.
	maxNameLen = 120
	// feedEntries is how many articles an Atom feed carries.
	feedEntries = 50
)

// csrfToken returns the token forms must echo in their "csrf" field (or API
// calls in the X-CSRF-Token header). A signed-in user's token is their
// session's, kept server-side, so a cookie planted from a sibling domain
// cannot forge it. Without a session (the login form, or logins off on
// loopback) it is a double-submit cookie: a cross-site page can neither read
// the cookie nor guess it, so it cannot forge the pair.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	ra := authFrom(r.Context())
	if ra.sess != nil {
		return ra.sess.csrf
	}
	if c, err := r.Cookie(csrfCookie); err == nil && validToken(c.Value) {
		return c.Value
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	tok := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, Secure: ra.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: 30 * 24 * 3600,
	})
	return tok
}

func validToken(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// checkCSRF accepts a state-changing request only when the token in the form
// (or the X-CSRF-Token header) matches the session's token, or without a
// session the CSRF cookie, and the browser's Origin, when sent, is this site.
// Requests authenticated by an API token pass: browsers never attach one on
// their own, so a cross-site page cannot ride on it.
func checkCSRF(r *http.Request) error {
	ra := authFrom(r.Context())
	if ra.principal != nil && ra.principal.Method == methodToken {
		return nil
	}
	// Pages go out with Referrer-Policy: no-referrer, under which browsers
	// send "Origin: null" even on a same-origin form post (Fetch spec);
	// Sec-Fetch-Site, which no page can set, tells those apart from an
	// opaque-origin attacker's, which still fail here.
	if o := r.Header.Get("Origin"); o != "" && (o != "null" || r.Header.Get("Sec-Fetch-Site") != "same-origin") {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return fmt.Errorf("cross-origin request from %q", o)
		}
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return errors.New("cross-site request")
	}
	want := ""
	if ra.sess != nil {
		want = ra.sess.csrf
	} else {
		c, err := r.Cookie(csrfCookie)
		if err != nil || !validToken(c.Value) {
			return errors.New("no CSRF cookie")
		}
		want = c.Value
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errors.New("CSRF token does not match")
	}
	return nil
}

// savedParams is the URL state a saved search stands for. index.Query has no
// relative dates, and a feed or alert is about what comes next, so handleSave
// drops presets ("last 7 days") and keeps only custom dates.
func savedParams(ss index.SavedSearch) searchParams {
	q := ss.Query
	p := searchParams{
		Text: q.Text, Topics: slices.Clone(q.Topics), Countries: slices.Clone(q.Countries),
		Sources: slices.Clone(q.Sources), Languages: slices.Clone(q.Languages),
		Sort: string(q.Sort), AllArticles: !q.RelevantOnly,
	}
	for _, a := range q.Actions {
		p.Actions = append(p.Actions, string(a))
	}
	for _, t := range q.Treaties {
		p.Treaties = append(p.Treaties, string(t))
	}
	if !q.Since.IsZero() {
		p.Since = q.Since.UTC().Format(time.DateOnly)
	}
	if !q.Until.IsZero() {
		// Query.Until is exclusive; the form's "to" day is inclusive.
		p.Until = q.Until.UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	}
	return p
}

func (s *Server) handleSave(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.saved == nil {
		s.renderError(w, r, http.StatusNotFound, "Saved searches are not available", "This server does not keep saved searches.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "Could not read the form", "The form was too large or malformed. Go back and try again.")
		return
	}
	if err := checkCSRF(r); err != nil {
		s.log.WarnContext(ctx, "save search refused", "err", err)
		s.renderError(w, r, http.StatusForbidden, "Request refused",
			"The form's security token did not match. Reload the search page and save again.")
		return
	}
	name := strings.Join(strings.Fields(r.PostForm.Get("name")), " ")
	if name == "" || len(name) > maxNameLen {
		s.renderError(w, r, http.StatusBadRequest, "The search needs a name",
			fmt.Sprintf("Give the saved search a name of 1 to %d characters, then save again.", maxNameLen))
		return
	}
	p, err := parseParams(r.PostForm)
	var q index.Query
	if err == nil {
		p.Cursor, p.Limit = "", 0
		if _, ok := presetDurations[p.Preset]; ok {
			p.Preset = ""
		}
		q, err = p.query(s.now())
	}
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "The search has a problem", badParamMessage(err)+". Fix the search, then save it again.")
		return
	}
	q.Cursor, q.Limit, q.Facets, q.Histogram = "", 0, false, false
	ss := index.SavedSearch{ID: s.newSavedID(ctx), Name: name, Query: q, Created: s.now().UTC()}
	if err := s.saved.SaveSearch(ctx, ss); err != nil {
		if ctx.Err() != nil {
			return
		}
		s.log.ErrorContext(ctx, "save search", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "Could not save the search", "The index did not answer. Please try again in a moment.")
		return
	}
	http.Redirect(w, r, "/?"+savedParams(ss).values().Encode(), http.StatusSeeOther)
}

// newSavedID is a fresh saved-search id; when logins are on it starts with
// its owner's tag (see ownerTag).
func (s *Server) newSavedID(ctx context.Context) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	if p, ok := PrincipalFrom(ctx); ok && p.Method != methodLocal {
		id = ownerTag(p.Name) + "-" + id
	}
	return id
}

func (s *Server) findSaved(w http.ResponseWriter, r *http.Request, id string) (index.SavedSearch, bool) {
	ctx := r.Context()
	if s.saved == nil {
		s.renderError(w, r, http.StatusNotFound, "Saved searches are not available", "This server does not keep saved searches.")
		return index.SavedSearch{}, false
	}
	all, err := s.saved.SavedSearches(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.ErrorContext(ctx, "list saved searches", "err", err)
			s.renderError(w, r, http.StatusInternalServerError, "Could not load the saved search", "The index did not answer. Please try again in a moment.")
		}
		return index.SavedSearch{}, false
	}
	for _, ss := range all {
		if ss.ID == id {
			return ss, true
		}
	}
	s.renderError(w, r, http.StatusNotFound, "Saved search not found", "It may have been deleted. The search page lists the saved searches.")
	return index.SavedSearch{}, false
}

// handleSaved serves /saved/{id} (a redirect to the permalink) and
// /saved/{id}.atom (the feed): ServeMux wildcards match whole segments only.
func (s *Server) handleSaved(w http.ResponseWriter, r *http.Request) {
	id, atom := strings.CutSuffix(r.PathValue("id"), ".atom")
	ss, ok := s.findSaved(w, r, id)
	if !ok {
		return
	}
	if !atom {
		http.Redirect(w, r, "/?"+savedParams(ss).values().Encode(), http.StatusSeeOther)
		return
	}
	s.serveAtom(w, r, ss)
}

func (s *Server) handleDeleteSaved(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.saved == nil {
		s.renderError(w, r, http.StatusNotFound, "Saved searches are not available", "This server does not keep saved searches.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := checkCSRF(r); err != nil {
		s.log.WarnContext(ctx, "delete saved search refused", "err", err)
		s.renderError(w, r, http.StatusForbidden, "Request refused",
			"The form's security token did not match. Reload the search page and try again.")
		return
	}
	if !mayDeleteSaved(ctx, r.PathValue("id")) {
		if r.Method == http.MethodDelete {
			s.writeProblem(w, r, http.StatusForbidden, problemForbidden, "Forbidden", "only its owner or an admin may delete this saved search")
			return
		}
		s.renderError(w, r, http.StatusForbidden, "Not your saved search",
			"Only the analyst who saved this search, or an admin, may delete it.")
		return
	}
	err := s.saved.DeleteSearch(ctx, r.PathValue("id"))
	switch {
	case errors.Is(err, index.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound, "Saved search not found", "It may have been deleted already.")
		return
	case err != nil:
		if ctx.Err() != nil {
			return
		}
		s.log.ErrorContext(ctx, "delete saved search", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "Could not delete the saved search", "The index did not answer. Please try again in a moment.")
		return
	}
	if r.Method == http.MethodDelete {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type apiSaved struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Created   time.Time `json:"created"`
	Permalink string    `json:"permalink"`
	Feed      string    `json:"feed"`
	Params    string    `json:"params"` // the search's URL query, for /api/search
}

func (s *Server) handleAPISaved(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.saved == nil {
		s.writeProblem(w, r, http.StatusNotFound, "", "", "saved searches are not available on this server")
		return
	}
	all, err := s.saved.SavedSearches(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.log.ErrorContext(ctx, "api saved searches", "err", err)
		s.writeProblem(w, r, http.StatusInternalServerError, "", "", "the saved searches could not be loaded")
		return
	}
	out := make([]apiSaved, 0, len(all))
	for _, ss := range all {
		out = append(out, newAPISaved(ss))
	}
	s.writeJSON(w, r, http.StatusOK, "application/json", out)
}

func newAPISaved(ss index.SavedSearch) apiSaved {
	enc := savedParams(ss).values().Encode()
	return apiSaved{ID: ss.ID, Name: ss.Name, Created: ss.Created.UTC(), Permalink: "/saved/" + url.PathEscape(ss.ID),
		Feed: "/saved/" + url.PathEscape(ss.ID) + ".atom", Params: enc}
}

// savedView is one saved search in the search page's list.
type savedView struct {
	ID, Name, URL, Feed string
}

func (s *Server) savedViews(r *http.Request) []savedView {
	if s.saved == nil {
		return nil
	}
	all, err := s.saved.SavedSearches(r.Context())
	if err != nil {
		s.log.WarnContext(r.Context(), "list saved searches", "err", err)
		return nil
	}
	out := make([]savedView, 0, len(all))
	for _, ss := range all {
		a := newAPISaved(ss)
		out = append(out, savedView{ID: ss.ID, Name: ss.Name, URL: "/?" + a.Params, Feed: a.Feed})
	}
	return out
}

// Atom 1.0 (RFC 4287).

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomEntry struct {
	ID        string         `xml:"id"`
	Title     atomText       `xml:"title"`
	Links     []atomLink     `xml:"link"`
	Published string         `xml:"published"`
	Updated   string         `xml:"updated"`
	Summary   atomText       `xml:"summary"`
	Category  []atomCategory `xml:"category"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

// baseURL is the site's absolute origin as the client reached it; Atom needs
// absolute links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) serveAtom(w http.ResponseWriter, r *http.Request, ss index.SavedSearch) {
	ctx := r.Context()
	q := ss.Query
	q.Sort, q.Limit, q.Cursor, q.Facets, q.Histogram = index.SortDate, feedEntries, "", false, false
	hits, err := s.search.Search(ctx, q)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.log.ErrorContext(ctx, "atom search", "saved", ss.ID, "err", err)
		http.Error(w, "the feed could not be built; try again later", http.StatusInternalServerError)
		return
	}
	base := baseURL(r)
	self := base + "/saved/" + url.PathEscape(ss.ID) + ".atom"
	feed := atomFeed{
		ID:    "urn:minewatch:saved:" + ss.ID,
		Title: "minewatch: " + ss.Name,
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: self},
			{Rel: "alternate", Type: "text/html", Href: base + "/?" + savedParams(ss).values().Encode()},
		},
		Author: atomPerson{Name: "minewatch"},
	}
	updated := ss.Created.UTC()
	for _, h := range hits.Docs {
		d := h.Document
		pub := d.Published
		if pub.IsZero() {
			pub = d.FirstSeen
		}
		if pub.After(updated) {
			updated = pub
		}
		e := atomEntry{
			ID:        "urn:minewatch:article:" + d.ID,
			Title:     atomText{Type: "text", Text: firstNonEmpty(strings.TrimSpace(d.Title), "(untitled)")},
			Published: pub.UTC().Format(time.RFC3339),
			Updated:   firstSeenOr(d, pub).UTC().Format(time.RFC3339),
			Summary:   atomText{Type: "text", Text: feedSummary(h)},
			Links:     []atomLink{{Rel: "alternate", Type: "text/html", Href: base + "/articles/" + url.PathEscape(d.ID)}},
		}
		if orig := articleLink(d); orig != "" {
			e.Links = append(e.Links, atomLink{Rel: "related", Type: "text/html", Href: orig})
		}
		for _, t := range d.Classification.Topics {
			e.Category = append(e.Category, atomCategory{Term: t.Topic, Label: topicLabel(t.Topic)})
		}
		feed.Entries = append(feed.Entries, e)
	}
	feed.Updated = updated.Format(time.RFC3339)
	out, err := xml.MarshalIndent(feed, "", " ")
	if err != nil {
		s.log.ErrorContext(ctx, "encode atom", "err", err)
		http.Error(w, "the feed could not be built", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=300")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

func firstSeenOr(d news.Document, t time.Time) time.Time {
	if d.FirstSeen.After(t) {
		return d.FirstSeen
	}
	return t
}

// feedSummary is the snippet as plain text, else the start of the article.
func feedSummary(h index.Hit) string {
	var b strings.Builder
	for _, f := range h.Snippet {
		b.WriteString(f.Text)
	}
	if s := strings.TrimSpace(b.String()); s != "" {
		return s
	}
	return excerpt(firstNonEmpty(h.Summary, h.Text), 400)
}

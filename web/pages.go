package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// maxIDLen bounds article ids taken from the path; real ids are 24 hex digits.
const maxIDLen = 200

// resultView is one search result as the page shows it.
type resultView struct {
	ID         string
	Title      string
	Source     string
	Date       time.Time
	DateIsSeen bool // Date is when minewatch first saw it, not a published date
	Language   string
	Original   string // http(s) link to the article, or ""
	Topics     []string
	Entities   []entityView
	Snippet    []segment
}

// entityView is a country–action chip or an entity row on the article page.
type entityView struct {
	Country     string
	CountryName string
	Action      string
	ActionLabel string
	Treaty      string
	TreatyLabel string
	Evidence    string
}

type facetValueView struct {
	Value    string
	Label    string
	Count    int
	Selected bool
	URL      string
}

type facetView struct {
	Key    string // URL parameter
	Title  string
	Values []facetValueView
}

type presetView struct {
	Value, Label string
	Checked      bool
}

type hiddenInput struct{ Name, Value string }

type searchPage struct {
	Title       string
	Nav         string
	P           searchParams
	QueryError  string // bad query text: shown next to the box
	ParamError  string // bad filter or date: shown above the results
	Failure     string // the search itself failed
	Searched    bool
	Total       int
	Results     []resultView
	Facets      []facetView
	Presets     []presetView
	Hidden      []hiddenInput
	NextURL     string
	FirstURL    string
	ClearURL    string
	RelevantOff bool
	SortDate    bool
	Chart       volumeChart
	ExportCSV   string
	ExportJSON  string
	SaveEnabled bool
	Saved       []savedView
	CSRF        string
	SaveFields  []hiddenInput // the whole current state, for the save form
}

// facetOrder lists the facets in the order the page shows them.
var facetOrder = []struct{ name, key, title string }{
	{index.FacetTopic, "topic", "Topic"},
	{index.FacetCountry, "country", "Country"},
	{index.FacetAction, "action", "Action"},
	{index.FacetTreaty, "treaty", "Treaty"},
	{index.FacetSource, "source", "Source"},
	{index.FacetLanguage, "lang", "Language"},
}

// maxFacetValues keeps the sidebar (and the page weight) small.
const maxFacetValues = 15

func (s *Server) handleSearchPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, perr := parseParams(r.URL.Query())
	page := searchPage{Title: "Search", Nav: "search", P: p}
	page.fillForm()
	if s.saved != nil {
		page.SaveEnabled = true
		page.CSRF = csrfToken(w, r)
		page.Saved = s.savedViews(r)
	}

	if perr != nil {
		page.ParamError = badParamMessage(perr)
		s.render(w, r, http.StatusBadRequest, "search", page)
		return
	}
	q, err := p.query(s.now())
	if err != nil {
		page.ParamError = badParamMessage(err)
		s.render(w, r, http.StatusBadRequest, "search", page)
		return
	}
	// The volume chart shows the whole result set, so only the first page
	// pays for it.
	q.Histogram = p.Cursor == ""
	hits, err := s.search.Search(ctx, q)
	switch {
	case errors.Is(err, index.ErrBadQuery):
		page.QueryError = badQueryMessage(err)
		if p.Cursor != "" {
			// Backends reject cursors from another query or an older index
			// as bad queries; the fix is to start over, not to edit the query.
			page.QueryError += " (If you followed a next-page link, it may have expired: search again to start from the first page.)"
		}
		s.render(w, r, http.StatusBadRequest, "search", page)
		return
	case err != nil:
		if ctx.Err() != nil {
			return // the analyst went away; nobody to show an error to
		}
		s.log.ErrorContext(ctx, "search", "q", q.Text, "err", err)
		page.Failure = "The search failed. Please try again in a moment; if it keeps failing, the index may be down."
		s.render(w, r, http.StatusInternalServerError, "search", page)
		return
	}

	names := s.sourceNames(ctx)
	seen := map[string]string{}
	page.Searched = true
	page.Total = hits.Total
	page.Results = make([]resultView, 0, len(hits.Docs))
	for _, h := range hits.Docs {
		page.Results = append(page.Results, newResultView(h, names, seen))
	}
	page.Facets = facetViews(p, hits.Facets, names, seen)
	if hits.NextCursor != "" {
		next := p.clone()
		next.Cursor = hits.NextCursor
		page.NextURL = "/?" + next.values().Encode()
	}
	if p.Cursor != "" {
		first := p.clone()
		first.Cursor = ""
		page.FirstURL = "/?" + first.values().Encode()
	}
	if q.Histogram {
		to := s.now()
		if !q.Until.IsZero() {
			to = q.Until.Add(-time.Nanosecond)
		}
		page.Chart = buildChart("Matching articles per day", hits.Histogram, q.Since, to, chartSplit(p))
	}
	whole := p.clone()
	whole.Cursor = ""
	enc := whole.values().Encode()
	page.ExportCSV, page.ExportJSON = "/export.csv?"+enc, "/export.json?"+enc
	if page.SaveEnabled {
		for k, vs := range whole.values() {
			for _, v := range vs {
				page.SaveFields = append(page.SaveFields, hiddenInput{k, v})
			}
		}
		slices.SortStableFunc(page.SaveFields, func(a, b hiddenInput) int { return strings.Compare(a.Name, b.Name) })
	}
	s.render(w, r, http.StatusOK, "search", page)
}

// chartSplit draws topic lines, unless the search is narrowed to one topic,
// where countries tell more.
func chartSplit(p searchParams) string {
	if len(p.Topics) == 1 {
		return "country"
	}
	return "topic"
}

// fillForm prepares the parts of the form that do not depend on results.
func (page *searchPage) fillForm() {
	p := page.P
	page.RelevantOff = p.AllArticles
	page.SortDate = p.Sort == string(index.SortDate)
	for _, o := range []presetView{
		{"", "Any time", false}, {preset24h, "Last 24 hours", false}, {preset7d, "Last 7 days", false},
		{preset30d, "Last 30 days", false}, {presetCustom, "Custom range", false},
	} {
		// Dates typed without a preset are a custom range, so say so.
		preset := p.Preset
		if preset == "" && (p.Since != "" || p.Until != "") {
			preset = presetCustom
		}
		o.Checked = o.Value == preset
		page.Presets = append(page.Presets, o)
	}
	// Filters chosen in the sidebar ride along when the analyst edits the
	// query, so a new search does not silently drop them.
	for _, key := range filterKeys {
		for _, v := range *p.filter(key) {
			page.Hidden = append(page.Hidden, hiddenInput{key, v})
		}
	}
	if p.Limit != 0 && p.Limit != defaultLimit {
		page.Hidden = append(page.Hidden, hiddenInput{"limit", strconv.Itoa(p.Limit)})
	}
	if p.hasFilters() {
		c := p.clone()
		for _, key := range filterKeys {
			*c.filter(key) = nil
		}
		c.Cursor = ""
		page.ClearURL = "/?" + c.values().Encode()
	}
}

func newResultView(h index.Hit, names, seen map[string]string) resultView {
	d := h.Document
	v := resultView{
		ID:       d.ID,
		Title:    strings.TrimSpace(d.Title),
		Source:   displaySource(d, names),
		Date:     d.Published,
		Language: d.Language,
		Original: articleLink(d),
		Topics:   d.Classification.TopicIDs(),
		Entities: entityViews(d.Classification.Entities, seen),
		Snippet:  snippetSegments(h.Snippet),
	}
	if v.Title == "" {
		v.Title = "(untitled)"
	}
	if v.Date.IsZero() {
		v.Date, v.DateIsSeen = d.FirstSeen, true
	}
	if len(v.Snippet) == 0 {
		if s := firstNonEmpty(d.Summary, d.Text); s != "" {
			v.Snippet = []segment{{Text: excerpt(s, 280)}}
		}
	}
	return v
}

// entityViews dedups entities by event key: an article often states the same
// move in several sentences, and one chip per move is enough.
func entityViews(ents []news.Entity, seen map[string]string) []entityView {
	var out []entityView
	keys := map[string]bool{}
	for _, e := range ents {
		if e.CountryName != "" && seen != nil {
			seen[e.Country] = e.CountryName
		}
		if keys[e.Key()] {
			continue
		}
		keys[e.Key()] = true
		out = append(out, newEntityView(e))
	}
	return out
}

func newEntityView(e news.Entity) entityView {
	name := countryName(e.Country, nil)
	if name == e.Country && e.CountryName != "" {
		name = e.CountryName
	}
	return entityView{
		Country: e.Country, CountryName: name,
		Action: string(e.Action), ActionLabel: actionLabel(e.Action),
		Treaty: string(e.Treaty), TreatyLabel: treatyLabel(e.Treaty),
		Evidence: e.Evidence,
	}
}

func facetViews(p searchParams, facets map[string][]index.FacetCount, names, seen map[string]string) []facetView {
	var out []facetView
	for _, f := range facetOrder {
		selected := *p.filter(f.key)
		counts := facets[f.name]
		fv := facetView{Key: f.key, Title: f.title}
		for i, c := range counts {
			if i >= maxFacetValues && !slices.Contains(selected, c.Value) {
				continue
			}
			fv.Values = append(fv.Values, facetValueView{Value: c.Value, Count: c.Count})
		}
		// A selected value with no matches left must still be shown, or the
		// analyst could not switch it off.
		for _, v := range selected {
			if !slices.ContainsFunc(fv.Values, func(x facetValueView) bool { return x.Value == v }) {
				fv.Values = append(fv.Values, facetValueView{Value: v})
			}
		}
		for i := range fv.Values {
			v := &fv.Values[i]
			v.Selected = slices.Contains(selected, v.Value)
			v.Label = facetLabel(f.name, v.Value, names, seen)
			v.URL = "/?" + p.toggled(f.key, v.Value).values().Encode()
		}
		if len(fv.Values) > 0 {
			out = append(out, fv)
		}
	}
	return out
}

func facetLabel(facet, value string, names, seen map[string]string) string {
	switch facet {
	case index.FacetTopic:
		return topicLabel(value)
	case index.FacetCountry:
		return countryName(value, seen)
	case index.FacetAction:
		return actionLabel(news.Action(value))
	case index.FacetTreaty:
		return treatyLabel(news.Treaty(value))
	case index.FacetSource:
		if n := names[value]; n != "" {
			return n
		}
	case index.FacetLanguage:
		return languageName(value)
	}
	return value
}

func displaySource(d news.Document, names map[string]string) string {
	if n := names[d.SourceID]; n != "" {
		return n
	}
	return firstNonEmpty(d.SiteName, d.SourceID, "unknown source")
}

// badQueryMessage drops the sentinel's prefix: analysts need where and why,
// not the package name.
func badQueryMessage(err error) string {
	msg := err.Error()
	for _, prefix := range []string{index.ErrBadQuery.Error() + ": ", index.ErrBadQuery.Error()} {
		if i := strings.Index(msg, prefix); i >= 0 {
			if rest := strings.TrimSpace(msg[i+len(prefix):]); rest != "" {
				return rest
			}
		}
	}
	return msg
}

func badParamMessage(err error) string {
	return strings.ReplaceAll(err.Error(), ErrBadParameter.Error()+": ", "")
}

type articlePage struct {
	Title         string
	Nav           string
	Doc           news.Document
	TitleSegs     []segment
	TextSegs      []segment
	Source        string
	Date          time.Time
	DateIsSeen    bool
	Original      string
	Canonical     string
	Topics        []topicView
	Entities      []entityView
	HasHighlights bool
	Outlets       []apiOutlet
	StoryEnabled  bool
}

type topicView struct {
	ID      string
	Score   float64
	Matches []ruleView
}

type ruleView struct {
	RuleID string
	Weight float64
	Terms  []string
}

func (s *Server) handleArticlePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	doc, err := s.getDocument(ctx, r.PathValue("id"))
	switch {
	case errors.Is(err, index.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound, "Article not found",
			"There is no article with this id. It may have been re-fetched under a new address, or the link is wrong.")
		return
	case err != nil:
		if ctx.Err() != nil {
			return
		}
		s.log.ErrorContext(ctx, "get article", "article_id", r.PathValue("id"), "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "Could not load the article",
			"The index did not answer. Please try again in a moment.")
		return
	}
	names := s.sourceNames(ctx)
	page := articlePage{
		Title:        firstNonEmpty(strings.TrimSpace(doc.Title), "(untitled)"),
		Nav:          "search",
		Doc:          doc,
		Source:       displaySource(doc, names),
		Outlets:      s.otherOutlets(ctx, doc, names),
		StoryEnabled: s.stories != nil,
		Date:         doc.Published,
		Original:     webURL(doc.URL),
		Canonical:    webURL(doc.CanonicalURL),
		TitleSegs:    highlight(firstNonEmpty(doc.Title, "(untitled)"), documentMarks(doc, news.FieldTitle)),
	}
	if page.Canonical == page.Original {
		page.Canonical = ""
	}
	if page.Original == "" {
		page.Original, page.Canonical = page.Canonical, ""
	}
	if page.Date.IsZero() {
		page.Date, page.DateIsSeen = doc.FirstSeen, true
	}
	if doc.Text != "" {
		page.TextSegs = highlight(doc.Text, documentMarks(doc, news.FieldText))
	} else if doc.Summary != "" {
		page.TextSegs = []segment{{Text: doc.Summary}}
	}
	for _, seg := range slices.Concat(page.TitleSegs, page.TextSegs) {
		page.HasHighlights = page.HasHighlights || seg.Marked()
	}
	for _, t := range doc.Classification.Topics {
		tv := topicView{ID: t.Topic, Score: t.Score}
		for _, m := range t.Matches {
			rv := ruleView{RuleID: m.RuleID, Weight: m.Weight}
			for _, h := range m.Hits {
				if !slices.Contains(rv.Terms, h.Term) {
					rv.Terms = append(rv.Terms, h.Term)
				}
			}
			tv.Matches = append(tv.Matches, rv)
		}
		page.Topics = append(page.Topics, tv)
	}
	for _, e := range doc.Classification.Entities {
		page.Entities = append(page.Entities, newEntityView(e))
	}
	s.render(w, r, http.StatusOK, "article", page)
}

func (s *Server) getDocument(ctx context.Context, id string) (news.Document, error) {
	if id == "" || len(id) > maxIDLen {
		return news.Document{}, index.ErrNotFound
	}
	return s.search.Get(ctx, id)
}

type sourceRow struct {
	SourceStatus
	Name    string
	Link    string
	Healthy bool
}

type sourcesPage struct {
	Title       string
	Nav         string
	Unavailable bool
	Rows        []sourceRow
	Total       int
	Failing     int
	Country     string
	OnlyFailing bool
	Countries   []string
}

func (s *Server) handleSourcesPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	page := sourcesPage{Title: "Sources", Nav: "sources"}
	if s.sources == nil {
		page.Unavailable = true
		s.render(w, r, http.StatusNotFound, "sources", page)
		return
	}
	sts, err := s.sources.SourceStatuses(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.log.ErrorContext(ctx, "list sources", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "Could not list the sources",
			"The source list is not available right now. Please try again in a moment.")
		return
	}
	f := parseSourceFilter(r.URL.Query())
	page.Country, page.OnlyFailing = f.country, f.failing
	countries := map[string]bool{}
	for _, st := range sts {
		if st.Source.Country != "" {
			countries[st.Source.Country] = true
		}
		if !st.State.Healthy() {
			page.Failing++
		}
	}
	page.Total = len(sts)
	for c := range countries {
		page.Countries = append(page.Countries, c)
	}
	slices.Sort(page.Countries)
	for _, st := range f.apply(sts) {
		page.Rows = append(page.Rows, sourceRow{
			SourceStatus: st,
			Name:         firstNonEmpty(st.Source.Name, st.Source.ID),
			Link:         firstNonEmpty(webURL(st.State.URL), webURL(st.Source.URL)),
			Healthy:      st.State.Healthy(),
		})
	}
	s.render(w, r, http.StatusOK, "sources", page)
}

type sourceFilter struct {
	country string
	failing bool
}

func parseSourceFilter(v url.Values) sourceFilter {
	f := sourceFilter{country: strings.ToUpper(strings.TrimSpace(v.Get("country")))}
	switch strings.ToLower(v.Get("failing")) {
	case "1", "true", "on", "yes":
		f.failing = true
	}
	return f
}

// apply filters and orders the sources: failing first (most failures first),
// then by name, because the page exists to spot broken sources.
func (f sourceFilter) apply(sts []SourceStatus) []SourceStatus {
	var out []SourceStatus
	for _, st := range sts {
		if f.country != "" && !strings.EqualFold(st.Source.Country, f.country) {
			continue
		}
		if f.failing && st.State.Healthy() {
			continue
		}
		out = append(out, st)
	}
	slices.SortStableFunc(out, func(a, b SourceStatus) int {
		if d := b.State.ConsecutiveFailures - a.State.ConsecutiveFailures; d != 0 {
			return d
		}
		return strings.Compare(strings.ToLower(firstNonEmpty(a.Source.Name, a.Source.ID)),
			strings.ToLower(firstNonEmpty(b.Source.Name, b.Source.ID)))
	})
	return out
}

type errorPage struct {
	Title   string
	Nav     string
	Status  int
	Message string
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	s.render(w, r, status, "error", errorPage{Title: title, Status: status, Message: msg})
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusNotFound, "Page not found", "There is nothing at this address.")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// excerpt cuts s at a word boundary near n bytes, for results without a
// snippet from the index.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := truncateUTF8(s, n)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

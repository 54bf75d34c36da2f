package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// fakeSearcher answers with canned hits and records the queries it got.
type fakeSearcher struct {
	mu      sync.Mutex
	queries []index.Query
	hits    index.Hits
	err     error
	docs    map[string]news.Document
	getErr  error
	panicOn string // Get panics for this id
}

func (f *fakeSearcher) Search(_ context.Context, q index.Query) (index.Hits, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	return f.hits, f.err
}

func (f *fakeSearcher) Get(_ context.Context, id string) (news.Document, error) {
	if id == f.panicOn {
		panic("boom")
	}
	if f.getErr != nil {
		return news.Document{}, f.getErr
	}
	d, ok := f.docs[id]
	if !ok {
		return news.Document{}, fmt.Errorf("get %s: %w", id, index.ErrNotFound)
	}
	return d, nil
}

func (f *fakeSearcher) lastQuery(t *testing.T) index.Query {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) == 0 {
		t.Fatal("no search was made")
	}
	return f.queries[len(f.queries)-1]
}

type fakeSources struct {
	sts []SourceStatus
	err error
}

func (f fakeSources) SourceStatuses(context.Context) ([]SourceStatus, error) { return f.sts, f.err }

// span finds sub in s and returns its byte span, so fixtures cannot drift
// from their text.
func span(t testing.TB, field news.Field, s, sub string) news.Span {
	t.Helper()
	i := strings.Index(s, sub)
	if i < 0 {
		t.Fatalf("%q not in %q", sub, s)
	}
	return news.Span{Field: field, Start: i, End: i + len(sub)}
}

const (
	xssTitle = `<script>alert(1)</script> Poland leaves the Ottawa Convention`
	xssBody  = `The Sejm voted to withdraw from the Ottawa Convention. <img src=x onerror=alert(1)> was in the page. Lithuania also left.`
)

func testDoc(t testing.TB) news.Document {
	ev := "The Sejm voted to withdraw from the Ottawa Convention."
	return news.Document{
		Article: news.Article{
			ID:            "a1b2c3",
			SourceID:      "gn-pl",
			URL:           "https://example.pl/news/1?a=1&b=2",
			CanonicalURL:  "https://example.pl/news/1",
			Title:         xssTitle,
			Text:          xssBody,
			Language:      "pl",
			Published:     time.Date(2025, 6, 20, 9, 0, 0, 0, time.UTC),
			PublishedFrom: "jsonld",
			FirstSeen:     time.Date(2025, 6, 20, 9, 5, 0, 0, time.UTC),
		},
		Classification: news.Classification{
			Relevant: true,
			Score:    3.5,
			Topics: []news.TopicScore{{
				Topic: news.TopicTreatyWithdrawal, Score: 3,
				Matches: []news.RuleMatch{{RuleID: "withdrawal-en", Weight: 2, Hits: []news.TermHit{
					{Term: "ottawa", Span: span(t, news.FieldTitle, xssTitle, "Ottawa")},
					{Term: "withdraw*", Span: span(t, news.FieldText, xssBody, "withdraw")},
					{Term: "stale", Span: news.Span{Field: news.FieldText, Start: 5000, End: 6000}},
				}}},
			}},
			Entities: []news.Entity{
				{Country: "PL", CountryName: "Poland", Action: news.ActionWithdrawVote, Treaty: news.TreatyOttawa,
					Evidence: ev, EvidenceAt: span(t, news.FieldText, xssBody, ev)},
				{Country: "LT", CountryName: "Lithuania", Action: news.ActionWithdrawEffective, Treaty: news.TreatyCCM,
					Evidence: "Lithuania also left.", EvidenceAt: span(t, news.FieldText, xssBody, "Lithuania also left.")},
			},
		},
	}
}

func testHits(t testing.TB) index.Hits {
	d := testDoc(t)
	d2 := d
	d2.ID, d2.Title, d2.URL, d2.CanonicalURL = "d2", "Norway stays in the treaty", "javascript:alert(1)", ""
	d2.Published = time.Time{}
	d2.Classification = news.Classification{Relevant: true, Topics: []news.TopicScore{{Topic: news.TopicTreatyMembership, Score: 1}},
		Entities: []news.Entity{
			{Country: "NO", CountryName: "Norway", Action: news.ActionRemain, Treaty: news.TreatyOttawa},
			{Country: "NO", CountryName: "Norway", Action: news.ActionRemain, Treaty: news.TreatyOttawa},
		}}
	return index.Hits{
		Total: 1234,
		Docs: []index.Hit{
			{Document: d, Score: 7.5, Snippet: []index.Fragment{{Text: "The Sejm voted to "}, {Text: "withdraw", Match: true}, {Text: " <b>now</b>"}}},
			{Document: d2, Score: 1.5},
		},
		Facets: map[string][]index.FacetCount{
			index.FacetTopic:    {{Value: news.TopicTreatyWithdrawal, Count: 900}, {Value: news.TopicTreatyMembership, Count: 12}},
			index.FacetCountry:  {{Value: "PL", Count: 500}, {Value: "XZ", Count: 3}},
			index.FacetAction:   {{Value: "withdraw_vote", Count: 40}},
			index.FacetTreaty:   {{Value: "ottawa", Count: 1000}},
			index.FacetSource:   {{Value: "gn-pl", Count: 700}},
			index.FacetLanguage: {{Value: "pl", Count: 600}},
		},
		NextCursor: "next/page+1",
	}
}

type testServer struct {
	*Server
	search *fakeSearcher
	logs   *bytes.Buffer
}

func newTestServer(t testing.TB, mod func(*Options)) testServer {
	t.Helper()
	fs := &fakeSearcher{hits: testHits(t), docs: map[string]news.Document{"a1b2c3": testDoc(t)}}
	logs := &bytes.Buffer{}
	var mu sync.Mutex
	opts := Options{
		Searcher: fs,
		Logger:   slog.New(slog.NewTextHandler(lockedWriter{&mu, logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:      func() time.Time { return testNow },
		Sources: fakeSources{sts: []SourceStatus{
			{Source: news.Source{ID: "gn-pl", Name: "Google News PL", Kind: news.KindQuery, URL: "https://news.google.com/rss?q=miny", Country: "PL", Language: "pl"},
				State:   news.SourceState{SourceID: "gn-pl", LastSuccess: testNow.Add(-time.Hour), ItemsSeen: 40, ArticlesTotal: 1200},
				NextRun: testNow.Add(10 * time.Minute)},
			{Source: news.Source{ID: "err-lt", Name: "<b>LRT</b>", Kind: news.KindFeed, URL: "javascript:alert(1)", Country: "LT"},
				State: news.SourceState{SourceID: "err-lt", LastError: "dial tcp: i/o timeout", LastErrorClass: "timeout", ConsecutiveFailures: 3}},
			{Source: news.Source{ID: "yle", Name: "Yle", Kind: news.KindFeed, URL: "https://yle.fi/rss", Country: "FI"},
				State: news.SourceState{SourceID: "yle", ConsecutiveFailures: 1, LastError: "http 503", LastErrorClass: "http"}},
		}},
	}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return testServer{Server: s, search: fs, logs: logs}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type response struct {
	status int
	header http.Header
	body   string
}

func (ts testServer) get(t *testing.T, target string) response {
	t.Helper()
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return response{rec.Code, rec.Header(), rec.Body.String()}
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("body contains %q", b)
		}
	}
}

func TestNewRequiresSearcher(t *testing.T) {
	if _, err := New(Options{}); !errors.Is(err, ErrNoSearcher) {
		t.Fatalf("New without searcher: err = %v, want ErrNoSearcher", err)
	}
}

func TestSearchPage(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.get(t, "/?q=ottawa&country=PL&preset=7d&sort=date")
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, body:\n%s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	q := ts.search.lastQuery(t)
	want := index.Query{Text: "ottawa", Countries: []string{"PL"}, Since: testNow.Add(-7 * 24 * time.Hour),
		Sort: index.SortDate, Limit: defaultLimit, RelevantOnly: true, Facets: true, Histogram: true}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("query = %+v, want %+v", q, want)
	}
	t.Run("results", func(t *testing.T) {
		mustContain(t, r.body,
			"1,234 articles",
			`href="/articles/a1b2c3"`,
			"&lt;script&gt;alert(1)&lt;/script&gt; Poland leaves the Ottawa Convention",
			"Google News PL", // source name from the lister
			`<time datetime="2025-06-20T09:00:00Z">20 Jun 2025 09:00 UTC</time>`,
			"(first seen)", // d2 has no published date
			"Polish",
			`<mark>withdraw</mark> &lt;b&gt;now&lt;/b&gt;`, // snippet: escaped text, marked match
			`href="https://example.pl/news/1" rel="noopener noreferrer"`,
		)
		mustNotContain(t, r.body, "<script>", "javascript:", "<b>now</b>")
	})
	t.Run("chips", func(t *testing.T) {
		mustContain(t, r.body,
			`<li class="chip topic">Treaty withdrawal</li>`,
			"PL · withdraw_vote · ottawa",
			"Poland: voted or signed withdrawal law, Ottawa Convention",
			"LT · withdraw_effective · ccm",
		)
		if n := strings.Count(r.body, "NO · remain · ottawa"); n != 1 {
			t.Errorf("duplicate entity chips: %d, want 1", n)
		}
	})
	t.Run("facets", func(t *testing.T) {
		mustContain(t, r.body,
			`<nav class="facets" aria-label="Filters">`,
			// PL is selected: its link removes it and keeps the rest.
			`<a href="/?preset=7d&amp;q=ottawa&amp;sort=date" class="on">`,
			// Adding a topic keeps the country, query, preset and sort.
			`href="/?country=PL&amp;preset=7d&amp;q=ottawa&amp;sort=date&amp;topic=treaty_withdrawal"`,
			">Treaty withdrawal<", ">900<", ">Poland<", ">XZ<", ">Ottawa Convention<", ">Polish<",
			"Clear all filters",
		)
	})
	t.Run("form keeps state", func(t *testing.T) {
		mustContain(t, r.body,
			`value="ottawa"`,
			`<input type="hidden" name="country" value="PL">`,
			`<input type="radio" name="preset" value="7d" checked>`,
			`<input type="radio" name="sort" value="date" checked>`,
			`<input type="checkbox" name="relevant" value="1" checked>`,
			`<details id="syntax" class="help">`,
		)
	})
	t.Run("next page", func(t *testing.T) {
		mustContain(t, r.body, `href="/?country=PL&amp;cursor=next%2Fpage%2B1&amp;preset=7d&amp;q=ottawa&amp;sort=date" rel="next"`)
	})
	t.Run("landmarks", func(t *testing.T) {
		mustContain(t, r.body, `<header class="site">`, `<nav aria-label="Main">`, `<main id="main"`, `<label for="q">`, `lang="en"`)
	})
}

func TestSearchPageNextPageCarriesCursor(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.get(t, "/?q=mines&cursor=abc")
	if r.status != http.StatusOK {
		t.Fatalf("status = %d", r.status)
	}
	if got := ts.search.lastQuery(t).Cursor; got != "abc" {
		t.Errorf("cursor = %q", got)
	}
	mustContain(t, r.body, `href="/?q=mines">← First page</a>`)
}

func TestSearchPageStates(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		searchErr  error
		hits       *index.Hits
		wantStatus int
		want       []string
	}{
		{"bad query shown inline", "/?q=ottawa+AND+(", fmt.Errorf("disk search: %w: line 1, column 12: unexpected end of query", index.ErrBadQuery),
			nil, http.StatusBadRequest,
			[]string{`<p id="q-error" class="error" role="alert"><strong>The query has a problem:</strong> line 1, column 12: unexpected end of query</p>`,
				`aria-invalid="true"`, `value="ottawa AND ("`}},
		{"bad parameter", "/?q=mines&since=yesterday", nil, nil, http.StatusBadRequest,
			[]string{"Some search settings are not valid", `since: &#34;yesterday&#34;: want a date such as 2025-06-30`}},
		{"backend failure", "/?q=mines", errors.New("sqlite: disk I/O error"), nil, http.StatusInternalServerError,
			[]string{"The search failed."}},
		{"empty", "/?q=mines&country=PL", nil, &index.Hits{}, http.StatusOK,
			[]string{"No articles match. Try fewer filters or a wider date range", "0 articles", ">Poland<"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			ts.search.err = tt.searchErr
			if tt.hits != nil {
				ts.search.hits = *tt.hits
			}
			r := ts.get(t, tt.target)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d\n%s", r.status, tt.wantStatus, r.body)
			}
			mustContain(t, r.body, tt.want...)
			mustNotContain(t, r.body, "sqlite: disk I/O error")
		})
	}
}

func TestSearchPageSize(t *testing.T) {
	ts := newTestServer(t, nil)
	hits := testHits(t)
	long := strings.Repeat("Anti-personnel mines and the Ottawa Convention. ", 400)
	var docs []index.Hit
	for i := range 20 {
		h := hits.Docs[0]
		h.ID = fmt.Sprintf("doc%02d", i)
		h.Text = long
		h.Snippet = []index.Fragment{{Text: strings.Repeat("context ", 20)}, {Text: "mines", Match: true}, {Text: strings.Repeat(" more", 20)}}
		docs = append(docs, h)
	}
	hits.Docs = docs
	for i := range 40 {
		hits.Facets[index.FacetSource] = append(hits.Facets[index.FacetSource], index.FacetCount{Value: fmt.Sprintf("source-%d", i), Count: 40 - i})
	}
	ts.search.hits = hits
	r := ts.get(t, "/?q=mines")
	if r.status != http.StatusOK {
		t.Fatalf("status = %d", r.status)
	}
	if n := len(r.body); n >= 100_000 {
		t.Errorf("page with 20 results is %d bytes, want < 100000", n)
	}
	if strings.Count(r.body, `href="/?q=mines&amp;source=source-`) > maxFacetValues {
		t.Errorf("more than %d source facet values rendered", maxFacetValues)
	}
}

func TestArticlePage(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.get(t, "/articles/a1b2c3")
	if r.status != http.StatusOK {
		t.Fatalf("status = %d\n%s", r.status, r.body)
	}
	mustNotContain(t, r.body, "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<script")
	mustContain(t, r.body,
		// Title: escaped, with the term marked.
		`&lt;script&gt;alert(1)&lt;/script&gt; Poland leaves the <mark class="term">Ottawa</mark> Convention`,
		// Text: term inside evidence, evidence marked, payload escaped.
		`<mark class="ev">The Sejm voted to </mark><mark class="term ev">withdraw</mark><mark class="ev"> from the Ottawa Convention.</mark> &lt;img src=x onerror=alert(1)&gt; was in the page. <mark class="ev">Lithuania also left.</mark>`,
		"Google News PL",
		"(date from jsonld)",
		`<a href="https://example.pl/news/1?a=1&amp;b=2" rel="noopener noreferrer">`,
		`rule <code>withdrawal-en</code>: <mark class="term">ottawa</mark>, <mark class="term">withdraw*</mark>, <mark class="term">stale</mark>`,
		"<strong>Poland</strong> voted or signed withdrawal law · Ottawa Convention",
		`<blockquote><mark class="ev">The Sejm voted to withdraw from the Ottawa Convention.</mark></blockquote>`,
		"Polish",
	)
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestArticleNotFound(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, target := range []string{"/articles/nope", "/articles/" + strings.Repeat("x", maxIDLen+1)} {
		t.Run(target[:min(len(target), 20)], func(t *testing.T) {
			r := ts.get(t, target)
			if r.status != http.StatusNotFound {
				t.Fatalf("status = %d", r.status)
			}
			mustContain(t, r.body, "Article not found")
		})
	}
}

func TestArticleBackendError(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.search.getErr = errors.New("connection refused")
	r := ts.get(t, "/articles/a1b2c3")
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status = %d", r.status)
	}
	mustNotContain(t, r.body, "connection refused")
}

func TestSourcesPage(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		want    []string
		notWant []string
	}{
		{"all", "/sources", []string{"3 sources, 2 failing", "Google News PL", "&lt;b&gt;LRT&lt;/b&gt;",
			`<span class="chip">timeout</span> dial tcp: i/o timeout`, `<a href="https://news.google.com/rss?q=miny" rel="noopener noreferrer">`,
			`<option value="PL">Poland (PL)</option>`}, []string{"<b>LRT</b>", "javascript:"}},
		{"failing only", "/sources?failing=1", []string{"&lt;b&gt;LRT&lt;/b&gt;", "Yle"}, []string{"Google News PL</a>"}},
		{"by country", "/sources?country=fi", []string{"Yle", `<option value="FI" selected>`}, []string{"Google News PL</a>", "LRT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			r := ts.get(t, tt.target)
			if r.status != http.StatusOK {
				t.Fatalf("status = %d", r.status)
			}
			mustContain(t, r.body, tt.want...)
			mustNotContain(t, r.body, tt.notWant...)
		})
	}
	t.Run("failing first", func(t *testing.T) {
		r := newTestServer(t, nil).get(t, "/sources")
		lrt, yle, gn := strings.Index(r.body, "LRT"), strings.Index(r.body, ">Yle<"), strings.Index(r.body, ">Google News PL<")
		if lrt >= yle || yle >= gn {
			t.Errorf("order LRT %d, Yle %d, GN %d: want most failures first", lrt, yle, gn)
		}
	})
	t.Run("no lister", func(t *testing.T) {
		r := newTestServer(t, func(o *Options) { o.Sources = nil }).get(t, "/sources")
		if r.status != http.StatusNotFound {
			t.Fatalf("status = %d", r.status)
		}
		mustContain(t, r.body, "not available")
	})
}

func TestAPISearch(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.get(t, "/api/search?q=ottawa&topic=treaty_withdrawal&lang=pl&limit=5&relevant=0&since=2025-06-01")
	if r.status != http.StatusOK {
		t.Fatalf("status = %d\n%s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	q := ts.search.lastQuery(t)
	want := index.Query{Text: "ottawa", Topics: []string{"treaty_withdrawal"}, Languages: []string{"pl"}, Limit: 5,
		Since: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), Facets: true}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("query = %+v, want %+v", q, want)
	}

	var got map[string]any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"total", "next_cursor", "facets", "results"} {
		if _, ok := got[key]; !ok {
			t.Errorf("missing key %q", key)
		}
	}
	var typed struct {
		Total      int                           `json:"total"`
		NextCursor string                        `json:"next_cursor"`
		Facets     map[string][]index.FacetCount `json:"facets"`
		Results    []map[string]json.RawMessage  `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.body), &typed); err != nil {
		t.Fatal(err)
	}
	if typed.Total != 1234 || typed.NextCursor != "next/page+1" || typed.Facets["country"][0] != (index.FacetCount{Value: "PL", Count: 500}) {
		t.Errorf("total %d, cursor %q, facets %v", typed.Total, typed.NextCursor, typed.Facets)
	}
	if len(typed.Results) != 2 {
		t.Fatalf("results = %d", len(typed.Results))
	}
	first := typed.Results[0]
	wantKeys := []string{"id", "url", "canonical_url", "title", "source", "published", "first_seen", "language", "topics", "entities", "score", "snippet"}
	for _, k := range wantKeys {
		if _, ok := first[k]; !ok {
			t.Errorf("result lacks %q", k)
		}
	}
	checks := []struct{ key, want string }{
		{"id", `"a1b2c3"`},
		{"source", `"gn-pl"`},
		{"published", `"2025-06-20T09:00:00Z"`},
		{"score", `7.5`},
		{"topics", `[{"topic":"treaty_withdrawal","score":3}]`},
		{"snippet", `[{"text":"The Sejm voted to "},{"text":"withdraw","match":true},{"text":" \u003cb\u003enow\u003c/b\u003e"}]`},
	}
	for _, c := range checks {
		if string(first[c.key]) != c.want {
			t.Errorf("%s = %s, want %s", c.key, first[c.key], c.want)
		}
	}
	second := typed.Results[1]
	if string(second["published"]) != "null" || string(second["snippet"]) != "[]" {
		t.Errorf("zero published = %s, empty snippet = %s; want null and []", second["published"], second["snippet"])
	}
}

func TestAPIProblems(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		searchErr  error
		getErr     error
		wantStatus int
		wantType   string
		wantDetail string
	}{
		{"bad query", "/api/search?q=(", fmt.Errorf("%w: line 1, column 2: unexpected end", index.ErrBadQuery), nil,
			400, problemBadQuery, "line 1, column 2: unexpected end"},
		{"bad parameter", "/api/search?sort=hot", nil, nil, 400, problemBadParameter, `sort "hot": want relevance or date`},
		{"search failure", "/api/search?q=a", errors.New("es: 503"), nil, 500, "about:blank", "the search failed"},
		{"unknown article", "/api/articles/nope", nil, nil, 404, "about:blank", "no article with this id"},
		{"get failure", "/api/articles/a1b2c3", nil, errors.New("boom"), 500, "about:blank", "the index did not answer"},
		{"unknown endpoint", "/api/nothing", nil, nil, 404, "about:blank", "no API endpoint at /api/nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			ts.search.err, ts.search.getErr = tt.searchErr, tt.getErr
			r := ts.get(t, tt.target)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d", r.status, tt.wantStatus)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			var p problem
			if err := json.Unmarshal([]byte(r.body), &p); err != nil {
				t.Fatal(err)
			}
			if p.Type != tt.wantType || p.Status != tt.wantStatus || p.Detail != tt.wantDetail || p.Title == "" {
				t.Errorf("problem = %+v", p)
			}
		})
	}
}

func TestAPIArticle(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.get(t, "/api/articles/a1b2c3")
	if r.status != http.StatusOK {
		t.Fatalf("status = %d", r.status)
	}
	var got apiArticle
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	doc := testDoc(t)
	if got.ID != doc.ID || got.Title != doc.Title || got.Text != doc.Text || got.PublishedFrom != "jsonld" ||
		!reflect.DeepEqual(got.Classification, doc.Classification) {
		t.Errorf("article = %+v", got)
	}
	mustContain(t, r.body, `"classification":{"relevant":true`, `"evidence_at":{"field":"text"`, `"authors":[]`)
	mustNotContain(t, r.body, "<script>")
}

func TestAPISources(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.get(t, "/api/sources?failing=1")
	if r.status != http.StatusOK {
		t.Fatalf("status = %d", r.status)
	}
	var got []apiSource
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "err-lt" || got[0].Healthy || got[0].State.LastErrorClass != "timeout" ||
		got[0].State.ConsecutiveFailures != 3 || got[0].NextRun != nil || got[0].State.LastSuccess != nil {
		t.Errorf("sources = %+v", got)
	}
	r = newTestServer(t, func(o *Options) { o.Sources = nil }).get(t, "/api/sources")
	if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("no lister: status %d, type %q", r.status, r.header.Get("Content-Type"))
	}
}

func TestProbes(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "minewatch_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	notReady := errors.New("index not open")
	tests := []struct {
		name       string
		mod        func(*Options)
		target     string
		wantStatus int
		wantBody   string
	}{
		{"healthz", nil, "/healthz", 200, "ok"},
		{"readyz default", nil, "/readyz", 200, "ok"},
		{"readyz ok", func(o *Options) { o.Ready = func(context.Context) error { return nil } }, "/readyz", 200, "ok"},
		{"readyz failing", func(o *Options) { o.Ready = func(context.Context) error { return notReady } }, "/readyz", 503, "not ready: index not open"},
		{"metrics", func(o *Options) { o.Gatherer = reg }, "/metrics", 200, "minewatch_test_total 3"},
		{"no metrics without gatherer", nil, "/metrics", 404, "Page not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestServer(t, tt.mod).get(t, tt.target)
			if r.status != tt.wantStatus || !strings.Contains(r.body, tt.wantBody) {
				t.Errorf("status %d body %q, want %d with %q", r.status, r.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, target := range []string{"/", "/articles/a1b2c3", "/articles/none", "/sources", "/api/search", "/api/nothing", "/healthz", "/nowhere"} {
		t.Run(target, func(t *testing.T) {
			r := ts.get(t, target)
			h := r.header
			csp := h.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'none'", "style-src 'self'", "img-src 'self' data:", "form-action 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("CSP %q lacks %q", csp, d)
				}
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
				t.Errorf("headers = %v", h)
			}
		})
	}
}

func TestStylesheet(t *testing.T) {
	ts := newTestServer(t, nil)
	page := ts.get(t, "/")
	href := "/static/style.css?v=" + ts.styleTag
	mustContain(t, page.body, `<link rel="stylesheet" href="`+href+`">`)

	r := ts.get(t, href)
	if r.status != 200 || r.header.Get("Content-Type") != "text/css; charset=utf-8" ||
		!strings.Contains(r.header.Get("Cache-Control"), "immutable") || r.header.Get("ETag") == "" || !strings.Contains(r.body, ":root") {
		t.Fatalf("stylesheet: %d %v", r.status, r.header)
	}
	req := httptest.NewRequest(http.MethodGet, "/static/style.css", nil)
	req.Header.Set("If-None-Match", r.header.Get("ETag"))
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("conditional GET: %d with %d bytes", rec.Code, rec.Body.Len())
	}
}

func TestPanicRecovery(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.search.panicOn = "explode"
	r := ts.get(t, "/articles/explode")
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status = %d", r.status)
	}
	if r.header.Get("Content-Security-Policy") == "" {
		t.Error("no CSP on the 500")
	}
	logs := ts.logs.String()
	mustContain(t, logs, "panic in handler", "boom", `path=/articles/explode`, "status=500")
}

func TestRequestLog(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.get(t, "/api/search?q=x")
	mustContain(t, ts.logs.String(), `msg="http request" method=GET path=/api/search status=200 duration=`)
}

func TestMethodNotAllowed(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/search", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/search = %d, want 405", rec.Code)
	}
}

// TestOverHTTP runs one request through a real listener, as a deployment would.
func TestOverHTTP(t *testing.T) {
	ts := newTestServer(t, nil)
	srv := httptest.NewServer(ts)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/?q=mines")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("1,234 articles")) {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func BenchmarkSearchPage(b *testing.B) {
	fs := &fakeSearcher{hits: testHits(b)}
	s, err := New(Options{Searcher: fs})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/?q=ottawa&country=PL", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

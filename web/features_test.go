package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

type fakeEvents struct {
	evs     []news.Event
	err     error
	filters []index.EventFilter
	mu      sync.Mutex
}

func (f *fakeEvents) Events(_ context.Context, flt index.EventFilter) ([]news.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters = append(f.filters, flt)
	var out []news.Event
	for _, ev := range f.evs {
		if len(flt.Countries) == 0 || slices.Contains(flt.Countries, ev.Country) {
			out = append(out, ev)
		}
	}
	return out, f.err
}

func testEvents() []news.Event {
	ev := func(c string, a news.Action, tr news.Treaty, seen time.Time, evidence string) news.Event {
		return news.Event{Key: news.EventKey(c, a, tr), Country: c, Action: a, Treaty: tr, FirstSeen: seen,
			FirstArticleID: "a1b2c3", FirstSourceID: "gn-pl", Evidence: evidence, Articles: 3}
	}
	notify := ev("PL", news.ActionWithdrawNotify, news.TreatyOttawa, time.Date(2025, 8, 21, 8, 0, 0, 0, time.UTC), "Poland deposited <b>the instrument</b>.")
	return []news.Event{
		ev("PL", news.ActionWithdrawVote, news.TreatyOttawa, time.Date(2025, 6, 25, 18, 0, 0, 0, time.UTC), "The Sejm voted 413 to 15."),
		ev("PL", news.ActionWithdrawAnnounce, news.TreatyOttawa, time.Date(2025, 3, 7, 9, 0, 0, 0, time.UTC), "Tusk announced it."),
		notify,
		ev("NO", news.ActionRemain, news.TreatyOttawa, time.Date(2025, 4, 2, 9, 0, 0, 0, time.UTC), "Norway will not withdraw."),
	}
}

func TestEventsPage(t *testing.T) {
	fe := &fakeEvents{evs: testEvents()}
	ts := newTestServer(t, func(o *Options) { o.Events = fe })
	ts.search.hits.Histogram = []index.DayCount{{Day: testNow.AddDate(0, 0, -3), Count: 4, Topics: map[string]int{"treaty_withdrawal": 4}}}
	r := ts.get(t, "/events")
	if r.status != http.StatusOK {
		t.Fatalf("status %d:\n%s", r.status, r.body)
	}
	mustContain(t, r.body,
		`<svg class="map" viewBox="0 0 1000 438"`,
		`<a href="/events/PL" aria-label="Poland: withdrawn (effective 20 Feb 2026); latest move notified withdrawal to the UN (21 Aug 2025)"><path class="st-withdrawn"`,
		`<path class="st-party"`,     // Norway and many others
		`<path class="st-suspended"`, // Ukraine
		`<th scope="row"><a href="/events/PL">Poland</a></th>`,
		`Show the Convention on Cluster Munitions instead`,
		`Relevant articles per day by topic`,
		`aria-current="page">Events`,
	)
	// Countries with moves come first: Poland's latest move is newer than Norway's.
	if pl, no := strings.Index(r.body, `<th scope="row"><a href="/events/PL">`), strings.Index(r.body, `<th scope="row"><a href="/events/NO">`); pl < 0 || no < 0 || pl > no {
		t.Errorf("table order: PL at %d, NO at %d", pl, no)
	}
	if n := len(r.body); n > 150_000 {
		t.Errorf("events page is %d bytes", n)
	}
	ccm := ts.get(t, "/events?treaty=ccm")
	mustContain(t, ccm.body, `Map: Convention on Cluster Munitions`, `<a href="/events/LT" aria-label="Lithuania: withdrawn (effective 6 Mar 2025)`)

	t.Run("without an event store", func(t *testing.T) {
		ts := newTestServer(t, nil)
		r := ts.get(t, "/events")
		if r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
		mustContain(t, r.body, "records no treaty moves", `<path class="st-withdrawn"`)
	})
	t.Run("event store fails", func(t *testing.T) {
		ts := newTestServer(t, func(o *Options) { o.Events = &fakeEvents{err: errors.New("db gone")} })
		r := ts.get(t, "/events")
		mustContain(t, r.body, `class="error" role="alert"`, "treaty moves could not be loaded")
	})
}

func TestCountryPage(t *testing.T) {
	fe := &fakeEvents{evs: testEvents()}
	ts := newTestServer(t, func(o *Options) { o.Events = fe })
	tests := []struct {
		path   string
		status int
		want   []string
	}{
		{"/events/PL", 200, []string{
			"<h1>Poland <span class=\"muted\">(PL)</span></h1>",
			"withdrawn (effective 20 Feb 2026)",
			"record: <time datetime=\"2025-08-20\">20 Aug 2025</time>",
			"first in the news: <time datetime=\"2025-08-21\">21 Aug 2025</time>",
			"Poland deposited &lt;b&gt;the instrument&lt;/b&gt;.",
			"(derived: first report + 6 months, art. 20)",
			`Effective: <time datetime="2026-02-21">21 Feb 2026</time>`,
			`href="/articles/a1b2c3"`,
			`href="/?action=withdraw_notify&amp;country=PL&amp;relevant=0&amp;sort=date&amp;treaty=ottawa"`,
		}},
		{"/events/pl", 301, nil},
		{"/events/UA", 200, []string{`"Suspension" of the Ottawa Convention`, "disputed", "No treaty moves by Ukraine have been reported yet."}},
		{"/events/ZZ", 404, []string{"Unknown country"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := ts.get(t, tt.path)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d", r.status, tt.status)
			}
			mustContain(t, r.body, tt.want...)
		})
	}
	// Steps are in time order, and each got its own search for articles.
	r := ts.get(t, "/events/PL")
	a, v, n := strings.Index(r.body, "Tusk announced"), strings.Index(r.body, "The Sejm voted"), strings.Index(r.body, "Poland deposited")
	if !(a < v && v < n) {
		t.Errorf("timeline out of order: %d %d %d", a, v, n)
	}
	var stepQueries int
	for _, q := range ts.search.queries {
		if len(q.Actions) == 1 && slices.Equal(q.Countries, []string{"PL"}) && q.Limit == stepArticles {
			stepQueries++
		}
	}
	if stepQueries < 3 {
		t.Errorf("%d searches for the articles behind the moves, want 3 per page", stepQueries)
	}
}

func TestAPIEvents(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.Events = &fakeEvents{evs: testEvents()} })
	r := ts.get(t, "/api/events")
	var out apiEvents
	if err := json.Unmarshal([]byte(r.body), &out); err != nil || r.status != 200 {
		t.Fatalf("status %d err %v", r.status, err)
	}
	if !out.EventsAvailable || out.Countries[0].Code != "PL" || out.Countries[0].LatestMove == nil ||
		out.Countries[0].LatestMove.Action != string(news.ActionWithdrawNotify) || out.Countries[0].Ottawa.Status != "withdrawn" {
		t.Errorf("first country %+v", out.Countries[0])
	}
	r = ts.get(t, "/api/events/PL")
	var tl apiCountryTimeline
	if err := json.Unmarshal([]byte(r.body), &tl); err != nil || r.status != 200 {
		t.Fatalf("status %d err %v", r.status, err)
	}
	if len(tl.Timeline) != 3 || tl.Timeline[0].Stage != "announce" || tl.Timeline[2].EffectiveDate == nil || !tl.Timeline[2].EffectiveDerived {
		t.Errorf("timeline %+v", tl.Timeline)
	}
	if r := ts.get(t, "/api/events/QQ"); r.status != 404 || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
		t.Errorf("unknown country: %d %s", r.status, r.header.Get("Content-Type"))
	}
}

// fakeSaver keeps saved searches in memory.
type fakeSaver struct {
	mu  sync.Mutex
	m   map[string]index.SavedSearch
	err error
}

func (f *fakeSaver) SaveSearch(_ context.Context, s index.SavedSearch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.m == nil {
		f.m = map[string]index.SavedSearch{}
	}
	f.m[s.ID] = s
	return nil
}

func (f *fakeSaver) SavedSearches(context.Context) ([]index.SavedSearch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []index.SavedSearch
	for _, s := range f.m {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b index.SavedSearch) int { return strings.Compare(a.ID, b.ID) })
	return out, f.err
}

func (f *fakeSaver) DeleteSearch(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[id]; !ok {
		return index.ErrNotFound
	}
	delete(f.m, id)
	return nil
}

func post(ts testServer, target string, form url.Values, cookie string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: csrfCookie, Value: cookie})
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	return rec
}

func TestSavedSearches(t *testing.T) {
	fs := &fakeSaver{}
	ts := newTestServer(t, func(o *Options) { o.Saved = fs })

	// The search page hands out the token and the form carries the state.
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?q=ottawa&country=PL&preset=7d&since=2025-01-01", nil))
	var tok string
	for _, c := range rec.Result().Cookies() {
		if c.Name == csrfCookie {
			tok = c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("cookie %+v is not HttpOnly+SameSite=Strict", c)
			}
		}
	}
	if !validToken(tok) {
		t.Fatalf("no CSRF cookie on the search page")
	}
	mustContain(t, rec.Body.String(), `<input type="hidden" name="csrf" value="`+tok+`">`, `action="/saved"`,
		`<input type="hidden" name="country" value="PL">`, `<input type="hidden" name="q" value="ottawa">`)

	form := url.Values{"name": {"  Poland   exits "}, "q": {"ottawa"}, "country": {"PL"}, "preset": {"7d"}, "csrf": {tok}}
	tests := []struct {
		name   string
		form   url.Values
		cookie string
		hdr    map[string]string
		status int
	}{
		{"no cookie", form, "", nil, 403},
		{"wrong token", form, strings.Repeat("ab", 16), nil, 403},
		{"cross origin", form, tok, map[string]string{"Origin": "https://evil.example"}, 403},
		{"cross site fetch", form, tok, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"no name", url.Values{"q": {"x"}, "csrf": {tok}}, tok, nil, 400},
		{"bad filter", url.Values{"name": {"x"}, "country": {"Poland"}, "csrf": {tok}}, tok, nil, 400},
		{"ok", form, tok, map[string]string{"Origin": "http://example.com"}, 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := post(ts, "/saved", tt.form, tt.cookie, tt.hdr)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
		})
	}
	all, _ := fs.SavedSearches(context.Background())
	if len(all) != 1 {
		t.Fatalf("%d saved, want 1", len(all))
	}
	ss := all[0]
	if ss.Name != "Poland exits" || ss.Query.Text != "ottawa" || !slices.Equal(ss.Query.Countries, []string{"PL"}) ||
		!ss.Query.Since.IsZero() || ss.Query.Limit != 0 || !ss.Query.RelevantOnly {
		t.Errorf("saved %+v", ss)
	}

	r := ts.get(t, "/saved/"+ss.ID)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/?country=PL&q=ottawa" {
		t.Errorf("permalink: %d %q", r.status, r.header.Get("Location"))
	}
	page := ts.get(t, "/")
	mustContain(t, page.body, `<a href="/?country=PL&amp;q=ottawa">Poland exits</a>`, `href="/saved/`+ss.ID+`.atom"`)

	t.Run("atom", func(t *testing.T) {
		r := ts.get(t, "/saved/"+ss.ID+".atom")
		if r.status != 200 || r.header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
			t.Fatalf("status %d type %q", r.status, r.header.Get("Content-Type"))
		}
		var feed struct {
			XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
			ID      string   `xml:"id"`
			Title   string   `xml:"title"`
			Updated string   `xml:"updated"`
			Entries []struct {
				ID        string `xml:"id"`
				Title     string `xml:"title"`
				Published string `xml:"published"`
				Updated   string `xml:"updated"`
				Summary   string `xml:"summary"`
				Links     []struct {
					Rel  string `xml:"rel,attr"`
					Href string `xml:"href,attr"`
				} `xml:"link"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal([]byte(r.body), &feed); err != nil {
			t.Fatalf("not Atom: %v", err)
		}
		if feed.ID == "" || feed.Title != "minewatch: Poland exits" || feed.Updated == "" || len(feed.Entries) != 2 {
			t.Fatalf("feed %+v", feed)
		}
		for _, e := range feed.Entries {
			if e.ID == "" || e.Title == "" || e.Published == "" || e.Updated == "" || len(e.Links) == 0 || !strings.HasPrefix(e.Links[0].Href, "http://example.com/articles/") {
				t.Errorf("entry %+v lacks a required element", e)
			}
			for _, ts := range []string{e.Published, e.Updated} {
				if _, err := time.Parse(time.RFC3339, ts); err != nil {
					t.Errorf("date %q: %v", ts, err)
				}
			}
		}
		if feed.Entries[0].Title != xssTitle {
			t.Errorf("title %q did not round-trip as text", feed.Entries[0].Title)
		}
		if strings.Contains(r.body, "<script") {
			t.Error("raw markup in the feed")
		}
		if q := ts.search.lastQuery(t); q.Sort != index.SortDate || q.Limit != feedEntries {
			t.Errorf("feed query %+v", q)
		}
	})
	t.Run("api", func(t *testing.T) {
		r := ts.get(t, "/api/saved")
		var out []apiSaved
		if err := json.Unmarshal([]byte(r.body), &out); err != nil || len(out) != 1 || out[0].Feed != "/saved/"+ss.ID+".atom" {
			t.Errorf("api saved %s (%v)", r.body, err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if rec := post(ts, "/saved/"+ss.ID+"/delete", url.Values{}, tok, nil); rec.Code != 403 {
			t.Errorf("delete without token: %d", rec.Code)
		}
		req := httptest.NewRequest(http.MethodDelete, "/saved/"+ss.ID, nil)
		req.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
		req.Header.Set(csrfHeader, tok)
		rec := httptest.NewRecorder()
		ts.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			t.Errorf("DELETE: %d", rec.Code)
		}
		if rec := post(ts, "/saved/"+ss.ID+"/delete", url.Values{"csrf": {tok}}, tok, nil); rec.Code != 404 {
			t.Errorf("second delete: %d", rec.Code)
		}
		if r := ts.get(t, "/saved/"+ss.ID); r.status != 404 {
			t.Errorf("deleted permalink: %d", r.status)
		}
	})
	t.Run("hidden without a saver", func(t *testing.T) {
		ts := newTestServer(t, nil)
		r := ts.get(t, "/")
		mustNotContain(t, r.body, `action="/saved"`, "Saved searches")
		if r := ts.get(t, "/api/saved"); r.status != 404 {
			t.Errorf("/api/saved without saver: %d", r.status)
		}
	})
}

// pagingSearcher serves n documents in pages by an offset cursor.
type pagingSearcher struct {
	n       int
	failAt  int // page offset whose search fails; 0 means never
	queries int
	mu      sync.Mutex
}

func (p *pagingSearcher) Search(_ context.Context, q index.Query) (index.Hits, error) {
	p.mu.Lock()
	p.queries++
	p.mu.Unlock()
	off := 0
	if q.Cursor != "" {
		off, _ = strconv.Atoi(q.Cursor)
	}
	if p.failAt > 0 && off >= p.failAt {
		return index.Hits{}, errors.New("disk on fire")
	}
	h := index.Hits{Total: p.n}
	for i := off; i < min(p.n, off+q.Limit); i++ {
		title := fmt.Sprintf("Article %d", i)
		if i == 0 {
			title = `=HYPERLINK("http://evil.example","click")`
		}
		h.Docs = append(h.Docs, index.Hit{Document: news.Document{Article: news.Article{ID: fmt.Sprintf("id%d", i), Title: title,
			SourceID: "-src", URL: "https://x.example/" + strconv.Itoa(i), Published: testNow}}})
	}
	if off+q.Limit < p.n {
		h.NextCursor = strconv.Itoa(off + q.Limit)
	}
	return h, nil
}

func (p *pagingSearcher) Get(context.Context, string) (news.Document, error) {
	return news.Document{}, index.ErrNotFound
}

func TestExport(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		failAt   int
		wantRows int
	}{
		{"small", 3, 0, 3},
		{"several pages", 1234, 0, 1234},
		{"capped", 12_000, 0, maxExportRows},
		{"fails midway", 1200, 1000, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := &pagingSearcher{n: tt.n, failAt: tt.failAt}
			s, err := New(Options{Searcher: ps, Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/export.csv?q=mines&country=PL", nil))
			if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment;") {
				t.Fatalf("status %d, disposition %q", rec.Code, rec.Header().Get("Content-Disposition"))
			}
			cr := csv.NewReader(strings.NewReader(rec.Body.String()))
			cr.FieldsPerRecord = -1
			rows, err := cr.ReadAll()
			if err != nil {
				t.Fatalf("csv: %v", err)
			}
			data := rows[1:]
			if tt.failAt > 0 {
				data = data[:len(data)-1] // the "stopped early" line
				if !strings.Contains(rec.Body.String(), "export stopped early") {
					t.Error("a failed export does not say so")
				}
			}
			if len(data) != tt.wantRows {
				t.Errorf("%d rows, want %d", len(data), tt.wantRows)
			}
			if data[0][5] != `'=HYPERLINK("http://evil.example","click")` || data[0][3] != "'-src" {
				t.Errorf("formula not defused: %q %q", data[0][5], data[0][3])
			}

			rec = httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/export.json?q=mines", nil))
			var out struct {
				Total     int         `json:"total"`
				Results   []apiResult `json:"results"`
				Count     int         `json:"count"`
				Complete  bool        `json:"complete"`
				Truncated bool        `json:"truncated"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("json: %v", err)
			}
			if out.Count != tt.wantRows || len(out.Results) != tt.wantRows || out.Complete != (tt.failAt == 0) ||
				out.Truncated != (tt.failAt == 0 && tt.n > maxExportRows) {
				t.Errorf("count %d results %d complete %v truncated %v", out.Count, len(out.Results), out.Complete, out.Truncated)
			}
		})
	}
	t.Run("bad parameter is a problem", func(t *testing.T) {
		ts := newTestServer(t, nil)
		r := ts.get(t, "/export.csv?country=Poland")
		if r.status != 400 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%d %s", r.status, r.header.Get("Content-Type"))
		}
	})
}

func TestSafeCells(t *testing.T) {
	got := safeCells([]string{"=1+1", "+1", "-1", "@SUM(A1)", "\tx", "plain", "", "a=b"})
	want := []string{"'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "plain", "", "a=b"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q", got)
	}
}

type storySearcher struct {
	*fakeSearcher
	docs []news.Document
	err  error
}

func (s storySearcher) StoryDocuments(_ context.Context, storyID string, limit int) ([]news.Document, error) {
	if s.err != nil {
		return nil, s.err
	}
	var out []news.Document
	for _, d := range s.docs {
		if d.StoryID == storyID && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func TestOtherOutlets(t *testing.T) {
	base := testDoc(t)
	base.StoryID = "story1"
	var docs []news.Document
	for i, src := range []string{"pap", "tvn24", "onet"} {
		d := base
		d.ID, d.SourceID, d.Title, d.URL, d.CanonicalURL = fmt.Sprintf("dup%d", i), src, "Copy "+src, "https://"+src+".example/x", ""
		docs = append(docs, d)
	}
	docs = append(docs, base) // the article itself is left out
	fs := &fakeSearcher{docs: map[string]news.Document{base.ID: base}}
	s, err := New(Options{Searcher: storySearcher{fakeSearcher: fs, docs: docs}})
	if err != nil {
		t.Fatal(err)
	}
	ts := testServer{Server: s, search: fs}
	r := ts.get(t, "/articles/"+base.ID)
	mustContain(t, r.body, "+3 other outlets with this story", `<a href="/articles/dup1">Copy tvn24</a>`, `href="https://onet.example/x"`)
	var a apiArticle
	if err := json.Unmarshal([]byte(ts.get(t, "/api/articles/"+base.ID).body), &a); err != nil || len(a.OtherOutlets) != 3 {
		t.Errorf("api other_outlets %+v (%v)", a.OtherOutlets, err)
	}
	s2, _ := New(Options{Searcher: storySearcher{fakeSearcher: fs, err: errors.New("down")}})
	r = testServer{Server: s2, search: fs}.get(t, "/articles/"+base.ID)
	if r.status != 200 || strings.Contains(r.body, "other outlets") {
		t.Errorf("a failing story lister broke the article page: %d", r.status)
	}
}

func TestRequestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := newTestServer(t, func(o *Options) { o.Registerer = reg; o.Gatherer = reg })
	ts.get(t, "/?q=x")
	ts.get(t, "/articles/a1b2c3")
	ts.get(t, "/articles/nope")
	ts.get(t, "/api/search?country=Poland")
	tests := []struct {
		route, status string
		want          float64
	}{
		{"GET /{$}", "200", 1},
		{"GET /articles/{id}", "200", 1},
		{"GET /articles/{id}", "404", 1},
		{"GET /api/search", "400", 1},
	}
	for _, tt := range tests {
		t.Run(tt.route+" "+tt.status, func(t *testing.T) {
			c, err := ts.metrics.requests.GetMetricWithLabelValues(tt.route, "GET", tt.status)
			if err != nil {
				t.Fatal(err)
			}
			if got := testutil.ToFloat64(c); got != tt.want {
				t.Errorf("count %v, want %v", got, tt.want)
			}
		})
	}
	r := ts.get(t, "/metrics")
	mustContain(t, r.body, `minewatch_web_requests_total{method="GET",route="GET /articles/{id}",status="404"} 1`,
		`minewatch_web_request_duration_seconds_bucket{route="GET /{$}"`)
	// A second server on the same registry reuses the collectors.
	if _, err := New(Options{Searcher: ts.search, Registerer: reg}); err != nil {
		t.Errorf("second server on one registry: %v", err)
	}
}

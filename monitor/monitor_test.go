package monitor

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/news"
)

// memStore is an in-memory Store: enough to watch what the monitor writes.
type memStore struct {
	mu      sync.Mutex
	docs    map[string]news.Document
	states  map[string]news.SourceState
	events  map[string]news.Event
	putErr  error
	putCall int
}

func newMemStore() *memStore {
	return &memStore{docs: map[string]news.Document{}, states: map[string]news.SourceState{}, events: map[string]news.Event{}}
}

func (s *memStore) Put(_ context.Context, docs ...news.Document) (index.PutResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putCall++
	if s.putErr != nil {
		return index.PutResult{}, s.putErr
	}
	for _, d := range docs {
		s.docs[d.ID] = d
	}
	return index.PutResult{Indexed: len(docs)}, nil
}

func (s *memStore) Get(_ context.Context, id string) (news.Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[id]
	if !ok {
		return news.Document{}, index.ErrNotFound
	}
	return d, nil
}

func (s *memStore) Search(context.Context, index.Query) (index.Hits, error) { return index.Hits{}, nil }
func (s *memStore) Close() error                                            { return nil }

func (s *memStore) SourceStates(context.Context) (map[string]news.SourceState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]news.SourceState, len(s.states))
	for k, v := range s.states {
		out[k] = v
	}
	return out, nil
}

func (s *memStore) SaveSourceState(_ context.Context, st news.SourceState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states[st.SourceID] = st
	return nil
}

func (s *memStore) RecordEvent(_ context.Context, ev news.Event) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.events[ev.Key]; ok {
		old.Articles++
		s.events[ev.Key] = old
		return false, nil
	}
	s.events[ev.Key] = ev
	return true, nil
}

func (s *memStore) Events(context.Context, index.EventFilter) ([]news.Event, error) { return nil, nil }

func (s *memStore) KnownURLs(_ context.Context, urls []string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for _, d := range s.docs {
		for _, u := range urls {
			if d.URL == u || d.CanonicalURL == u {
				out[u] = true
			}
		}
	}
	return out, nil
}

// fakeCollector answers per source id with a fixed result or error.
type fakeCollector struct {
	results map[string]ingest.Result
	errs    map[string]error
	calls   atomic.Int32
	seen    chan string // receives each source id collected, when set
	gotURL  sync.Map    // source id → URL it was asked to fetch
	gotVal  sync.Map    // source id → validators it was given
}

func (c *fakeCollector) Collect(ctx context.Context, src news.Source, st news.SourceState, _ index.URLChecker) (ingest.Result, error) {
	c.calls.Add(1)
	c.gotURL.Store(src.ID, src.URL)
	c.gotVal.Store(src.ID, st.Validators)
	if c.seen != nil {
		select {
		case c.seen <- src.ID:
		case <-ctx.Done():
		}
	}
	if err := c.errs[src.ID]; err != nil {
		return ingest.Result{}, err
	}
	return c.results[src.ID], nil
}

// keywordClassifier marks articles whose title names a withdrawal.
type keywordClassifier struct{}

func (keywordClassifier) Classify(a news.Article) news.Classification {
	if !strings.Contains(a.Title, "withdraw") {
		return news.Classification{Topics: []news.TopicScore{}}
	}
	return news.Classification{
		Relevant: true, Score: 1,
		Topics: []news.TopicScore{{Topic: news.TopicTreatyWithdrawal, Score: 1}},
		Entities: []news.Entity{{Country: "LT", CountryName: "Lithuania", Action: news.ActionWithdrawNotify,
			Treaty: news.TreatyOttawa, Evidence: a.Title}},
	}
}

func article(id, title string) news.Article {
	pub := time.Date(2025, 6, 27, 10, 0, 0, 0, time.UTC)
	return news.Article{ID: id, URL: "https://example.org/" + id, CanonicalURL: "https://example.org/" + id,
		Title: title, SourceID: "a", Published: pub, FirstSeen: pub}
}

func newTestMonitor(t *testing.T, srcs []news.Source, c *fakeCollector, st *memStore, reg prometheus.Registerer) *Monitor {
	t.Helper()
	var events atomic.Int32
	mon, err := New(Options{
		Sources: srcs, Collector: c, Classifier: keywordClassifier{}, Store: st, Workers: 2, Registerer: reg,
		OnNewEvent: func(context.Context, news.Event) { events.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return mon
}

func sources(ids ...string) []news.Source {
	out := make([]news.Source, len(ids))
	for i, id := range ids {
		out[i] = news.Source{ID: id, Kind: news.KindFeed, URL: "https://example.org/" + id + ".xml", Schedule: "@every 15m"}
	}
	return out
}

func TestRunOnceIndexesClassifiesAndRecordsEventsOnce(t *testing.T) {
	st := newMemStore()
	c := &fakeCollector{
		results: map[string]ingest.Result{
			"a": {Items: 3, Validators: news.Validators{ETag: `"v2"`}, Articles: []news.Article{
				article("1", "Lithuania deposits withdraw instrument"),
				article("2", "Reuters: Lithuania withdraw notification"),
				article("3", "Coal mine reopens"),
			}},
			"b": {NotModified: true, Items: 0},
		},
		errs: map[string]error{"dead": errors.New("dial tcp: connection refused")},
	}
	reg := prometheus.NewRegistry()
	mon := newTestMonitor(t, sources("a", "b", "dead"), c, st, reg)
	outs, err := mon.RunOnce(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Outcome{}
	for _, o := range outs {
		byID[o.SourceID] = o
	}
	if o := byID["a"]; o.Err != nil || o.Indexed != 3 || o.Relevant != 2 || len(o.NewEvents) != 1 {
		t.Errorf("source a: %+v; want 3 indexed, 2 relevant, 1 new event", o)
	}
	if o := byID["b"]; o.Err != nil || !o.NotModified {
		t.Errorf("source b: %+v; want not modified", o)
	}
	if o := byID["dead"]; o.Err == nil || o.Abandoned {
		t.Errorf("source dead: %+v; want a failure", o)
	}
	if len(st.docs) != 3 {
		t.Errorf("stored %d docs, want 3", len(st.docs))
	}
	ev, ok := st.events["LT/withdraw_notify/ottawa"]
	if !ok || ev.Articles != 2 {
		t.Fatalf("event = %+v, want one event seen by 2 articles", ev)
	}
	if want := time.Date(2025, 12, 27, 0, 0, 0, 0, time.UTC); !ev.EffectiveDate.Equal(want) {
		t.Errorf("effective date = %v, want %v (notification + 6 months)", ev.EffectiveDate, want)
	}
	if got := st.states["a"].Validators.ETag; got != `"v2"` {
		t.Errorf("validators not saved: %q", got)
	}
	if s := st.states["dead"]; s.ConsecutiveFailures != 1 || s.LastError == "" {
		t.Errorf("dead source state = %+v, want 1 failure with its error", s)
	}
	if got := testutil.ToFloat64(mon.m.indexed); got != 3 {
		t.Errorf("indexed metric = %v, want 3", got)
	}
	if n, err := testutil.GatherAndCount(reg, "minewatch_fetches_total"); err != nil || n != 3 {
		t.Errorf("fetch outcome series = %d (%v), want 3 (ok, not_modified, a failure)", n, err)
	}

	// A second cycle sends the stored validators and records no new event.
	outs, err = mon.RunOnce(t.Context(), []string{"a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.gotVal.Load("a"); v.(news.Validators).ETag != `"v2"` {
		t.Errorf("second fetch got validators %+v, want the stored ones", v)
	}
	if len(outs) != 1 || len(outs[0].NewEvents) != 0 {
		t.Errorf("second cycle outcomes %+v, want one with no new events", outs)
	}
}

// A failed index write must not advance the validators: the next fetch has to
// bring the same articles again, or they would be lost behind a 304.
func TestIndexFailureKeepsOldValidators(t *testing.T) {
	st := newMemStore()
	st.states["a"] = news.SourceState{SourceID: "a", Validators: news.Validators{ETag: `"old"`}}
	st.putErr = errors.New("disk full")
	c := &fakeCollector{results: map[string]ingest.Result{"a": {Items: 1, Validators: news.Validators{ETag: `"new"`},
		Articles: []news.Article{article("1", "x")}}}}
	mon := newTestMonitor(t, sources("a"), c, st, nil)
	outs, err := mon.RunOnce(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].ErrClass != "index" {
		t.Errorf("error class = %q, want index", outs[0].ErrClass)
	}
	s := st.states["a"]
	if s.Validators.ETag != `"old"` || s.ConsecutiveFailures != 1 {
		t.Errorf("state after failed write = %+v, want old validators and 1 failure", s)
	}
}

func TestPermanentRedirectIsFollowedNextTime(t *testing.T) {
	st := newMemStore()
	c := &fakeCollector{results: map[string]ingest.Result{"a": {URL: "https://moved.example.org/feed"}}}
	mon := newTestMonitor(t, sources("a"), c, st, nil)
	for range 2 {
		if _, err := mon.RunOnce(t.Context(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if u, _ := c.gotURL.Load("a"); u != "https://moved.example.org/feed" {
		t.Errorf("second fetch went to %v, want the permanent redirect target", u)
	}
}

func TestRunOnceUnknownSource(t *testing.T) {
	mon := newTestMonitor(t, sources("a"), &fakeCollector{}, newMemStore(), nil)
	if _, err := mon.RunOnce(t.Context(), []string{"nope"}, nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("err = %v, want one naming the unknown source", err)
	}
}

func TestNewRejectsBadSchedules(t *testing.T) {
	srcs := sources("a", "b")
	srcs[0].Schedule = "every day"
	srcs[1].Schedule = "99 * * * *"
	_, err := New(Options{Sources: srcs, Collector: &fakeCollector{}, Classifier: keywordClassifier{}, Store: newMemStore()})
	if err == nil || !strings.Contains(err.Error(), "source a") || !strings.Contains(err.Error(), "source b") {
		t.Errorf("err = %v, want both bad schedules reported", err)
	}
}

// steppingClock reads start on its first call (when Run loads state) and
// start+step afterwards, so overdue sources spread by load are due at the
// first dispatch without waiting for a tick.
type steppingClock struct {
	calls       atomic.Int32
	start, step time.Time
}

func (c *steppingClock) Now() time.Time {
	if c.calls.Add(1) == 1 {
		return c.start
	}
	return c.step
}

// TestRunDispatchesDueSourcesAndStops runs the scheduler: overdue sources are
// collected soon after start, and cancelling the context stops it.
func TestRunDispatchesDueSourcesAndStops(t *testing.T) {
	st := newMemStore()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := &steppingClock{start: start, step: start.Add(2 * time.Minute)}
	for _, id := range []string{"a", "b"} {
		st.states[id] = news.SourceState{SourceID: id, NextCheck: start.Add(-time.Hour)}
	}
	c := &fakeCollector{seen: make(chan string), results: map[string]ingest.Result{}}
	mon, err := New(Options{Sources: sources("a", "b"), Collector: c, Classifier: keywordClassifier{}, Store: st,
		Workers: 2, Tick: time.Hour, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- mon.Run(ctx) }()
	got := map[string]bool{}
	for len(got) < 2 {
		select {
		case id := <-c.seen:
			got[id] = true
		case <-time.After(30 * time.Second): // a guard against hanging, not a timing assertion
			t.Fatalf("sources collected: %v; want a and b", got)
		}
	}
	if !mon.Running() {
		t.Error("Running() = false while Run schedules")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if mon.Running() {
		t.Error("Running() = true after Run returned")
	}
	sts, err := mon.Statuses(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if !s.NextRun.After(start) {
			t.Errorf("source %s next run %v, want rescheduled after start", s.Source.ID, s.NextRun)
		}
	}
}

// panickyCollector panics for one source and delegates the rest.
type panickyCollector struct {
	fakeCollector
	bad string
}

func (c *panickyCollector) Collect(ctx context.Context, src news.Source, st news.SourceState, known index.URLChecker) (ingest.Result, error) {
	if src.ID == c.bad {
		panic("index out of range [11] with length 9") // a parser bug on hostile input
	}
	return c.fakeCollector.Collect(ctx, src, st, known)
}

// A panic on one source's input is that source's error, class "panic"; the
// other sources are collected and the process goes on.
func TestPanicInOneSourceSparesTheOthers(t *testing.T) {
	st := newMemStore()
	c := &panickyCollector{bad: "bad", fakeCollector: fakeCollector{results: map[string]ingest.Result{
		"a": {Items: 1, Articles: []news.Article{article("1", "Lithuania deposits withdraw instrument")}},
	}}}
	mon, err := New(Options{Sources: sources("a", "bad"), Collector: c, Classifier: keywordClassifier{}, Store: st, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := mon.RunOnce(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Outcome{}
	for _, o := range outs {
		byID[o.SourceID] = o
	}
	if o := byID["bad"]; o.ErrClass != "panic" || o.Err == nil || !strings.Contains(o.Err.Error(), "panic") {
		t.Errorf("bad source: class %q, err %v; want class panic", o.ErrClass, o.Err)
	}
	if o := byID["a"]; o.Err != nil || o.Indexed != 1 {
		t.Errorf("good source: %+v; want 1 indexed", o)
	}
	if s := st.states["bad"]; s.ConsecutiveFailures != 1 || s.LastErrorClass != "panic" {
		t.Errorf("bad source state = %+v; want 1 failure of class panic", s)
	}
}

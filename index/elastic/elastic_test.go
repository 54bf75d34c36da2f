package elastic_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/elastic"
	"github.com/minewatch/minewatch/index/elastic/estest"
	"github.com/minewatch/minewatch/index/indextest"
	"github.com/minewatch/minewatch/news"
)

// fastBackoff keeps retries in tests immediate.
func fastBackoff(int) time.Duration { return 0 }

// openFake opens a store on a fresh recorded-behaviour server.
func openFake(t testing.TB, srv *estest.Server, mod func(*elastic.Options)) *elastic.Store {
	t.Helper()
	opts := elastic.Options{
		URLs:          []string{srv.URL},
		IndexPrefix:   "mw",
		AutoInit:      true,
		FlushInterval: time.Hour, // Put flushes; the interval must not matter
		Backoff:       fastBackoff,
		Now:           func() time.Time { return time.Date(2025, time.December, 1, 12, 0, 0, 0, time.UTC) },
	}
	if mod != nil {
		mod(&opts)
	}
	s, err := elastic.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func noViolations(t *testing.T, srv *estest.Server) {
	t.Helper()
	for _, v := range srv.Violations() {
		t.Errorf("request violation: %s", v)
	}
}

func TestContractRecorded(t *testing.T) {
	indextest.Run(t, func(t *testing.T) index.Store {
		srv := estest.New(t, estest.Options{})
		t.Cleanup(func() { noViolations(t, srv) })
		return openFake(t, srv, nil)
	})
}

// TestContractLive runs the suite against the cluster at ELASTICSEARCH_URL
// (ELASTICSEARCH_USERNAME/PASSWORD or ELASTICSEARCH_API_KEY, and
// ELASTICSEARCH_CA_FILE), each subtest under a unique prefix it deletes.
func TestContractLive(t *testing.T) {
	u := os.Getenv("ELASTICSEARCH_URL")
	if u == "" {
		t.Skip("ELASTICSEARCH_URL not set: no live cluster to test against")
	}
	indextest.Run(t, func(t *testing.T) index.Store {
		var b [4]byte
		_, _ = rand.Read(b[:])
		s, err := elastic.Open(context.Background(), elastic.Options{
			URLs: []string{u}, Username: os.Getenv("ELASTICSEARCH_USERNAME"), Password: os.Getenv("ELASTICSEARCH_PASSWORD"),
			APIKey: os.Getenv("ELASTICSEARCH_API_KEY"), CAFile: os.Getenv("ELASTICSEARCH_CA_FILE"),
			IndexPrefix: "mwtest-" + hex.EncodeToString(b[:]), AutoInit: true,
		})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := s.DeleteAll(context.Background()); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
		return s
	})
}

func TestInitIdempotentAndRequests(t *testing.T) {
	srv := estest.New(t, estest.Options{})
	s := openFake(t, srv, nil)
	ctx := context.Background()
	if err := s.Init(ctx); err != nil {
		t.Fatalf("second Init: %v", err)
	}
	if got := srv.AliasTargets("mw-articles-write"); len(got) != 1 || !got["mw-articles-2025.12"] {
		t.Errorf("write alias = %v", got)
	}
	if got := srv.AliasTargets("mw-articles-read"); len(got) != 1 {
		t.Errorf("read alias = %v", got)
	}
	var tmpl map[string]any
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPut && r.Path == "/_index_template/mw-articles" {
			if err := json.Unmarshal(r.Body, &tmpl); err != nil {
				t.Fatal(err)
			}
		}
	}
	props, _ := dig(tmpl, "template", "mappings", "properties").(map[string]any)
	checks := map[string]string{
		"id": "keyword", "title": "text", "body": "text", "published": "date", "date": "date",
		"entities": "nested", "countries": "keyword", "source_id": "keyword",
	}
	for field, typ := range checks {
		if got, _ := dig(props, field, "type").(string); got != typ {
			t.Errorf("mapping %s: type %q, want %q", field, got, typ)
		}
	}
	for _, lang := range []string{"en", "de", "fi", "lt", "lv", "et"} {
		if _, ok := dig(props, "title", "fields", lang).(map[string]any); !ok {
			t.Errorf("title has no %s sub-field", lang)
		}
	}
	if got, _ := dig(props, "title", "analyzer").(string); got != elastic.FoldedAnalyzer {
		t.Errorf("title analyzer %q", got)
	}
	d := indextest.Fixtures()[indextest.KeyPoland]
	if _, err := s.Put(ctx, d); err != nil {
		t.Fatal(err)
	}
	var bulks int
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/_bulk") {
			bulks++
			if r.ContentType != "application/x-ndjson" && !strings.Contains(r.ContentType, "json") {
				t.Errorf("bulk content type %q", r.ContentType)
			}
			lines := strings.Split(strings.TrimSuffix(string(r.Body), "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("bulk of one document has %d lines", len(lines))
			}
			var action map[string]map[string]string
			if err := json.Unmarshal([]byte(lines[0]), &action); err != nil {
				t.Fatal(err)
			}
			if a := action["index"]; a["_id"] != d.ID || a["_index"] != "mw-articles-write" {
				t.Errorf("action line %s", lines[0])
			}
			if r.Query.Get("refresh") != "wait_for" {
				t.Errorf("bulk refresh = %q", r.Query.Get("refresh"))
			}
		}
	}
	if bulks != 1 {
		t.Errorf("%d bulk requests for one Put", bulks)
	}
	noViolations(t, srv)
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		mp, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mp[k]
	}
	return v
}

func TestQueryTranslationSent(t *testing.T) {
	srv := estest.New(t, estest.Options{})
	s := openFake(t, srv, nil)
	tests := []struct {
		q    string
		want []string // fragments of the request body
	}{
		{"cut NEAR/4 demining", []string{`"intervals"`, `"max_gaps":3`, `"ordered":false`}},
		{"withdraw* NEAR/s ottawa", []string{`"max_gaps":30`, `"prefix":{"prefix":"withdraw"}`}},
		{"Łotwa*", []string{`"prefix":{"body":{"boost":1,"value":"lotwa"}}`}},
		{`"humanitarian demin*"`, []string{`"match_phrase_prefix"`}},
		{`title:"anti-personnel mines"`, []string{`"match_phrase":{"title":`}},
		{"ottawa NOT finland", []string{`"must_not"`}},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			srv.ResetRequests()
			if _, err := s.Search(context.Background(), index.Query{Text: tc.q}); err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			for _, w := range tc.want {
				if !strings.Contains(string(reqs[0].Body), w) {
					t.Errorf("request %s lacks %s", reqs[0].Body, w)
				}
			}
		})
	}
	noViolations(t, srv)
}

// TestWorkersRecordEventsOnce: three stores (three workers) on one cluster
// record the same 50 events concurrently; each key is created exactly once
// and every other call counts an article.
func TestWorkersRecordEventsOnce(t *testing.T) {
	srv := estest.New(t, estest.Options{})
	stores := []*elastic.Store{openFake(t, srv, nil), openFake(t, srv, nil), openFake(t, srv, nil)}
	events := make([]news.Event, 50)
	for i := range events {
		c := fmt.Sprintf("C%02d", i)
		events[i] = news.Event{Key: news.EventKey(c, news.ActionWithdrawVote, news.TreatyOttawa), Country: c,
			Action: news.ActionWithdrawVote, Treaty: news.TreatyOttawa, FirstSeen: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
			FirstArticleID: "a", FirstSourceID: "s", Evidence: "e", Articles: 1}
	}
	var mu sync.Mutex
	created := map[string]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w, s := range stores {
		for rep := range 2 {
			wg.Go(func() {
				<-start
				for i := range events {
					ev := events[(i+w*17+rep*7)%len(events)]
					c, err := s.RecordEvent(context.Background(), ev)
					if err != nil {
						t.Error(err)
						return
					}
					if c {
						mu.Lock()
						created[ev.Key]++
						mu.Unlock()
					}
				}
			})
		}
	}
	close(start)
	wg.Wait()
	for _, ev := range events {
		if created[ev.Key] != 1 {
			t.Errorf("%s created %d times", ev.Key, created[ev.Key])
		}
	}
	got, err := stores[0].Events(context.Background(), index.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(events) {
		t.Fatalf("%d events stored, want %d", len(got), len(events))
	}
	for _, ev := range got {
		if ev.Articles != 6 {
			t.Errorf("%s: %d articles, want 6 (one per call)", ev.Key, ev.Articles)
		}
	}
	noViolations(t, srv)
}

func TestBulkItemFailures(t *testing.T) {
	srv := estest.New(t, estest.Options{})
	s := openFake(t, srv, nil)
	fx := indextest.Fixtures()
	throttled, broken, fine := fx[indextest.KeyPoland], fx[indextest.KeyFinland], fx[indextest.KeyNorway]
	srv.FailItem(throttled.ID, http.StatusTooManyRequests, "es_rejected_execution_exception", 2)
	srv.FailItem(broken.ID, http.StatusBadRequest, "document_parsing_exception", -1)
	srv.FailItem(fine.ID, http.StatusServiceUnavailable, "unavailable_shards_exception", 1)
	res, err := s.Put(context.Background(), throttled, broken, fine)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if res.Indexed != 2 {
		t.Errorf("Indexed = %d, want 2 (the throttled and the 503 one retried)", res.Indexed)
	}
	var ie *elastic.ItemError
	if len(res.Failed) != 1 || !errors.As(res.Failed[broken.ID], &ie) || ie.Type != "document_parsing_exception" || ie.Temporary() {
		t.Errorf("Failed = %v, want the mapping error for %s as permanent", res.Failed, broken.ID)
	}
	st := s.BulkStats()
	if st.Retried != 3 || st.Failed != 1 || st.Indexed != 2 {
		t.Errorf("BulkStats = %+v, want 3 retried, 1 failed, 2 indexed", st)
	}
	if _, err := s.Get(context.Background(), throttled.ID); err != nil {
		t.Errorf("throttled document not stored: %v", err)
	}

	// A 429 that never ends is given up after MaxRetries, and reported.
	srv.FailItem(fine.ID, http.StatusTooManyRequests, "es_rejected_execution_exception", -1)
	res, err = s.Put(context.Background(), fine)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.As(res.Failed[fine.ID], &ie) || !ie.Temporary() {
		t.Errorf("endless 429: Failed = %v", res.Failed)
	}
}

// TestWholeRequestRetry: a 429 for the whole bulk request is retried by the
// client; nothing is lost.
func TestWholeRequestRetry(t *testing.T) {
	srv := estest.New(t, estest.Options{})
	var mu sync.Mutex
	rejects := 2
	s := openFake(t, srv, func(o *elastic.Options) {
		o.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			reject := strings.HasSuffix(r.URL.Path, "/_bulk") && rejects > 0
			if reject {
				rejects--
			}
			mu.Unlock()
			if reject {
				rec := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"X-Elastic-Product": {"Elasticsearch"}},
					Body: http.NoBody, Request: r}
				return rec, nil
			}
			return http.DefaultTransport.RoundTrip(r)
		})
	})
	res, err := s.Put(context.Background(), indextest.Fixtures()[indextest.KeyEstonia])
	if err != nil || res.Indexed != 1 {
		t.Fatalf("Put = %+v, %v", res, err)
	}
	if rejects != 0 {
		t.Errorf("%d rejections left", rejects)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestCloseFlushes: Puts in flight when Close is called finish and are stored;
// a Put after Close is refused.
func TestCloseFlushes(t *testing.T) {
	srv := estest.New(t, estest.Options{})
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	s, err := elastic.Open(context.Background(), elastic.Options{
		URLs: []string{srv.URL}, IndexPrefix: "mw", AutoInit: true, FlushInterval: time.Hour, FlushBytes: 1 << 30,
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.HasSuffix(r.URL.Path, "/_bulk") {
				once.Do(func() { close(entered) })
				<-release
			}
			return http.DefaultTransport.RoundTrip(r)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	docs := make([]news.Document, 0, 8)
	for _, d := range indextest.Fixtures() {
		docs = append(docs, d)
	}
	type result struct {
		res index.PutResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.Put(context.Background(), docs...)
		done <- result{res, err}
	}()
	<-entered
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	close(release)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := <-done
	if r.err != nil || r.res.Indexed != len(docs) {
		t.Fatalf("Put during Close = %+v, %v", r.res, r.err)
	}
	if n := srv.DocCount("mw-articles-read"); n != len(docs) {
		t.Errorf("%d documents stored, want %d", n, len(docs))
	}
	if _, err := s.Put(context.Background(), docs[0]); !errors.Is(err, elastic.ErrClosed) {
		t.Errorf("Put after Close: %v, want ErrClosed", err)
	}
}

// TestMonthlyIndicesAndReindex: a new month moves the write alias; a
// re-Put of an old document replaces it where it lives (no duplicate);
// Reindex copies everything into one new index and swaps both aliases.
func TestMonthlyIndicesAndReindex(t *testing.T) {
	srv := estest.New(t, estest.Options{})
	now := time.Date(2025, time.November, 20, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := openFake(t, srv, func(o *elastic.Options) { o.Now = clock })
	other := openFake(t, srv, func(o *elastic.Options) { o.Now = clock })
	ctx := context.Background()
	fx := indextest.Fixtures()
	pl := fx[indextest.KeyPoland]
	if _, err := s.Put(ctx, pl); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.AddDate(0, 1, 0)
	mu.Unlock()
	// A fresh process (other) sees the new month too.
	again := pl
	again.Title = "Sejm votes again"
	again.FirstSeen = pl.FirstSeen.AddDate(0, 1, 0)
	if _, err := other.Put(ctx, again, fx[indextest.KeyFinland]); err != nil {
		t.Fatal(err)
	}
	if got := srv.AliasTargets("mw-articles-write"); !got["mw-articles-2025.12"] || len(got) != 1 {
		t.Errorf("write alias after the month turned: %v", got)
	}
	if n := srv.DocCount("mw-articles-read"); n != 2 {
		t.Errorf("%d documents behind the read alias, want 2 (no duplicate across months)", n)
	}
	got, err := s.Get(ctx, pl.ID)
	if err != nil || got.Title != again.Title || !got.FirstSeen.Equal(pl.FirstSeen) {
		t.Errorf("Get after re-Put = %q first seen %v, %v", got.Title, got.FirstSeen, err)
	}
	if err := s.Reindex(ctx); err != nil {
		t.Fatalf("Reindex: %v", err)
	}
	read := srv.AliasTargets("mw-articles-read")
	write := srv.AliasTargets("mw-articles-write")
	if len(read) != 1 || len(write) != 1 {
		t.Fatalf("after reindex: read %v, write %v", read, write)
	}
	for name := range read {
		if !write[name] {
			t.Errorf("read alias %v and write alias %v differ", read, write)
		}
	}
	h, err := s.Search(ctx, index.Query{})
	if err != nil || h.Total != 2 {
		t.Errorf("after reindex: Total %d, %v", h.Total, err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Articles != 2 || len(st.Indices) != 3 {
		t.Errorf("Stats = %+v", st)
	}
	noViolations(t, srv)
}

func TestSavedSearchesAndState(t *testing.T) {
	srv := estest.New(t, estest.Options{})
	s := openFake(t, srv, nil)
	ctx := context.Background()
	ss := index.SavedSearch{ID: "pl-exit", Name: "Poland exit", Query: index.Query{Text: "wypowiedz*", Countries: []string{"PL"}, Limit: 5, Cursor: "x"},
		Created: time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.SaveSearch(ctx, ss); err != nil {
		t.Fatal(err)
	}
	list, err := s.SavedSearches(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("SavedSearches = %v, %v", list, err)
	}
	if list[0].Query.Limit != 0 || list[0].Query.Cursor != "" || list[0].Query.Text != ss.Query.Text || !list[0].Created.Equal(ss.Created) {
		t.Errorf("saved search came back as %+v", list[0])
	}
	if err := s.DeleteSearch(ctx, "pl-exit"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSearch(ctx, "pl-exit"); !errors.Is(err, index.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	h, err := s.Search(ctx, index.Query{Histogram: true})
	if err != nil || len(h.Histogram) != 0 {
		t.Errorf("empty histogram = %v, %v", h.Histogram, err)
	}
	fx := indextest.Fixtures()
	if _, err := s.Put(ctx, fx[indextest.KeyPoland], fx[indextest.KeyFinland], fx[indextest.KeyEstonia]); err != nil {
		t.Fatal(err)
	}
	h, err = s.Search(ctx, index.Query{Histogram: true, Text: "ottawa OR konwencji"})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Histogram) != 3 {
		t.Fatalf("histogram %+v", h.Histogram)
	}
	for i, d := range h.Histogram {
		if d.Count != 1 || d.Day.Hour() != 0 || len(d.Countries) != 1 || d.Topics[news.TopicTreatyWithdrawal] != 1 {
			t.Errorf("day %d = %+v", i, d)
		}
		if i > 0 && !d.Day.After(h.Histogram[i-1].Day) {
			t.Errorf("histogram not oldest first")
		}
	}
}

// TestWorkersAlertOnce: three workers see the same 50 events (each with an
// alert), then lease concurrently: every alert is enqueued once and sent by
// exactly one worker; none is lost.
func TestWorkersAlertOnce(t *testing.T) {
	srv := estest.New(t, estest.Options{})
	stores := []*elastic.Store{openFake(t, srv, nil), openFake(t, srv, nil), openFake(t, srv, nil)}
	ctx := context.Background()
	now := time.Date(2025, 12, 1, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for w, s := range stores {
		wg.Go(func() {
			for i := range 50 {
				i = (i + 13*w) % 50
				c := fmt.Sprintf("C%02d", i)
				ev := news.Event{Key: news.EventKey(c, news.ActionWithdrawNotify, news.TreatyOttawa), Country: c,
					Action: news.ActionWithdrawNotify, Treaty: news.TreatyOttawa, FirstSeen: now, Articles: 1}
				msg := news.Message{ID: "alert/r/email/" + ev.Key, Kind: news.MessageAlert, RuleID: "r", Channel: "email",
					Event: ev, State: news.MessagePending, Created: now}
				ok, err := s.RecordEventAndEnqueue(ctx, ev, []news.Message{msg})
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					created++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if created != 50 {
		t.Fatalf("%d events created, want 50", created)
	}
	sent := map[string]int{}
	for _, s := range stores {
		wg.Go(func() {
			for {
				msgs, err := s.Lease(ctx, now, time.Hour, 4)
				if err != nil {
					t.Error(err)
					return
				}
				if len(msgs) == 0 {
					return
				}
				mu.Lock()
				for _, m := range msgs {
					sent[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(sent) != 50 {
		t.Errorf("%d alerts leased, want 50", len(sent))
	}
	for id, n := range sent {
		if n != 1 {
			t.Errorf("%s leased %d times", id, n)
		}
	}
	noViolations(t, srv)
}

// TestOutboxRecovery: the process dies (here: the outbox refuses writes)
// after the event is created but before its messages reach the outbox; the
// next Lease, by another worker, finds them on the event.
func TestOutboxRecovery(t *testing.T) {
	srv := estest.New(t, estest.Options{})
	var mu sync.Mutex
	refuse := true
	broken := openFake(t, srv, func(o *elastic.Options) {
		o.MaxRetries = 1
		o.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			fail := refuse && strings.Contains(r.URL.Path, "/mw-outbox/_create/")
			mu.Unlock()
			if fail {
				return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"X-Elastic-Product": {"Elasticsearch"}},
					Body: http.NoBody, Request: r}, nil
			}
			return http.DefaultTransport.RoundTrip(r)
		})
	})
	healthy := openFake(t, srv, nil)
	ctx := context.Background()
	now := time.Date(2025, 12, 1, 12, 0, 0, 0, time.UTC)
	ev := news.Event{Key: "LV/withdraw_notify/ottawa", Country: "LV", Action: news.ActionWithdrawNotify, Treaty: news.TreatyOttawa, FirstSeen: now, Articles: 1}
	msg := news.Message{ID: "alert/r/email/" + ev.Key, Kind: news.MessageAlert, RuleID: "r", Channel: "email", Event: ev, State: news.MessagePending, Created: now}
	if c, err := broken.RecordEventAndEnqueue(ctx, ev, []news.Message{msg}); err != nil || !c {
		t.Fatalf("RecordEventAndEnqueue = %v, %v", c, err)
	}
	if got, err := healthy.Messages(ctx, index.MessageFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("before recovery: %d messages, %v", len(got), err)
	}
	got, err := healthy.Lease(ctx, now, time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != msg.ID || got[0].Event.Key != ev.Key {
		t.Fatalf("Lease after the crash = %+v, %v; want the alert", got, err)
	}
	// Recovery is done once: a second lease finds nothing new.
	if got, err := healthy.Lease(ctx, now, time.Minute, 10); err != nil || len(got) != 0 {
		t.Errorf("second Lease = %v, %v", got, err)
	}
}

// TestRequestsPerThousand: indexing 1,000 new articles costs one existence
// lookup and at most one bulk request per bulk worker.
func TestRequestsPerThousand(t *testing.T) {
	srv := estest.New(t, estest.Options{NoBodies: true})
	s := openFake(t, srv, func(o *elastic.Options) { o.Workers = 2 })
	docs := benchDocs(1000)
	srv.ResetRequests()
	res, err := s.Put(context.Background(), docs...)
	if err != nil || res.Indexed != len(docs) {
		t.Fatalf("Put = %+v, %v", res, err)
	}
	var lookups, bulks int
	for _, r := range srv.Requests() {
		switch {
		case strings.HasSuffix(r.Path, "/_search"):
			lookups++
		case strings.HasSuffix(r.Path, "/_bulk"):
			bulks++
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.Path)
		}
	}
	if lookups != 1 || bulks < 1 || bulks > 2 {
		t.Errorf("%d lookups and %d bulk requests for 1,000 articles; want 1 and 1–2", lookups, bulks)
	}
	if n := srv.DocCount("mw-articles-read"); n != len(docs) {
		t.Errorf("%d documents stored", n)
	}
}

func TestPing(t *testing.T) {
	srv := estest.New(t, estest.Options{})
	s := openFake(t, srv, func(o *elastic.Options) { o.AutoInit = false })
	if err := s.Ping(context.Background()); !errors.Is(err, elastic.ErrNotInitialized) {
		t.Errorf("Ping before Init = %v, want ErrNotInitialized", err)
	}
	if _, err := s.Put(context.Background(), indextest.Fixtures()[indextest.KeyPoland]); !errors.Is(err, elastic.ErrNotInitialized) {
		t.Errorf("Put before Init = %v, want ErrNotInitialized", err)
	}
	if err := s.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping after Init = %v", err)
	}
	srv.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping with the server down succeeded")
	}
}

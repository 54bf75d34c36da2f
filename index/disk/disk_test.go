package disk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/news"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/indextest"
)

// openTemp opens a store in a fresh directory, closed when the test ends.
// openDir opens a Store on dir, closed when the test ends; tests open
// several on one directory, as several processes would.
func openDir(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Dir: t.TempDir()})
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

func TestContract(t *testing.T) {
	indextest.Run(t, func(t *testing.T) index.Store { return openTemp(t) })
}

func TestReopenPersists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	fx := indextest.Fixtures()
	d := fx[indextest.KeyLithuania]
	if _, err := s.Put(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSourceState(ctx, news.SourceState{SourceID: "lrt", ItemsSeen: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordEvent(ctx, news.Event{Country: "LT", Action: news.ActionWithdrawEffective, Treaty: news.TreatyCCM}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSearch(ctx, index.SavedSearch{ID: "lt", Name: "Lithuania", Query: index.Query{Countries: []string{"LT"}}}); err != nil {
		t.Fatal(err)
	}
	for i, st := range []news.MessageState{news.MessagePending, news.MessagePending, news.MessageDelivered, news.MessageExpired} {
		if _, err := s.Enqueue(ctx, news.Message{ID: fmt.Sprint("m", i), Kind: news.MessageDigest, State: st}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if _, err := s.Get(ctx, d.ID); err != nil {
		t.Errorf("Get after reopen: %v", err)
	}
	if h, err := s.Search(ctx, index.Query{Text: "lietuva"}); err != nil || h.Total != 1 {
		t.Errorf("Search after reopen: %d hits, %v", h.Total, err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Documents: 1, Relevant: 1, Events: 1, Sources: 1, SavedSearches: 1,
		OutboxPending: 2, OutboxDelivered: 1, OutboxExpired: 1,
		ByTopic: map[string]int{news.TopicTreatyWithdrawal: 1, news.TopicClusterMunitions: 1}}
	if st.SizeBytes <= 0 {
		t.Errorf("SizeBytes = %d", st.SizeBytes)
	}
	st.SizeBytes = 0
	if !reflect.DeepEqual(st, want) {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
	created, err := s.RecordEvent(ctx, news.Event{Country: "LT", Action: news.ActionWithdrawEffective, Treaty: news.TreatyCCM})
	if err != nil || created {
		t.Errorf("RecordEvent after reopen = %v, %v; want not created", created, err)
	}
}

func TestSchemaVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.reader.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion {
		t.Errorf("user_version = %d, want %d", v, SchemaVersion)
	}
	var mode string
	if err := s.reader.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	// A file from a newer program is refused, not silently misread.
	if _, err := s.writer.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(ctx, Options{Dir: dir}); !errors.Is(err, ErrSchemaTooNew) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open newer schema: err = %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(context.Background(), Options{}); err == nil {
		t.Error("Open without Dir succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), Options{Dir: file}); err == nil {
		t.Error("Open with a file as Dir succeeded")
	}
}

func TestEventArticlesCounted(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	ev := news.Event{Country: "PL", Action: news.ActionWithdrawNotify, Treaty: news.TreatyOttawa, FirstArticleID: "first"}
	for i := range 5 {
		e := ev
		e.FirstArticleID = fmt.Sprint("article-", i)
		created, err := s.RecordEvent(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if created != (i == 0) {
			t.Fatalf("call %d: created = %v", i, created)
		}
	}
	evs, err := s.Events(ctx, index.EventFilter{})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Events = %v, %v", evs, err)
	}
	got := evs[0]
	if got.Articles != 5 || got.FirstArticleID != "article-0" || got.Key != "PL/withdraw_notify/ottawa" || got.FirstSeen.IsZero() {
		t.Errorf("event = %+v; want 5 articles, the first article kept, a key and a first-seen time", got)
	}
}

func TestPutRejects(t *testing.T) {
	s := openTemp(t)
	good := indextest.Fixtures()[indextest.KeyNorway]
	nan := indextest.Fixtures()[indextest.KeyEstonia]
	nan.Classification.Score = math.NaN() // JSON cannot hold it: rejected for good
	res, err := s.Put(context.Background(), good, nan, news.Document{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Indexed != 1 || len(res.Failed) != 2 || res.Failed[nan.ID] == nil || !errors.Is(res.Failed[""], ErrMissingID) {
		t.Errorf("Put = %+v", res)
	}
	if _, err := s.Get(context.Background(), good.ID); err != nil {
		t.Errorf("good document not stored: %v", err)
	}
	odd := indextest.Fixtures()[indextest.KeyPoland]
	odd.Classification.Topics[0].Topic = "production\x1fwithdrawal"
	if res, err := s.Put(context.Background(), odd); err != nil || !errors.Is(res.Failed[odd.ID], ErrBadIdentifier) {
		t.Errorf("Put with a separator in a topic = %+v, %v; want ErrBadIdentifier", res, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, good); err == nil {
		t.Error("Put with a cancelled context succeeded")
	}
	if _, err := s.Search(ctx, index.Query{}); err == nil {
		t.Error("Search with a cancelled context succeeded")
	}
}

func TestSyntaxErrorKept(t *testing.T) {
	s := openTemp(t)
	_, err := s.Search(context.Background(), index.Query{Text: "mine AND\n  (ban"})
	var se *query.SyntaxError
	if !errors.Is(err, index.ErrBadQuery) || !errors.As(err, &se) {
		t.Fatalf("err = %v, want ErrBadQuery and a *query.SyntaxError", err)
	}
	if se.Line != 2 {
		t.Errorf("error at line %d, want 2", se.Line)
	}
}

// TestOpenConcurrently opens one new file from several stores at once, as
// two minewatch commands starting together would: exactly one migrates.
func TestOpenConcurrently(t *testing.T) {
	dir := t.TempDir()
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), Options{Dir: dir}) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	d := indextest.Fixtures()[indextest.KeyUkraine]
	if _, err := stores[0].Put(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[n-1].Get(context.Background(), d.ID); err != nil {
		t.Errorf("another store does not see the write: %v", err)
	}
}

// TestHistogramDayEdges checks the UTC day arithmetic around the epoch,
// where integer division would put 1969's last hour on 1970-01-01.
func TestHistogramDayEdges(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	mk := func(id string, published time.Time) news.Document {
		return news.Document{Article: news.Article{ID: id, Title: "t", Published: published}}
	}
	epoch := time.Unix(0, 0).UTC()
	docs := []news.Document{
		mk("before", epoch.Add(-time.Hour)),
		mk("at", epoch),
		mk("late", time.Date(2025, 11, 30, 23, 59, 59, 999999999, time.UTC)),
		mk("next", time.Date(2025, 12, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600))), // 2025-11-30 in UTC
	}
	if _, err := s.Put(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	h, err := s.Search(ctx, index.Query{Histogram: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []index.DayCount{
		{Day: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), Count: 1},
		{Day: epoch, Count: 1},
		{Day: time.Date(2025, 11, 30, 0, 0, 0, 0, time.UTC), Count: 2},
	}
	if !reflect.DeepEqual(h.Histogram, want) {
		t.Errorf("histogram = %+v, want %+v", h.Histogram, want)
	}
}

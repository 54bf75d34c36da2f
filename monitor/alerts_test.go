package monitor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/news"
)

// outboxStore adds the outbox to memStore: messages enqueued with new events.
type outboxStore struct {
	*memStore
	msgs []news.Message
}

func (s *outboxStore) RecordEventAndEnqueue(ctx context.Context, ev news.Event, msgs []news.Message) (bool, error) {
	created, err := s.RecordEvent(ctx, ev)
	if created {
		s.mu.Lock()
		s.msgs = append(s.msgs, msgs...)
		s.mu.Unlock()
	}
	return created, err
}

func (s *outboxStore) Enqueue(context.Context, news.Message) (bool, error) { return true, nil }
func (s *outboxStore) Lease(context.Context, time.Time, time.Duration, int) ([]news.Message, error) {
	return nil, nil
}
func (s *outboxStore) Update(context.Context, news.Message) error { return nil }
func (s *outboxStore) Messages(context.Context, index.MessageFilter) ([]news.Message, error) {
	return s.msgs, nil
}

// alertOnWithdrawal wants one message per event, naming the article that
// revealed it.
type alertOnWithdrawal struct{}

func (alertOnWithdrawal) MessagesFor(ev news.Event, d news.Document) []news.Message {
	return []news.Message{{ID: "alert/r/email/" + ev.Key, Kind: news.MessageAlert, RuleID: "r", Event: ev,
		State: news.MessagePending, LastError: d.ID}}
}

// Two outlets report the same withdrawal: one alert, enqueued with the event.
func TestAlertsEnqueuedOncePerEvent(t *testing.T) {
	st := &outboxStore{memStore: newMemStore()}
	c := &fakeCollector{results: map[string]ingest.Result{"a": {Items: 2, Articles: []news.Article{
		article("1", "Lithuania deposits withdraw instrument"),
		article("2", "Reuters: Lithuania withdraw notification"),
	}}}}
	mon, err := New(Options{Sources: sources("a"), Collector: c, Classifier: keywordClassifier{}, Store: st,
		Alerts: alertOnWithdrawal{}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a second cycle re-reports the event; still one alert
		if _, err := mon.RunOnce(t.Context(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(st.msgs) != 1 || st.msgs[0].Event.Key != "LT/withdraw_notify/ottawa" {
		t.Fatalf("outbox = %+v, want one alert for LT/withdraw_notify/ottawa", st.msgs)
	}
}

func TestAlertsNeedAnOutbox(t *testing.T) {
	_, err := New(Options{Sources: sources("a"), Collector: &fakeCollector{}, Classifier: keywordClassifier{},
		Store: newMemStore(), Alerts: alertOnWithdrawal{}})
	if err == nil {
		t.Error("New accepted alerts with a store that has no outbox")
	}
}

// pushCollector is a fakeCollector that also takes pushes and advertises a hub.
type pushCollector struct {
	fakeCollector
	pushed []string
}

func (p *pushCollector) CollectPushed(_ context.Context, src news.Source, body []byte, _ string, _ index.URLChecker) (ingest.Result, error) {
	p.pushed = append(p.pushed, src.ID)
	return ingest.Result{Items: 1, Articles: []news.Article{article("p1", string(body))}}, nil
}

func TestPushAndHub(t *testing.T) {
	st := newMemStore()
	c := &pushCollector{fakeCollector: fakeCollector{results: map[string]ingest.Result{
		"a": {Items: 1, Hub: "https://hub.example.org/", Topic: "https://example.org/a.xml"},
	}}}
	var hubs []string
	mon, err := New(Options{Sources: sources("a", "b"), Shard: Shard{Index: 1, Count: 1}, Collector: c,
		Classifier: keywordClassifier{}, Store: st,
		OnHub: func(_ context.Context, src news.Source, hub, topic string) {
			hubs = append(hubs, src.ID+" "+hub+" "+topic)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mon.RunOnce(t.Context(), []string{"a"}, nil); err != nil {
		t.Fatal(err)
	}
	if len(hubs) != 1 || hubs[0] != "a https://hub.example.org/ https://example.org/a.xml" {
		t.Errorf("OnHub calls = %q", hubs)
	}
	out, err := mon.Push(t.Context(), "b", []byte("Lithuania withdraw notice"), "application/rss+xml")
	if err != nil || out.Indexed != 1 || len(out.NewEvents) != 1 {
		t.Fatalf("push: %+v, %v; want one article indexed with its new event", out, err)
	}
	if _, ok := st.states["b"]; ok {
		t.Error("a push changed the source's polling state")
	}
	if _, err := mon.Push(t.Context(), "zz", nil, ""); !errors.Is(err, ErrUnknownSource) {
		t.Errorf("push for an unknown source: %v", err)
	}
}

// A store without PutAndRecord gets the events first: when the article write
// then fails (or the process dies), the event and its alert are kept, and
// the next cycle, which brings the articles again, finds the event known and
// enqueues nothing more.
func TestTwoStepWriteKeepsEventsWhenPutFails(t *testing.T) {
	st := &outboxStore{memStore: newMemStore()}
	st.putErr = errors.New("cluster unavailable")
	c := &fakeCollector{results: map[string]ingest.Result{"a": {Items: 1, Articles: []news.Article{
		article("1", "Lithuania deposits withdraw instrument"),
	}}}}
	mon, err := New(Options{Sources: sources("a"), Collector: c, Classifier: keywordClassifier{}, Store: st,
		Alerts: alertOnWithdrawal{}})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := mon.RunOnce(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].ErrClass != "index" || len(st.docs) != 0 {
		t.Fatalf("first cycle: %+v, %d docs stored; want an index failure and none", outs[0], len(st.docs))
	}
	if _, ok := st.events["LT/withdraw_notify/ottawa"]; !ok || len(st.msgs) != 1 {
		t.Fatalf("after the failed write: events %v, outbox %v; want the event and its alert", st.events, st.msgs)
	}
	if len(outs[0].NewEvents) != 1 {
		t.Errorf("first cycle reported %d new events, want 1", len(outs[0].NewEvents))
	}

	st.mu.Lock()
	st.putErr = nil
	st.mu.Unlock()
	outs, err = mon.RunOnce(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].Err != nil || len(st.docs) != 1 || len(outs[0].NewEvents) != 0 {
		t.Errorf("second cycle: %+v, %d docs; want the article stored and no new event", outs[0], len(st.docs))
	}
	if len(st.msgs) != 1 {
		t.Errorf("outbox after the retry = %v, want still one alert", st.msgs)
	}
}

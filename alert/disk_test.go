package alert_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/alert"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/news"
)

// TestTwoDispatchersOneDiskStore runs two workers, each with its own
// connection to one index/disk file as two processes would have: both record
// every event (only one creates it and its alerts) and both dispatch at once.
// Every alert reaches the receiver exactly once.
func TestTwoDispatchersOneDiskStore(t *testing.T) {
	log := &webhookLog{}
	secret := []byte("two-workers")
	rcv := httptest.NewServer(log.handler(secret))
	defer rcv.Close()
	dir := t.TempDir()
	rules := []alert.Rule{
		{ID: "all", Channels: []alert.Channel{
			{ID: "webhook", Kind: alert.KindWebhook, URL: rcv.URL, Secret: secret},
			{ID: "webhook-2", Kind: alert.KindWebhook, URL: rcv.URL + "/second", Secret: secret},
		}},
		{ID: "ccm", Treaties: []news.Treaty{news.TreatyCCM}, Channels: []alert.Channel{
			{ID: "webhook", Kind: alert.KindWebhook, URL: rcv.URL, Secret: secret},
		}},
	}
	var keys []string
	for _, ks := range crashKeys(8, 8) {
		keys = append(keys, ks...)
	}

	type worker struct {
		st   *disk.Store
		eng  *alert.Engine
		disp *alert.Dispatcher
	}
	workers := make([]worker, 2)
	for i := range workers {
		st, err := disk.Open(t.Context(), disk.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		eng, err := alert.NewEngine(alert.EngineOptions{Rules: rules, Events: st})
		if err != nil {
			t.Fatal(err)
		}
		// Small batches and one delivery at a time make the two workers
		// take turns at the queue instead of one leasing everything.
		d, err := alert.NewDispatcher(alert.DispatcherOptions{Queue: st, Docs: st, Rules: rules, Batch: 3, Parallel: 1})
		if err != nil {
			t.Fatal(err)
		}
		workers[i] = worker{st, eng, d}
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		created  = map[string]int{}
		leased   = make([]int, len(workers))
		failures []error
	)
	fail := func(err error) {
		mu.Lock()
		failures = append(failures, err)
		mu.Unlock()
	}
	for i, w := range workers {
		wg.Go(func() {
			ctx := context.Background()
			for _, k := range keys {
				ev, err := parseKey(k)
				if err != nil {
					fail(err)
					return
				}
				ev.FirstSeen = time.Now().UTC()
				ok, err := w.st.RecordEventAndEnqueue(ctx, ev, w.eng.MessagesForContext(ctx, ev, news.Document{}))
				if err != nil {
					fail(err)
					return
				}
				if ok {
					mu.Lock()
					created[k]++
					mu.Unlock()
				}
				if _, err := w.disp.RunOnce(ctx); err != nil {
					fail(err)
					return
				}
			}
			for {
				n, err := w.disp.RunOnce(ctx)
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				leased[i] += n
				mu.Unlock()
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range failures {
		t.Error(err)
	}

	var want []string
	for _, k := range keys {
		if created[k] != 1 {
			t.Errorf("event %s created %d times, want once", k, created[k])
		}
		want = append(want, alert.MessageID("all", "webhook", k), alert.MessageID("all", "webhook-2", k))
		if ev, _ := parseKey(k); ev.Treaty == news.TreatyCCM {
			want = append(want, alert.MessageID("ccm", "webhook", k))
		}
	}
	got, raw, bad := log.counts()
	for _, b := range bad {
		t.Errorf("receiver: %s", b)
	}
	for _, id := range want {
		if got[id] != 1 {
			t.Errorf("%s delivered %d times, want once", id, got[id])
		}
	}
	if raw != len(want) || len(got) != len(want) {
		t.Errorf("%d deliveries of %d ids, want %d of %d", raw, len(got), len(want), len(want))
	}
	msgs, err := workers[0].st.Messages(t.Context(), index.MessageFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(want) {
		t.Errorf("outbox holds %d messages, want %d", len(msgs), len(want))
	}
	for _, m := range msgs {
		if m.State != news.MessageDelivered || m.Attempts != 1 {
			t.Errorf("%s: state %s after %d attempts, want delivered at the first", m.ID, m.State, m.Attempts)
		}
	}
	t.Logf("%d alerts; the workers' final drains leased %v", len(want), leased)
}

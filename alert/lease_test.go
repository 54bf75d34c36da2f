package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// renewingOutbox is memOutbox with index.LeaseRenewer's contract. Each
// renewal is reported on renewed; lose makes every renewal find the lease
// taken over. Updates are counted, to prove a worker that lost its lease
// leaves the message alone.
type renewingOutbox struct {
	*memOutbox
	lose    bool
	renewed chan news.Message
	updated chan news.Message // every Update, once stored

	mu      sync.Mutex
	updates int
}

var _ index.LeaseRenewer = (*renewingOutbox)(nil)

func newRenewingOutbox() *renewingOutbox {
	return &renewingOutbox{memOutbox: newMemOutbox(), renewed: make(chan news.Message, 1000), updated: make(chan news.Message, 1000)}
}

func (o *renewingOutbox) Renew(_ context.Context, m news.Message, now time.Time, lease time.Duration) (news.Message, error) {
	if o.lose {
		return m, fmt.Errorf("renew %s: %w", m.ID, index.ErrLeaseLost)
	}
	o.memOutbox.mu.Lock()
	cur, ok := o.msgs[m.ID]
	if !ok {
		o.memOutbox.mu.Unlock()
		return m, index.ErrNotFound
	}
	if cur.State != news.MessagePending || cur.Attempts != m.Attempts || !cur.NextAttempt.Equal(m.NextAttempt) {
		o.memOutbox.mu.Unlock()
		return m, fmt.Errorf("renew %s: %w", m.ID, index.ErrLeaseLost)
	}
	cur.NextAttempt = now.Add(lease)
	o.msgs[m.ID] = cur
	o.memOutbox.mu.Unlock()
	select {
	case o.renewed <- cur:
	default:
	}
	return cur, nil
}

func (o *renewingOutbox) Update(ctx context.Context, m news.Message) error {
	o.mu.Lock()
	o.updates++
	o.mu.Unlock()
	err := o.memOutbox.Update(ctx, m)
	select {
	case o.updated <- m:
	default:
	}
	return err
}

func (o *renewingOutbox) updateCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.updates
}

// holdingReceiver is a webhook that reports each request's delivery id on
// arrived and answers 200 once hold returns true, or gives up when the
// sender cancels the request (cancelled then gets the id).
type holdingReceiver struct {
	srv       *httptest.Server
	arrived   chan string
	cancelled chan string
}

func newHoldingReceiver(t *testing.T, hold func(r *http.Request) bool) *holdingReceiver {
	h := &holdingReceiver{arrived: make(chan string, 100), cancelled: make(chan string, 100)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Minewatch-Delivery")
		// Reading the body to its end lets the server notice the sender
		// hanging up, which cancels r.Context().
		_, _ = io.Copy(io.Discard, r.Body)
		h.arrived <- id
		if !hold(r) {
			h.cancelled <- id
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// untilCancelled holds a request until the sender gives it up.
func untilCancelled(r *http.Request) bool {
	<-r.Context().Done()
	return false
}

func webhookRule(url string) []Rule {
	return []Rule{{ID: "r", Channels: []Channel{{ID: "webhook", Kind: KindWebhook, URL: url}}}}
}

func recordEvents(t *testing.T, e *Engine, ob index.Outbox, countries ...string) []news.Message {
	t.Helper()
	var out []news.Message
	for _, c := range countries {
		ev := event(c, news.ActionWithdrawNotify, news.TreatyOttawa)
		msgs := e.MessagesFor(ev, doc("withdrawal", "text"))
		if _, err := ob.RecordEventAndEnqueue(t.Context(), ev, msgs); err != nil {
			t.Fatal(err)
		}
		out = append(out, msgs...)
	}
	return out
}

func newTestDispatcher(t *testing.T, rules []Rule, o DispatcherOptions) (*Engine, *Dispatcher) {
	t.Helper()
	e, err := NewEngine(EngineOptions{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	o.Rules = rules
	if o.Docs == nil {
		o.Docs = docs{}
	}
	d, err := NewDispatcher(o)
	if err != nil {
		t.Fatal(err)
	}
	return e, d
}

// While Parallel deliveries hang, only those messages are leased: the
// others stay free for any worker, and would not be stuck behind a lease
// if this process died now.
func TestLeaseOnlyWhatIsBeingSent(t *testing.T) {
	release := make(chan struct{})
	rcv := newHoldingReceiver(t, func(r *http.Request) bool {
		select {
		case <-release:
			return true
		case <-r.Context().Done():
			return false
		}
	})
	store := newMemOutbox()
	e, d := newTestDispatcher(t, webhookRule(rcv.srv.URL), DispatcherOptions{Queue: store, Parallel: 2})
	msgs := recordEvents(t, e, store, "LT", "LV", "EE", "FI", "PL")

	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := d.RunOnce(t.Context())
		done <- result{n, err}
	}()
	<-rcv.arrived
	<-rcv.arrived
	leased := 0
	for _, m := range msgs {
		if store.get(m.ID).Attempts > 0 {
			leased++
		}
	}
	if leased != 2 {
		t.Errorf("%d messages leased while 2 deliveries run, want 2", leased)
	}
	close(release)
	res := <-done
	if res.err != nil || res.n != len(msgs) {
		t.Fatalf("RunOnce = %d, %v; want %d", res.n, res.err, len(msgs))
	}
	for _, m := range msgs {
		if got := store.get(m.ID); got.State != news.MessageDelivered || got.Attempts != 1 {
			t.Errorf("%s: state %s after %d attempts, want delivered after 1", m.ID, got.State, got.Attempts)
		}
	}
}

// RunOnce handles at most Batch messages, so Run can look at its kick and
// its shutdown between rounds.
func TestRunOnceStopsAtBatch(t *testing.T) {
	rcv := newReceiver(t, "")
	store := newMemOutbox()
	e, d := newTestDispatcher(t, webhookRule(rcv.srv.URL), DispatcherOptions{Queue: store, Parallel: 3, Batch: 4})
	msgs := recordEvents(t, e, store, "LT", "LV", "EE", "FI", "PL", "UA", "LU")
	for _, want := range []int{4, 3, 0} {
		n, err := d.RunOnce(t.Context())
		if err != nil || n != want {
			t.Fatalf("RunOnce = %d, %v; want %d", n, err, want)
		}
	}
	if len(rcv.got) != len(msgs) {
		t.Errorf("%d deliveries, want %d", len(rcv.got), len(msgs))
	}
}

// A delivery that outlasts its lease keeps it by renewing: a second worker
// looking once the first lease has run out finds nothing to take, and the
// message is delivered once, in one attempt.
func TestLeaseRenewedWhileDelivering(t *testing.T) {
	const lease = 2 * time.Second
	store := newRenewingOutbox()
	var otherWorker []news.Message
	var otherErr error
	rcv := newHoldingReceiver(t, func(r *http.Request) bool {
		for range 3 { // three renewals: the first lease has run out by now
			select {
			case <-store.renewed:
			case <-r.Context().Done():
				return false
			}
		}
		otherWorker, otherErr = store.Lease(r.Context(), time.Now(), time.Minute, 10)
		return true
	})
	e, d := newTestDispatcher(t, webhookRule(rcv.srv.URL), DispatcherOptions{Queue: store, Lease: lease, Now: time.Now})
	msgs := recordEvents(t, e, store, "LT")
	n, err := d.RunOnce(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	if len(rcv.cancelled) > 0 {
		t.Fatal("the delivery was cancelled although its lease was renewed")
	}
	if otherErr != nil || len(otherWorker) != 0 {
		t.Errorf("another worker leased %v (%v) during a renewed lease", ids(otherWorker), otherErr)
	}
	got := store.get(msgs[0].ID)
	if got.State != news.MessageDelivered || got.Attempts != 1 {
		t.Errorf("state %s after %d attempts, want delivered after 1", got.State, got.Attempts)
	}
}

func ids(msgs []news.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.ID)
	}
	return out
}

// When the lease cannot be kept, the attempt is cancelled before it runs
// out and the outcome is not stored: another worker may hold the message,
// and if none does, it comes back when the lease ends.
func TestAttemptStopsWhenLeaseCannotBeKept(t *testing.T) {
	tests := []struct {
		name  string
		queue func() index.Outbox
		lease time.Duration
	}{
		// The store says another worker took the message over.
		{"renewal finds the lease lost", func() index.Outbox { q := newRenewingOutbox(); q.lose = true; return q }, 900 * time.Millisecond},
		// An outbox that cannot renew: the attempt ends with the lease.
		{"fixed lease runs out", func() index.Outbox { return newMemOutbox() }, 600 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newHoldingReceiver(t, untilCancelled)
			q := tc.queue()
			e, d := newTestDispatcher(t, webhookRule(rcv.srv.URL), DispatcherOptions{Queue: q, Lease: tc.lease, Now: time.Now})
			msgs := recordEvents(t, e, q, "LV")
			n, err := d.RunOnce(t.Context())
			if err != nil || n != 1 {
				t.Fatalf("RunOnce = %d, %v", n, err)
			}
			if id := <-rcv.cancelled; id != msgs[0].ID {
				t.Errorf("cancelled %q, want %q", id, msgs[0].ID)
			}
			all, err := q.Messages(t.Context(), index.MessageFilter{})
			if err != nil || len(all) != 1 {
				t.Fatalf("Messages = %v, %v", all, err)
			}
			got := all[0]
			if got.State != news.MessagePending || got.Attempts != 1 || got.LastError != "" {
				t.Errorf("message after a lost lease = state %s, attempts %d, error %q; want untouched since the lease",
					got.State, got.Attempts, got.LastError)
			}
			if rq, ok := q.(*renewingOutbox); ok && rq.updateCount() != 0 {
				t.Errorf("%d outbox updates after the lease was lost, want 0", rq.updateCount())
			}
			// Nobody else held it: it is due again once the lease is over.
			again, err := q.Lease(t.Context(), time.Now().Add(tc.lease), time.Minute, 10)
			if err != nil || len(again) != 1 || again[0].Attempts != 2 {
				t.Errorf("Lease after the lease = %+v, %v; want the message at attempt 2", again, err)
			}
		})
	}
}

// A crashed process's message comes back when its lease runs out, and Run
// sends it then, not at the next tick (an hour here).
func TestRunWakesWhenALeaseRunsOut(t *testing.T) {
	rcv := newReceiver(t, "")
	store := newRenewingOutbox()
	e, d := newTestDispatcher(t, webhookRule(rcv.srv.URL), DispatcherOptions{Queue: store, Tick: time.Hour, Now: time.Now})
	msgs := recordEvents(t, e, store, "EE")
	// The process that died held it for a little longer.
	if got, err := store.Lease(t.Context(), time.Now(), 1500*time.Millisecond, 1); err != nil || len(got) != 1 {
		t.Fatalf("Lease = %v, %v", got, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	if id := <-rcv.got; id != msgs[0].ID {
		t.Errorf("delivered %q, want %q", id, msgs[0].ID)
	}
	<-store.updated // the outcome is stored before Run is stopped
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := store.get(msgs[0].ID); got.State != news.MessageDelivered || got.Attempts != 2 {
		t.Errorf("state %s after %d attempts, want delivered at the second", got.State, got.Attempts)
	}
}

func TestNextWake(t *testing.T) {
	const tick = 15 * time.Second
	tests := []struct {
		name    string
		pending []time.Duration // NextAttempt of each pending message, from now
		want    time.Duration
	}{
		{"nothing pending", nil, tick},
		{"a lease running out soon", []time.Duration{20 * time.Second, 4 * time.Second}, 4 * time.Second},
		{"everything after the tick", []time.Duration{time.Minute}, tick},
		{"due now but held elsewhere", []time.Duration{-time.Second}, minWake},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newMemOutbox()
			clk := &clock{now: t0}
			d, err := NewDispatcher(DispatcherOptions{Queue: store, Tick: tick, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			for i, at := range tc.pending {
				m := news.Message{ID: fmt.Sprintf("m%d", i), Kind: news.MessageAlert, NextAttempt: t0.Add(at)}
				if _, err := store.Enqueue(t.Context(), m); err != nil {
					t.Fatal(err)
				}
			}
			delivered := news.Message{ID: "done", State: news.MessageDelivered, NextAttempt: t0.Add(time.Millisecond)}
			if _, err := store.Enqueue(t.Context(), delivered); err != nil {
				t.Fatal(err)
			}
			if got := d.nextWake(t.Context()); got != tc.want {
				t.Errorf("nextWake = %v, want %v", got, tc.want)
			}
		})
	}
}

// A failing renewal that is not a lost lease (a busy store) is retried, and
// the attempt goes on while the lease holds.
func TestRenewalErrorsAreRetried(t *testing.T) {
	store := &flakyRenewer{renewingOutbox: newRenewingOutbox(), failFirst: 2}
	rcv := newHoldingReceiver(t, func(r *http.Request) bool {
		select {
		case <-store.renewed: // a renewal got through after the failures
			return true
		case <-r.Context().Done():
			return false
		}
	})
	e, d := newTestDispatcher(t, webhookRule(rcv.srv.URL), DispatcherOptions{Queue: store, Lease: 3 * time.Second, Now: time.Now})
	msgs := recordEvents(t, e, store, "PL")
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := store.get(msgs[0].ID); got.State != news.MessageDelivered {
		t.Errorf("state %s, want delivered", got.State)
	}
	if store.failures() != 2 {
		t.Errorf("%d failed renewals, want 2", store.failures())
	}
}

var errBusy = errors.New("database is locked")

type flakyRenewer struct {
	*renewingOutbox
	fmu       sync.Mutex
	failFirst int
	failed    int
}

func (f *flakyRenewer) Renew(ctx context.Context, m news.Message, now time.Time, lease time.Duration) (news.Message, error) {
	f.fmu.Lock()
	if f.failed < f.failFirst {
		f.failed++
		f.fmu.Unlock()
		return m, errBusy
	}
	f.fmu.Unlock()
	return f.renewingOutbox.Renew(ctx, m, now, lease)
}

func (f *flakyRenewer) failures() int {
	f.fmu.Lock()
	defer f.fmu.Unlock()
	return f.failed
}

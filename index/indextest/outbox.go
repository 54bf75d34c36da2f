package indextest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

func outboxOf(t *testing.T, s index.Store) index.Outbox {
	t.Helper()
	ob, ok := s.(index.Outbox)
	if !ok {
		t.Skip("store does not implement index.Outbox")
	}
	return ob
}

// withdrawal is the event the outbox tests alert on.
func withdrawal() news.Event {
	return news.Event{
		Key: news.EventKey("LV", news.ActionWithdrawNotify, news.TreatyOttawa), Country: "LV",
		Action: news.ActionWithdrawNotify, Treaty: news.TreatyOttawa, FirstSeen: base,
		FirstArticleID: "lv-1", FirstSourceID: "lsm", Articles: 1,
		Evidence:      "Latvia notified the UN Secretary-General of its withdrawal from the Ottawa Convention.",
		EffectiveDate: base.AddDate(0, 6, 0),
	}
}

func alert(ev news.Event, rule, channel string, created time.Time) news.Message {
	return news.Message{ID: "alert/" + rule + "/" + channel + "/" + ev.Key, Kind: news.MessageAlert, RuleID: rule,
		Channel: channel, Event: ev, State: news.MessagePending, Created: created}
}

func digest(subscriber, period string, created time.Time) news.Message {
	return news.Message{ID: "digest/" + subscriber + "/" + period, Kind: news.MessageDigest, Channel: "email",
		Subscriber: subscriber, Period: period, State: news.MessagePending, Created: created}
}

// messages lists every message and fails the test on error.
func messages(t *testing.T, ob index.Outbox, f index.MessageFilter) []news.Message {
	t.Helper()
	got, err := ob.Messages(context.Background(), f)
	if err != nil {
		t.Fatalf("Messages(%+v): %v", f, err)
	}
	return got
}

func ids(msgs []news.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.ID)
	}
	return out
}

// sameMessage compares messages, times by instant and the rest exactly.
func sameMessage(a, b news.Message) error {
	for _, p := range [][2]time.Time{{a.NextAttempt, b.NextAttempt}, {a.Created, b.Created}, {a.Delivered, b.Delivered},
		{a.Event.FirstSeen, b.Event.FirstSeen}, {a.Event.EffectiveDate, b.Event.EffectiveDate}} {
		if !p[0].Equal(p[1]) {
			return fmt.Errorf("%s: time %v, want %v", b.ID, p[0], p[1])
		}
	}
	for _, m := range []*news.Message{&a, &b} {
		m.NextAttempt, m.Created, m.Delivered, m.Event.FirstSeen, m.Event.EffectiveDate = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("got\n%+v\nwant\n%+v", a, b)
	}
	return nil
}

func testRecordEventAndEnqueue(t *testing.T, s index.Store) {
	ob := outboxOf(t, s)
	ctx := context.Background()
	ev := withdrawal()
	first := []news.Message{alert(ev, "baltic", "email", base), alert(ev, "baltic", "webhook-1", base.Add(time.Second))}
	created, err := ob.RecordEventAndEnqueue(ctx, ev, first)
	if err != nil || !created {
		t.Fatalf("RecordEventAndEnqueue = %v, %v; want created", created, err)
	}
	// The same event from another article: not new, and its messages are
	// not enqueued, even under other ids.
	again := ev
	again.FirstArticleID = "lv-2"
	created, err = ob.RecordEventAndEnqueue(ctx, again, []news.Message{alert(again, "other-rule", "email", base)})
	if err != nil || created {
		t.Fatalf("RecordEventAndEnqueue again = %v, %v; want not created", created, err)
	}
	got := messages(t, ob, index.MessageFilter{})
	if want := []string{first[1].ID, first[0].ID}; !reflect.DeepEqual(ids(got), want) {
		t.Fatalf("messages %v, want %v", ids(got), want)
	}
	if err := sameMessage(got[1], first[0]); err != nil {
		t.Error(err)
	}
	if es, ok := s.(index.EventStore); ok {
		evs, err := es.Events(ctx, index.EventFilter{Countries: []string{"LV"}})
		if err != nil || len(evs) != 1 {
			t.Fatalf("Events = %v, %v", evs, err)
		}
		if evs[0].Articles != 2 || evs[0].FirstArticleID != "lv-1" {
			t.Errorf("event = %+v; want 2 articles, the first article kept", evs[0])
		}
		// RecordEvent and RecordEventAndEnqueue share the event.
		if c, err := es.RecordEvent(ctx, ev); err != nil || c {
			t.Errorf("RecordEvent after RecordEventAndEnqueue = %v, %v; want not created", c, err)
		}
	}
	// A new event with no messages is fine.
	other := withdrawal()
	other.Country, other.Key = "EE", news.EventKey("EE", other.Action, other.Treaty)
	if c, err := ob.RecordEventAndEnqueue(ctx, other, nil); err != nil || !c {
		t.Errorf("RecordEventAndEnqueue without messages = %v, %v", c, err)
	}
}

func testEnqueueOnce(t *testing.T, s index.Store) {
	ob := outboxOf(t, s)
	ctx := context.Background()
	m := digest("anna", "2025-11-30", base)
	if c, err := ob.Enqueue(ctx, m); err != nil || !c {
		t.Fatalf("Enqueue = %v, %v; want created", c, err)
	}
	changed := m
	changed.Channel = "webhook-9"
	changed.Created = base.Add(time.Hour)
	if c, err := ob.Enqueue(ctx, changed); err != nil || c {
		t.Fatalf("Enqueue again = %v, %v; want not created", c, err)
	}
	got := messages(t, ob, index.MessageFilter{})
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	if err := sameMessage(got[0], m); err != nil {
		t.Errorf("the first enqueue must win: %v", err)
	}
}

func testLeaseExclusive(t *testing.T, s index.Store) {
	ob := outboxOf(t, s)
	ctx := context.Background()
	const n, workers = 100, 10
	for i := range n {
		m := digest(fmt.Sprintf("sub-%03d", i), "2025-11-30", base.Add(time.Duration(i)*time.Second))
		if i%2 == 0 {
			m.NextAttempt = base.Add(-time.Duration(i) * time.Minute)
		}
		if _, err := ob.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu     sync.Mutex
		leased = map[string]int{}
		wg     sync.WaitGroup
	)
	errs := make(chan error, workers)
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			for {
				got, err := ob.Lease(ctx, base, time.Hour, 3)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					leased[m.ID]++
					if m.Attempts != 1 || !m.NextAttempt.Equal(base.Add(time.Hour)) {
						errs <- fmt.Errorf("leased %s with attempts %d, next %v", m.ID, m.Attempts, m.NextAttempt)
					}
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(leased) != n {
		t.Errorf("%d distinct messages leased, want %d", len(leased), n)
	}
	for id, k := range leased {
		if k != 1 {
			t.Errorf("%s leased %d times", id, k)
		}
	}
}

func testLeaseExpiry(t *testing.T, s index.Store) {
	ob := outboxOf(t, s)
	ctx := context.Background()
	now := base
	due := alert(withdrawal(), "r", "email", now)
	later := digest("anna", "2025-12-01", now)
	later.NextAttempt = now.Add(30 * time.Minute) // a retry scheduled by a backoff
	done := digest("bob", "2025-11-30", now)
	done.State = news.MessageDelivered
	for _, m := range []news.Message{due, later, done} {
		if _, err := ob.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	lease := func(at time.Time, want ...string) []news.Message {
		t.Helper()
		got, err := ob.Lease(ctx, at, 10*time.Minute, 10)
		if err != nil {
			t.Fatalf("Lease(%v): %v", at, err)
		}
		if !reflect.DeepEqual(ids(got), want) {
			t.Fatalf("Lease(%v) = %v, want %v", at, ids(got), want)
		}
		return got
	}
	got := lease(now, due.ID)
	if got[0].Attempts != 1 || !got[0].NextAttempt.Equal(now.Add(10*time.Minute)) {
		t.Errorf("leased: attempts %d, next %v", got[0].Attempts, got[0].NextAttempt)
	}
	lease(now.Add(5 * time.Minute)) // still leased, the digest not yet due
	// The sender crashed: the lease runs out and the alert comes back.
	got = lease(now.Add(10*time.Minute), due.ID)
	if got[0].Attempts != 2 {
		t.Errorf("leased again: attempts %d, want 2", got[0].Attempts)
	}
	lease(now.Add(30*time.Minute), due.ID, later.ID) // oldest due first
	lease(now.Add(30 * time.Minute))
	if got, err := ob.Lease(ctx, now.Add(time.Hour), time.Minute, 0); err != nil || len(got) != 0 {
		t.Errorf("Lease with limit 0 = %v, %v", ids(got), err)
	}
}

func testUpdateMessages(t *testing.T, s index.Store) {
	ob := outboxOf(t, s)
	ctx := context.Background()
	ev := withdrawal()
	a1 := alert(ev, "baltic", "email", base.Add(-3*time.Hour))
	a2 := alert(ev, "baltic", "webhook-1", base.Add(-2*time.Hour))
	d1 := digest("anna", "2025-11-30", base.Add(-time.Hour))
	for _, m := range []news.Message{a1, a2, d1} {
		if _, err := ob.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	a1.State, a1.Attempts, a1.Delivered = news.MessageDelivered, 1, base.Add(-2*time.Hour)
	a2.State, a2.Attempts, a2.LastError = news.MessageExpired, 8, "webhook: 503 Service Unavailable"
	a2.NextAttempt = base.Add(time.Hour)
	d1.Attempts, d1.LastError, d1.NextAttempt = 2, "smtp: connection refused", base.Add(5*time.Minute)
	for _, m := range []news.Message{a1, a2, d1} {
		if err := ob.Update(ctx, m); err != nil {
			t.Fatalf("Update %s: %v", m.ID, err)
		}
	}
	tests := []struct {
		name string
		f    index.MessageFilter
		want []news.Message
	}{
		{"all newest first", index.MessageFilter{}, []news.Message{d1, a2, a1}},
		{"kind", index.MessageFilter{Kind: news.MessageAlert}, []news.Message{a2, a1}},
		{"states", index.MessageFilter{States: []news.MessageState{news.MessagePending, news.MessageExpired}}, []news.Message{d1, a2}},
		{"kind and state", index.MessageFilter{Kind: news.MessageAlert, States: []news.MessageState{news.MessageDelivered}}, []news.Message{a1}},
		{"limit", index.MessageFilter{Limit: 2}, []news.Message{d1, a2}},
		{"none", index.MessageFilter{Kind: news.MessageDigest, States: []news.MessageState{news.MessageExpired}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := messages(t, ob, tc.f)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", ids(got), ids(tc.want))
			}
			for i := range got {
				if err := sameMessage(got[i], tc.want[i]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	// Only pending messages are leased: the delivered and expired alerts stay put.
	got, err := ob.Lease(ctx, base.Add(time.Hour), time.Minute, 10)
	if err != nil || !reflect.DeepEqual(ids(got), []string{d1.ID}) {
		t.Errorf("Lease after updates = %v, %v; want only the pending digest", ids(got), err)
	}
	unknown := digest("nobody", "2025-11-30", base)
	if err := ob.Update(ctx, unknown); !errors.Is(err, index.ErrNotFound) {
		t.Errorf("Update unknown: err = %v, want ErrNotFound", err)
	}
}

func testLeaseRenew(t *testing.T, s index.Store) {
	ob := outboxOf(t, s)
	rn, ok := s.(index.LeaseRenewer)
	if !ok {
		t.Skip("store does not implement index.LeaseRenewer")
	}
	ctx := context.Background()
	m := alert(withdrawal(), "baltic", "webhook-1", base)
	if _, err := ob.Enqueue(ctx, m); err != nil {
		t.Fatal(err)
	}
	leaseAt := func(now time.Time, lease time.Duration) []news.Message {
		t.Helper()
		got, err := ob.Lease(ctx, now, lease, 10)
		if err != nil {
			t.Fatalf("Lease(%v): %v", now, err)
		}
		return got
	}
	got := leaseAt(base, time.Minute)
	if len(got) != 1 {
		t.Fatalf("Lease = %v, want %s", ids(got), m.ID)
	}
	first := got[0]

	// The holder renews before the lease runs out: nobody else gets it
	// where the first lease would have run out, and no attempt is counted.
	renewed, err := rn.Renew(ctx, first, base.Add(30*time.Second), time.Minute)
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if want := base.Add(90 * time.Second); !renewed.NextAttempt.Equal(want) || renewed.Attempts != 1 {
		t.Fatalf("renewed: next %v attempts %d; want %v and 1", renewed.NextAttempt, renewed.Attempts, want)
	}
	if got := leaseAt(base.Add(70*time.Second), time.Minute); len(got) != 0 {
		t.Fatalf("Lease during a renewed lease = %v, want none", ids(got))
	}
	stored := messages(t, ob, index.MessageFilter{})
	if len(stored) != 1 || stored[0].Attempts != 1 || !stored[0].NextAttempt.Equal(renewed.NextAttempt) {
		t.Fatalf("stored after renew = %+v", stored)
	}
	// Renewing with the copy from before the renewal is renewing a lease
	// that is no longer the one stored.
	if _, err := rn.Renew(ctx, first, base.Add(40*time.Second), time.Minute); !errors.Is(err, index.ErrLeaseLost) {
		t.Errorf("Renew with a stale copy: err = %v, want ErrLeaseLost", err)
	}

	// The holder stalls past its lease; another worker takes the message.
	got = leaseAt(base.Add(90*time.Second), time.Minute)
	if len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("Lease after the renewed lease ran out = %+v, want the message at attempt 2", got)
	}
	second := got[0]
	if _, err := rn.Renew(ctx, renewed, base.Add(95*time.Second), time.Minute); !errors.Is(err, index.ErrLeaseLost) {
		t.Errorf("Renew by the worker that lost the lease: err = %v, want ErrLeaseLost", err)
	}
	if got := leaseAt(base.Add(100*time.Second), time.Minute); len(got) != 0 {
		t.Fatalf("the lost holder's renewal attempt freed the message: leased %v", ids(got))
	}
	if second, err = rn.Renew(ctx, second, base.Add(100*time.Second), time.Minute); err != nil {
		t.Fatalf("Renew by the new holder: %v", err)
	}

	// Once the holder stored the outcome, the lease is over.
	retry := second
	retry.LastError, retry.NextAttempt = "503", base.Add(time.Hour)
	if err := ob.Update(ctx, retry); err != nil {
		t.Fatal(err)
	}
	if _, err := rn.Renew(ctx, second, base.Add(110*time.Second), time.Minute); !errors.Is(err, index.ErrLeaseLost) {
		t.Errorf("Renew after a retry was scheduled: err = %v, want ErrLeaseLost", err)
	}
	done := retry
	done.State, done.Delivered = news.MessageDelivered, base.Add(2*time.Minute)
	if err := ob.Update(ctx, done); err != nil {
		t.Fatal(err)
	}
	if _, err := rn.Renew(ctx, done, base.Add(3*time.Minute), time.Minute); !errors.Is(err, index.ErrLeaseLost) {
		t.Errorf("Renew of a delivered message: err = %v, want ErrLeaseLost", err)
	}
	if got := messages(t, ob, index.MessageFilter{}); len(got) != 1 || got[0].State != news.MessageDelivered {
		t.Errorf("stored after renewals = %+v, want the message delivered", got)
	}

	unknown := digest("nobody", "2025-11-30", base)
	if _, err := rn.Renew(ctx, unknown, base, time.Minute); !errors.Is(err, index.ErrNotFound) {
		t.Errorf("Renew unknown: err = %v, want ErrNotFound", err)
	}
}

package alert

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// memOutbox is an in-memory index.Outbox with the contract's semantics:
// create-if-absent by id, leases that push NextAttempt and count attempts.
type memOutbox struct {
	mu     sync.Mutex
	events map[string]news.Event
	msgs   map[string]news.Message
	order  []string
}

func newMemOutbox() *memOutbox {
	return &memOutbox{events: map[string]news.Event{}, msgs: map[string]news.Message{}}
}

var _ index.Outbox = (*memOutbox)(nil)

func (o *memOutbox) RecordEventAndEnqueue(_ context.Context, ev news.Event, msgs []news.Message) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.events[ev.Key]; ok {
		return false, nil
	}
	o.events[ev.Key] = ev
	for _, m := range msgs {
		o.enqueue(m)
	}
	return true, nil
}

func (o *memOutbox) Events(_ context.Context, f index.EventFilter) ([]news.Event, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []news.Event
	for _, ev := range o.events {
		if len(f.Countries) > 0 && !slices.Contains(f.Countries, ev.Country) {
			continue
		}
		if len(f.Actions) > 0 && !slices.Contains(f.Actions, ev.Action) {
			continue
		}
		out = append(out, ev)
	}
	return out, nil
}

func (o *memOutbox) enqueue(m news.Message) bool {
	if _, ok := o.msgs[m.ID]; ok {
		return false
	}
	if m.State == "" {
		m.State = news.MessagePending
	}
	o.msgs[m.ID] = m
	o.order = append(o.order, m.ID)
	return true
}

func (o *memOutbox) Enqueue(_ context.Context, m news.Message) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.enqueue(m), nil
}

func (o *memOutbox) Lease(_ context.Context, now time.Time, lease time.Duration, limit int) ([]news.Message, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []news.Message
	for _, id := range o.order {
		m := o.msgs[id]
		if m.State != news.MessagePending || m.NextAttempt.After(now) {
			continue
		}
		if len(out) == limit {
			break
		}
		m.NextAttempt = now.Add(lease)
		m.Attempts++
		o.msgs[id] = m
		out = append(out, m)
	}
	return out, nil
}

func (o *memOutbox) Update(_ context.Context, m news.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs[m.ID] = m
	return nil
}

func (o *memOutbox) Messages(_ context.Context, f index.MessageFilter) ([]news.Message, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []news.Message
	for i := len(o.order) - 1; i >= 0; i-- {
		m := o.msgs[o.order[i]]
		if f.Kind != "" && m.Kind != f.Kind {
			continue
		}
		if len(f.States) > 0 && !slices.Contains(f.States, m.State) {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

func (o *memOutbox) get(id string) news.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.msgs[id]
}

package digest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/minewatch/minewatch/mail"
	"github.com/minewatch/minewatch/news"
)

// ParseSchedule reads a subscriber's send_at in their zone.
func ParseSchedule(spec string, loc *time.Location) (cron.Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	s, err := cron.ParseStandard("CRON_TZ=" + loc.String() + " " + spec)
	if err != nil {
		return nil, fmt.Errorf("digest schedule %q: %w", spec, err)
	}
	return s, nil
}

// Previous is the last fire time of s strictly before t (robfig/cron only
// looks forward, so it searches back in growing steps). The steps reach past
// two years, so a yearly send_at finds its previous fire; only a schedule
// rarer than that (29 February) falls back to a day.
func Previous(s cron.Schedule, t time.Time) time.Time {
	for step := time.Hour; step <= 800*24*time.Hour; step *= 2 {
		from := t.Add(-step)
		n := s.Next(from)
		if n.IsZero() || !n.Before(t) {
			continue
		}
		prev := n
		for {
			n = s.Next(prev)
			if n.IsZero() || !n.Before(t) {
				return prev
			}
			prev = n
		}
	}
	return t.Add(-24 * time.Hour)
}

// PeriodEnding is the period that the fire at end closes: from the previous
// fire to end. Its id is the local date for daily (or rarer) digests, the
// local date and time for more frequent ones.
func PeriodEnding(s cron.Schedule, loc *time.Location, end time.Time) Period {
	if loc == nil {
		loc = time.UTC
	}
	start := Previous(s, end)
	id := end.In(loc).Format("2006-01-02")
	if end.Sub(start) < 20*time.Hour {
		id = end.In(loc).Format("2006-01-02T15:04")
	}
	return Period{ID: id, Start: start, End: end}
}

// MessageID is the outbox id of a subscriber's digest for a period.
func MessageID(sub, period string) string { return "digest/" + sub + "/" + period }

// Enqueuer is the part of index.Outbox the scheduler uses.
type Enqueuer interface {
	Enqueue(ctx context.Context, m news.Message) (created bool, err error)
}

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	Subscribers []Subscriber
	Outbox      Enqueuer
	// Kick wakes the dispatcher after an enqueue (alert.Dispatcher.Kick).
	Kick func()
	// CatchUp is how far back a missed send is still made at start (the
	// process was down at the send time); 0 means 24h.
	CatchUp time.Duration
	Now     func() time.Time
	Logger  *slog.Logger
}

// Scheduler enqueues each subscriber's digest at their send time. Enqueue is
// create-if-absent on "digest/<subscriber>/<period>", so restarts and several
// workers enqueue each digest once; the dispatcher renders and sends it.
type Scheduler struct {
	opts   SchedulerOptions
	scheds []cron.Schedule
	log    *slog.Logger
}

// NewScheduler parses every subscriber's schedule.
func NewScheduler(opts SchedulerOptions) (*Scheduler, error) {
	if opts.Outbox == nil {
		return nil, errors.New("digest: scheduler needs an outbox")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CatchUp <= 0 {
		opts.CatchUp = 24 * time.Hour
	}
	if opts.Kick == nil {
		opts.Kick = func() {}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Scheduler{opts: opts, log: log}
	var errs []error
	for _, sub := range opts.Subscribers {
		sc, err := ParseSchedule(sub.SendAt, sub.Location)
		if err != nil {
			errs = append(errs, fmt.Errorf("subscriber %s: %w", sub.ID, err))
		}
		s.scheds = append(s.scheds, sc)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Run enqueues digests until ctx ends. At start it enqueues each
// subscriber's latest period if it ended within CatchUp, which is a no-op
// when that digest was enqueued already.
func (s *Scheduler) Run(ctx context.Context) error {
	if len(s.opts.Subscribers) == 0 {
		<-ctx.Done()
		return nil
	}
	now := s.opts.Now()
	next := make([]time.Time, len(s.scheds))
	for i, sc := range s.scheds {
		if prev := Previous(sc, now.Add(time.Second)); now.Sub(prev) <= s.opts.CatchUp {
			s.enqueue(ctx, i, prev)
		}
		next[i] = sc.Next(now)
	}
	for {
		soonest := 0
		for i := range next {
			if next[i].Before(next[soonest]) {
				soonest = i
			}
		}
		t := time.NewTimer(max(next[soonest].Sub(s.opts.Now()), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		now := s.opts.Now()
		for i, sc := range s.scheds {
			if !next[i].After(now) {
				s.enqueue(ctx, i, next[i])
				next[i] = sc.Next(now)
			}
		}
	}
}

// EnqueueDue enqueues the digest of every subscriber whose latest period
// ended in (now-CatchUp, now]; `minewatch digest send` uses it.
func (s *Scheduler) EnqueueDue(ctx context.Context) (created int, err error) {
	now := s.opts.Now()
	for i, sc := range s.scheds {
		prev := Previous(sc, now.Add(time.Second))
		if now.Sub(prev) > s.opts.CatchUp {
			continue
		}
		ok, err := s.enqueue(ctx, i, prev)
		if err != nil {
			return created, err
		}
		if ok {
			created++
		}
	}
	return created, nil
}

func (s *Scheduler) enqueue(ctx context.Context, i int, end time.Time) (bool, error) {
	sub := s.opts.Subscribers[i]
	p := PeriodEnding(s.scheds[i], sub.Location, end)
	m := news.Message{
		ID: MessageID(sub.ID, p.ID), Kind: news.MessageDigest, Subscriber: sub.ID, Period: p.ID,
		Channel: "email", State: news.MessagePending, Created: end, NextAttempt: end,
	}
	created, err := s.opts.Outbox.Enqueue(ctx, m)
	if err != nil {
		s.log.Error("enqueue digest failed", "message", m.ID, "error", err)
		return false, fmt.Errorf("enqueue %s: %w", m.ID, err)
	}
	if created {
		s.log.Info("digest enqueued", "message", m.ID)
		s.opts.Kick()
	}
	return created, nil
}

// Renderer renders digest messages for the dispatcher
// (alert.DigestRenderer): at send time, from what the index holds then.
type Renderer struct {
	Searcher    Searcher
	Events      EventLister
	Subscribers []Subscriber
	BaseURL     string
}

// RenderDigest builds and renders m's digest. send is false for an empty
// period of a subscriber who wants no "nothing new" mail.
func (r *Renderer) RenderDigest(ctx context.Context, m news.Message) (mail.Message, bool, error) {
	var sub *Subscriber
	for i := range r.Subscribers {
		if r.Subscribers[i].ID == m.Subscriber {
			sub = &r.Subscribers[i]
		}
	}
	if sub == nil {
		return mail.Message{}, false, fmt.Errorf("digest %s: subscriber %q is no longer in the config", m.ID, m.Subscriber)
	}
	sc, err := ParseSchedule(sub.SendAt, sub.Location)
	if err != nil {
		return mail.Message{}, false, err
	}
	end := m.Created
	if end.IsZero() {
		return mail.Message{}, false, fmt.Errorf("digest %s: no period end (Created)", m.ID)
	}
	p := PeriodEnding(sc, sub.Location, end)
	p.ID = m.Period
	d, err := Build(ctx, r.Searcher, r.Events, *sub, p, r.BaseURL)
	if err != nil {
		return mail.Message{}, false, err
	}
	if d.Empty() && !sub.SendEmpty {
		return mail.Message{}, false, nil
	}
	html, text, err := Render(d)
	if err != nil {
		return mail.Message{}, false, err
	}
	return mail.Message{
		ID: m.ID, To: []string{sub.Email}, Subject: Subject(d), HTML: html, Text: text,
		Headers: map[string]string{"X-Minewatch-Digest": strings.TrimPrefix(m.ID, "digest/")},
	}, true, nil
}

// Package monitor runs minewatch's scheduled work: a cron tick picks the sources
// that are due, a bounded pool collects, classifies and indexes them, and events are recorded.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/story"
)

// Collector fetches one source and returns its new articles (ingest.Ingester).
type Collector interface {
	Collect(ctx context.Context, src news.Source, st news.SourceState, known index.URLChecker) (ingest.Result, error)
}

// Classifier decides topics and entities for an article (classify.Classifier).
type Classifier interface {
	Classify(a news.Article) news.Classification
}

// Alerter turns an event into the outbox messages its alert rules want; they
// are enqueued in the same transaction that records the event, and only if
// the event is new (index.Outbox).
type Alerter interface {
	MessagesFor(ev news.Event, d news.Document) []news.Message
}

// Store is what the monitor needs of an index backend.
type Store interface {
	index.Store
	index.StateStore
	index.EventStore
	index.URLChecker
}

// AtomicWriter is a Store that can index articles and record their events
// (enqueueing msgs[i] when events[i] is new) in one transaction, reporting
// which events were new (index/disk). With it, a crash or a failed write
// between the two steps cannot leave articles indexed without their events:
// their URLs would then be known, never collected again, and the events and
// their alerts lost. Stores without it get the two steps in turn, events
// first (see store).
type AtomicWriter interface {
	PutAndRecord(ctx context.Context, docs []news.Document, events []news.Event, msgs [][]news.Message) (index.PutResult, []bool, error)
}

// Options configure a Monitor. Sources, Collector, Classifier and Store are required.
type Options struct {
	Sources []news.Source
	// Shard limits the monitor to its part of Sources when several workers
	// share one store; the zero value takes them all.
	Shard      Shard
	Collector  Collector
	Classifier Classifier
	Store      Store
	Workers    int // concurrent sources; 0 means 4
	// Tick is how often due sources are looked for; 0 means 10s, or the
	// shortest source schedule's period when that is shorter (at least 1s).
	Tick time.Duration
	// SourceTimeout bounds one source's collection, pages included; 0 means 5m.
	SourceTimeout time.Duration
	// OnNewEvent is called once for each event the store records as new.
	OnNewEvent func(ctx context.Context, ev news.Event)
	// Alerts, when set, enqueues alerts for new events; the Store must then
	// implement index.Outbox.
	Alerts Alerter
	// OnHub is called after a successful fetch of a feed that advertises a
	// WebSub hub, so the caller can subscribe (and get pushes in seconds).
	OnHub      func(ctx context.Context, src news.Source, hub, topic string)
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are kept but not exported
	Now        func() time.Time      // nil: time.Now
}

// Monitor schedules and runs source collections. Its methods are safe for
// concurrent use; Run and RunOnce may not overlap on the same source.
type Monitor struct {
	opts      Options
	log       *slog.Logger
	m         *metrics
	schedules map[string]cron.Schedule
	stories   *story.Grouper
	all       map[string]news.Source // every configured source, this worker's or not (pushes)

	running atomic.Bool // Run's scheduler is up, for readiness probes

	mu       sync.Mutex
	states   map[string]news.SourceState
	inFlight map[string]bool
}

// New checks the options and parses every source's schedule.
func New(opts Options) (*Monitor, error) {
	if opts.Collector == nil || opts.Classifier == nil || opts.Store == nil {
		return nil, errors.New("monitor: Collector, Classifier and Store are required")
	}
	if _, ok := opts.Store.(index.Outbox); opts.Alerts != nil && !ok {
		return nil, errors.New("monitor: alerts need a store with an outbox")
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.SourceTimeout <= 0 {
		opts.SourceTimeout = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	all := make(map[string]news.Source, len(opts.Sources))
	for _, src := range opts.Sources {
		all[src.ID] = src
	}
	opts.Sources = opts.Shard.Select(opts.Sources)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	mon := &Monitor{
		opts:      opts,
		log:       log,
		m:         newMetrics(opts.Registerer),
		schedules: make(map[string]cron.Schedule, len(opts.Sources)),
		states:    make(map[string]news.SourceState),
		inFlight:  make(map[string]bool),
		all:       all,
	}
	finder, _ := opts.Store.(index.StoryFinder) // nil: near-duplicates grouped within a batch only
	mon.stories = story.NewGrouper(finder)
	var errs []error
	for _, src := range opts.Sources {
		s, err := ParseSchedule(src.Schedule)
		if err != nil {
			errs = append(errs, fmt.Errorf("source %s: %w", src.ID, err))
			continue
		}
		mon.schedules[src.ID] = s
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if mon.opts.Tick <= 0 {
		mon.opts.Tick = defaultTick(mon.schedules, opts.Now())
	}
	return mon, nil
}

// Bounds of the default tick.
const (
	maxTick = 10 * time.Second
	minTick = time.Second // cron.Every's resolution
)

// defaultTick is maxTick, or the shortest schedule's period when that is
// shorter: with a fixed 10 s tick a source scheduled every 2 s would be
// fetched every 10 s at best.
func defaultTick(schedules map[string]cron.Schedule, now time.Time) time.Duration {
	tick := maxTick
	for _, s := range schedules {
		tick = min(tick, period(s, now))
	}
	return max(tick, minTick)
}

// startAt is when a source never fetched, or overdue, is first due after a
// start at now: firstRun's spread, but within the source's own period when
// that is shorter, so a source polled every few seconds does not wait up to
// a minute after each restart (and, restarted more often than its offset,
// would never be fetched at all).
func (mon *Monitor) startAt(id string, now time.Time) time.Time {
	if s, ok := mon.schedules[id]; ok {
		if p := period(s, now); p < 2*time.Minute {
			return now.Add(offset(id, p))
		}
	}
	return firstRun(id, now)
}

// load reads persisted source state; sources never fetched, or whose next
// check passed while the process was down, are due soon after start.
func (mon *Monitor) load(ctx context.Context) error {
	states, err := mon.opts.Store.SourceStates(ctx)
	if err != nil {
		return fmt.Errorf("load source states: %w", err)
	}
	now := mon.opts.Now()
	mon.mu.Lock()
	defer mon.mu.Unlock()
	for _, src := range mon.opts.Sources {
		st, ok := states[src.ID]
		if !ok {
			st = news.SourceState{SourceID: src.ID}
		}
		if st.NextCheck.IsZero() || st.NextCheck.Before(now) {
			st.NextCheck = mon.startAt(src.ID, now)
		}
		mon.states[src.ID] = st
	}
	return nil
}

// Run loads state, then fetches due sources on every tick until ctx is done.
// On shutdown it stops taking work and waits for the sources in flight, whose
// fetches are cancelled but whose writes finish (see collect).
func (mon *Monitor) Run(ctx context.Context) error {
	if err := mon.load(ctx); err != nil {
		return err
	}
	jobs := make(chan news.Source)
	var wg sync.WaitGroup
	for range mon.opts.Workers {
		wg.Go(func() {
			for src := range jobs {
				mon.collect(ctx, src)
				mon.release(src.ID)
			}
		})
	}
	c := cron.New(
		cron.WithLogger(cronLogger{mon.log}),
		cron.WithChain(cron.Recover(cronLogger{mon.log}), cron.SkipIfStillRunning(cronLogger{mon.log})),
	)
	c.Schedule(cron.Every(mon.opts.Tick), cron.FuncJob(func() { mon.dispatch(ctx, jobs) }))
	c.Start()
	mon.running.Store(true)
	defer mon.running.Store(false)
	mon.log.Info("scheduler started", "sources", len(mon.opts.Sources), "workers", mon.opts.Workers, "tick", mon.opts.Tick)
	mon.dispatch(ctx, jobs) // do not wait a whole tick for the first due sources

	<-ctx.Done()
	<-c.Stop().Done() // no dispatch is running after this, so jobs can be closed
	close(jobs)
	wg.Wait()
	mon.log.Info("scheduler stopped")
	return nil
}

// dispatch hands every due source that is not already running to the pool.
// It blocks while all workers are busy, which is the back-pressure we want:
// SkipIfStillRunning then drops the overlapping ticks.
func (mon *Monitor) dispatch(ctx context.Context, jobs chan<- news.Source) {
	for _, src := range mon.due(mon.opts.Now()) {
		select {
		case jobs <- src:
		case <-ctx.Done():
			mon.release(src.ID)
			return
		}
	}
}

// Running reports whether Run's scheduler is up.
func (mon *Monitor) Running() bool { return mon.running.Load() }

// due returns the sources whose next check has come, and marks them in flight.
// They are earliest first, then spread over their hosts (see interleaveHosts).
func (mon *Monitor) due(now time.Time) []news.Source {
	mon.mu.Lock()
	defer mon.mu.Unlock()
	var out []news.Source
	for _, src := range mon.opts.Sources {
		st := mon.states[src.ID]
		if mon.inFlight[src.ID] || st.NextCheck.After(now) {
			continue
		}
		mon.inFlight[src.ID] = true
		out = append(out, src)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return mon.states[out[i].ID].NextCheck.Before(mon.states[out[j].ID].NextCheck)
	})
	spread := make([]news.Source, 0, len(out))
	for _, i := range interleaveHosts(len(out), func(i int) string { return mon.fetchURLLocked(out[i]) }) {
		spread = append(spread, out[i])
	}
	return spread
}

// fetchURLLocked is where src is fetched: a permanent redirect moved it.
// mon.mu must be held.
func (mon *Monitor) fetchURLLocked(src news.Source) string {
	if u := mon.states[src.ID].URL; u != "" {
		return u
	}
	return src.URL
}

func (mon *Monitor) release(id string) {
	mon.mu.Lock()
	delete(mon.inFlight, id)
	mon.mu.Unlock()
}

// Status is a source with its state and next run, for the sources page and CLI.
type Status struct {
	Source  news.Source
	State   news.SourceState
	NextRun time.Time
	Running bool
}

// Statuses reports every configured source, in config order. Before Run has
// loaded state it reads the store directly.
func (mon *Monitor) Statuses(ctx context.Context) ([]Status, error) {
	mon.mu.Lock()
	loaded := len(mon.states) > 0
	mon.mu.Unlock()
	if !loaded {
		if err := mon.load(ctx); err != nil {
			return nil, err
		}
	}
	mon.mu.Lock()
	defer mon.mu.Unlock()
	out := make([]Status, 0, len(mon.opts.Sources))
	for _, src := range mon.opts.Sources {
		st := mon.states[src.ID]
		out = append(out, Status{Source: src, State: st, NextRun: st.NextCheck, Running: mon.inFlight[src.ID]})
	}
	return out, nil
}

// cronLogger adapts slog to cron's logger; cron's Info is chatty, so it goes to debug.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "error", err)...)
}

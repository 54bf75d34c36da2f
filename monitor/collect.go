package monitor

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/redact"
)

// writeTimeout bounds the index writes of one collection. Writes run on a
// context detached from shutdown: articles already fetched must reach the
// index even when SIGTERM arrives mid-cycle, or their feed's new validators
// would hide them from the next fetch.
const writeTimeout = 30 * time.Second

// Outcome is what happened to one source in one collection.
type Outcome struct {
	SourceID    string
	Err         error
	ErrClass    string // set with Err: dns, tls, timeout, http, robots, private, too_large, parse, index, ...
	Abandoned   bool   // cut short by shutdown; not counted as a failure
	NotModified bool
	Items       int
	New         int // articles collected
	Indexed     int
	Relevant    int
	Topics      map[string]int
	NewEvents   []news.Event
	ItemErrors  []error
	Duration    time.Duration
}

// collect runs one source through fetch → classify → index → events and
// records the outcome in its state.
func (mon *Monitor) collect(ctx context.Context, src news.Source) Outcome {
	start := mon.opts.Now()
	mon.mu.Lock()
	st := mon.states[src.ID]
	mon.mu.Unlock()
	st.SourceID = src.ID
	fetchSrc := src
	if st.URL != "" {
		fetchSrc.URL = st.URL // a permanent redirect moved it
	}

	mon.log.Debug("collecting source", "source", src.ID)
	cctx, cancel := context.WithTimeout(ctx, mon.opts.SourceTimeout)
	res, err := mon.safeCollect(cctx, fetchSrc, st)
	cancel()
	out := Outcome{SourceID: src.ID, Topics: map[string]int{}}
	if err != nil && ctx.Err() != nil {
		out.Err, out.Abandoned = err, true
		mon.log.Info("collection abandoned at shutdown", "source", src.ID)
		return out
	}

	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer wcancel()
	if err == nil {
		mon.log.Debug("source fetched", "source", src.ID, "items", res.Items, "new", len(res.Articles), "not_modified", res.NotModified)
		out.Items, out.NotModified, out.ItemErrors = res.Items, res.NotModified, res.ItemErrors
		out.New = len(res.Articles)
		err = mon.safeStore(wctx, src, res.Articles, &out)
	}
	now := mon.opts.Now()
	out.Duration = now.Sub(start)
	st.LastAttempt = now
	var notBefore time.Time
	if err != nil {
		out.Err = err
		out.ErrClass = errClass(err)
		st.ConsecutiveFailures++
		st.LastError = err.Error()
		st.LastErrorClass = out.ErrClass
	} else {
		// Validators advance only once the articles are stored, so a failed
		// write makes the next fetch return them again.
		st.ConsecutiveFailures = 0
		st.LastSuccess = now
		st.Validators = res.Validators
		if res.URL != "" {
			st.URL = res.URL
		}
		if !res.NotModified {
			st.ItemsSeen = res.Items
		}
		st.ArticlesTotal += out.Indexed
		notBefore = res.NotBefore
		if res.Hub != "" && mon.opts.OnHub != nil {
			mon.opts.OnHub(wctx, src, res.Hub, res.Topic)
		}
	}
	st.NextCheck = nextRun(src.ID, mon.schedules[src.ID], now, notBefore, st.ConsecutiveFailures)
	if serr := mon.opts.Store.SaveSourceState(wctx, st); serr != nil {
		mon.log.Error("save source state", "source", src.ID, "error", serr)
	}
	mon.mu.Lock()
	mon.states[src.ID] = st
	mon.mu.Unlock()
	mon.record(src, st, out)
	return out
}

// store classifies and indexes new articles and records their events.
func (mon *Monitor) store(ctx context.Context, src news.Source, articles []news.Article, out *Outcome) error {
	if len(articles) == 0 {
		return nil
	}
	docs := make([]news.Document, len(articles))
	for i, a := range articles {
		c := mon.opts.Classifier.Classify(a)
		docs[i] = news.Document{Article: a, Classification: c}
		if c.Relevant {
			out.Relevant++
		}
		for _, t := range c.Topics {
			out.Topics[t.Topic]++
		}
	}
	// A story found here makes thirty copies of one wire story one story in
	// the index; their events are still deduplicated by key.
	if err := mon.stories.Assign(ctx, docs); err != nil {
		return &indexError{err}
	}
	mon.log.Debug("indexing articles", "source", src.ID, "articles", len(docs))
	if w, ok := mon.opts.Store.(AtomicWriter); ok {
		return mon.storeAtomic(ctx, w, src, docs, out)
	}
	// Without one transaction, the events go first: a crash or a failed
	// write between the two steps then leaves events (and their alerts,
	// enqueued with them) whose articles are not stored, and the next
	// cycle collects those articles again, their URLs being unknown, and
	// finds the events known. The other order would leave articles whose
	// URLs are known, never collected again, and their events lost. The
	// price: an article the index then rejects (Failed) has its events
	// recorded, and a replay counts its article twice in Event.Articles.
	for _, d := range docs {
		if err := mon.events(ctx, d, out); err != nil {
			return err
		}
	}
	t0 := time.Now()
	res, err := mon.opts.Store.Put(ctx, docs...)
	mon.m.indexLatency.Observe(time.Since(t0).Seconds())
	if err != nil {
		return &indexError{fmt.Errorf("index %d articles: %w", len(docs), err)}
	}
	mon.indexed(src, docs, res, out)
	return nil
}

// indexed counts what Put stored and logs what it rejected.
func (mon *Monitor) indexed(src news.Source, docs []news.Document, res index.PutResult, out *Outcome) {
	out.Indexed = res.Indexed
	mon.m.indexed.Add(float64(res.Indexed))
	for id, ferr := range res.Failed {
		mon.log.Error("article rejected by index", "source", src.ID, "article_id", id, "error", ferr)
	}
	for _, d := range docs {
		if _, failed := res.Failed[d.ID]; failed {
			continue
		}
		for _, t := range d.Classification.Topics {
			mon.m.byTopic.WithLabelValues(t.Topic).Inc()
		}
	}
}

// storeAtomic writes docs, their events and the alerts of the new ones in
// one transaction (see AtomicWriter), then reports the new events.
func (mon *Monitor) storeAtomic(ctx context.Context, w AtomicWriter, src news.Source, docs []news.Document, out *Outcome) error {
	var (
		evs  []news.Event
		msgs [][]news.Message
		of   []int // document index of each event
	)
	for i, d := range docs {
		for _, ev := range eventsOf(d) {
			evs = append(evs, ev)
			of = append(of, i)
			if mon.opts.Alerts != nil {
				msgs = append(msgs, mon.opts.Alerts.MessagesFor(ev, d))
			}
		}
	}
	t0 := time.Now()
	res, created, err := w.PutAndRecord(ctx, docs, evs, msgs)
	mon.m.indexLatency.Observe(time.Since(t0).Seconds())
	if err != nil {
		return &indexError{fmt.Errorf("index %d articles and %d events: %w", len(docs), len(evs), err)}
	}
	mon.indexed(src, docs, res, out)
	for i, ev := range evs {
		if _, failed := res.Failed[docs[of[i]].ID]; failed {
			continue
		}
		mon.newEvent(ctx, ev, docs[of[i]], created[i], out)
	}
	return nil
}

// eventsOf makes an event of each entity of d.
func eventsOf(d news.Document) []news.Event {
	evs := make([]news.Event, 0, len(d.Classification.Entities))
	for _, e := range d.Classification.Entities {
		ev := news.Event{
			Key:            e.Key(),
			Country:        e.Country,
			Action:         e.Action,
			Treaty:         e.Treaty,
			FirstSeen:      d.Reported(),
			FirstArticleID: d.ID,
			FirstSourceID:  d.SourceID,
			Evidence:       e.Evidence,
			Articles:       1,
		}
		if e.Action == news.ActionWithdrawNotify {
			ev.EffectiveDate = effectiveDate(d.Article)
		}
		evs = append(evs, ev)
	}
	return evs
}

// events records each entity of a document as an event; the store decides
// atomically which one is new, so several workers agree.
func (mon *Monitor) events(ctx context.Context, d news.Document, out *Outcome) error {
	for _, ev := range eventsOf(d) {
		created, err := mon.recordEvent(ctx, ev, d)
		if err != nil {
			return &indexError{fmt.Errorf("record event %s: %w", ev.Key, err)}
		}
		mon.newEvent(ctx, ev, d, created, out)
	}
	return nil
}

// newEvent counts a recorded event and, when the store created it, reports it.
func (mon *Monitor) newEvent(ctx context.Context, ev news.Event, d news.Document, created bool, out *Outcome) {
	mon.m.events.WithLabelValues(fmt.Sprint(created)).Inc()
	if !created {
		return
	}
	out.NewEvents = append(out.NewEvents, ev)
	mon.log.Info("new event", "event", ev.Key, "article_id", d.ID, "source", d.SourceID)
	if mon.opts.OnNewEvent != nil {
		mon.opts.OnNewEvent(ctx, ev)
	}
}

// recordEvent records ev, with its alerts when alerting is on, atomically.
func (mon *Monitor) recordEvent(ctx context.Context, ev news.Event, d news.Document) (bool, error) {
	if mon.opts.Alerts == nil {
		return mon.opts.Store.RecordEvent(ctx, ev)
	}
	msgs := mon.opts.Alerts.MessagesFor(ev, d)
	return mon.opts.Store.(index.Outbox).RecordEventAndEnqueue(ctx, ev, msgs)
}

// effectiveDate derives when a notified withdrawal takes effect: six months
// after the depositary receives it (Ottawa Convention art. 20(3), CCM art. 20(2)).
// The article's date stands in for the notification date.
func effectiveDate(a news.Article) time.Time {
	d := a.Published
	if d.IsZero() {
		d = a.FirstSeen
	}
	if d.IsZero() {
		return time.Time{}
	}
	y, m, day := d.UTC().Date()
	return time.Date(y, m+6, day, 0, 0, 0, 0, time.UTC)
}

// safeCollect is the Collector's Collect, with a panic turned into this
// source's error: a hostile input that finds a bug in a parser must cost
// one source one cycle, not stop every other source with the process.
func (mon *Monitor) safeCollect(ctx context.Context, src news.Source, st news.SourceState) (res ingest.Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = mon.panicked(src, v)
		}
	}()
	return mon.opts.Collector.Collect(ctx, src, st, mon.opts.Store)
}

// safeStore is store with a panic (in classification, say) turned into
// this source's error, as in safeCollect.
func (mon *Monitor) safeStore(ctx context.Context, src news.Source, articles []news.Article, out *Outcome) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = mon.panicked(src, v)
		}
	}()
	return mon.store(ctx, src, articles, out)
}

func (mon *Monitor) panicked(src news.Source, v any) error {
	mon.log.Error("panic while collecting source: a bug, please report it with this stack",
		"source", src.ID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	return &panicError{v: v}
}

// panicError is a recovered panic, class "panic".
type panicError struct{ v any }

func (e *panicError) Error() string { return fmt.Sprintf("internal error (panic): %v", e.v) }

// indexError marks a failure to write, as opposed to a failure to fetch.
type indexError struct{ err error }

func (e *indexError) Error() string { return e.err.Error() }
func (e *indexError) Unwrap() error { return e.err }

func errClass(err error) string {
	var ie *indexError
	if errors.As(err, &ie) {
		return "index"
	}
	var pe *panicError
	if errors.As(err, &pe) {
		return "panic"
	}
	return fetch.Class(err)
}

// record logs the outcome and updates the metrics.
func (mon *Monitor) record(src news.Source, st news.SourceState, out Outcome) {
	outcome := "ok"
	switch {
	case out.Err != nil:
		outcome = out.ErrClass
	case out.NotModified:
		outcome = "not_modified"
	}
	mon.m.fetches.WithLabelValues(outcome).Inc()
	mon.m.fetchDuration.WithLabelValues(outcome).Observe(out.Duration.Seconds())
	mon.m.failing.WithLabelValues(src.ID).Set(float64(st.ConsecutiveFailures))
	attrs := []any{"source", src.ID, "url", redact.URL(src.URL), "outcome", outcome, "duration", out.Duration,
		"items", out.Items, "new", out.New, "indexed", out.Indexed, "relevant", out.Relevant,
		"next_check", st.NextCheck.Format(time.RFC3339)}
	if out.Err != nil {
		mon.log.Warn("source failed", append(attrs, "error", out.Err, "failures", st.ConsecutiveFailures)...)
		return
	}
	for _, ie := range out.ItemErrors {
		mon.log.Warn("item fell back to feed text", "source", src.ID, "error", ie)
	}
	mon.log.Info("source collected", attrs...)
}

// Pusher is a Collector that also reads feed bodies a WebSub hub pushed.
type Pusher interface {
	CollectPushed(ctx context.Context, src news.Source, body []byte, contentType string, known index.URLChecker) (ingest.Result, error)
}

// ErrUnknownSource is returned by Push for a source id not in the config.
var ErrUnknownSource = errors.New("monitor: unknown source")

// Push runs a pushed feed body through classify → index → events, like a
// fetch of its source, without touching the source's polling state. Any
// worker may take a push, whichever owns the source's polling.
func (mon *Monitor) Push(ctx context.Context, sourceID string, body []byte, contentType string) (Outcome, error) {
	src, ok := mon.all[sourceID]
	if !ok {
		return Outcome{}, fmt.Errorf("push for %q: %w", sourceID, ErrUnknownSource)
	}
	p, ok := mon.opts.Collector.(Pusher)
	if !ok {
		return Outcome{}, errors.New("monitor: the collector cannot read pushed feeds")
	}
	start := mon.opts.Now()
	out := Outcome{SourceID: sourceID, Topics: map[string]int{}}
	res, err := p.CollectPushed(ctx, src, body, contentType, mon.opts.Store)
	if err != nil {
		return out, err
	}
	out.Items, out.ItemErrors, out.New = res.Items, res.ItemErrors, len(res.Articles)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	err = mon.store(wctx, src, res.Articles, &out)
	out.Duration = mon.opts.Now().Sub(start)
	mon.log.Info("push collected", "source", sourceID, "items", out.Items, "new", out.New, "indexed", out.Indexed, "error", err)
	return out, err
}

// RunOnce collects the given sources now (all when ids is empty), whatever
// their schedule, and reports each outcome to progress as it completes. The
// outcomes are in the order of ids (or of the configured sources); the
// collections run spread over the sources' hosts (see interleaveHosts).
func (mon *Monitor) RunOnce(ctx context.Context, ids []string, progress func(Outcome)) ([]Outcome, error) {
	if err := mon.load(ctx); err != nil {
		return nil, err
	}
	srcs, err := mon.pick(ids)
	if err != nil {
		return nil, err
	}
	mon.mu.Lock()
	order := interleaveHosts(len(srcs), func(i int) string { return mon.fetchURLLocked(srcs[i]) })
	mon.mu.Unlock()
	outs := make([]Outcome, len(srcs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(mon.opts.Workers)
	for _, i := range order {
		src := srcs[i]
		g.Go(func() error {
			outs[i] = mon.collect(gctx, src)
			if progress != nil {
				progress(outs[i])
			}
			return nil
		})
	}
	_ = g.Wait() // collect reports per source; no goroutine returns an error
	return outs, ctx.Err()
}

func (mon *Monitor) pick(ids []string) ([]news.Source, error) {
	if len(ids) == 0 {
		return mon.opts.Sources, nil
	}
	byID := make(map[string]news.Source, len(mon.opts.Sources))
	for _, s := range mon.opts.Sources {
		byID[s.ID] = s
	}
	var out []news.Source
	for _, id := range ids {
		s, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("unknown source %q (see `minewatch sources`)", id)
		}
		out = append(out, s)
	}
	return out, nil
}

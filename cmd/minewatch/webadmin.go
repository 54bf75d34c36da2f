package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/minewatch/minewatch/alert"
	"github.com/minewatch/minewatch/classify"
	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/ingest/extract"
	"github.com/minewatch/minewatch/monitor"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/web"
)

// The web admin page's actions, over the same functions as the commands:
// `fetch --source`, `rules test`/`classify --explain`, `reclassify` and
// `alerts test`.

// adminFetcher fetches one source now through the running monitor.
type adminFetcher struct {
	m *monitor.Monitor

	mu       sync.Mutex
	inFlight map[string]bool // admin fetches running, so a double click fetches once
}

func (f *adminFetcher) FetchSource(ctx context.Context, id string) (web.FetchResult, error) {
	sts, err := f.m.Statuses(ctx)
	if err != nil {
		return web.FetchResult{}, err
	}
	found := false
	for _, s := range sts {
		if s.Source.ID != id {
			continue
		}
		found = true
		if s.Running {
			return web.FetchResult{}, fmt.Errorf("source %s is being fetched by the scheduler right now: %w", id, web.ErrBusy)
		}
	}
	if !found {
		return web.FetchResult{}, fmt.Errorf("no source %q on this worker: %w", id, web.ErrNotFound)
	}
	f.mu.Lock()
	if f.inFlight[id] {
		f.mu.Unlock()
		return web.FetchResult{}, fmt.Errorf("source %s is already being fetched: %w", id, web.ErrBusy)
	}
	f.inFlight[id] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.inFlight, id)
		f.mu.Unlock()
	}()
	outs, err := f.m.RunOnce(ctx, []string{id}, nil)
	if err != nil {
		return web.FetchResult{}, err
	}
	if len(outs) != 1 {
		return web.FetchResult{}, fmt.Errorf("fetch %s: %d outcomes", id, len(outs))
	}
	o := outs[0]
	res := web.FetchResult{SourceID: o.SourceID, NotModified: o.NotModified, Items: o.Items, New: o.New,
		Indexed: o.Indexed, Relevant: o.Relevant, NewEvents: len(o.NewEvents), Duration: o.Duration}
	if o.Err != nil {
		res.Error, res.ErrorClass = o.Err.Error(), o.ErrClass
	}
	return res, nil
}

// adminRules tests a query and the configured rules against a text.
type adminRules struct{ cl *classify.Classifier }

func (a adminRules) TestRule(_ context.Context, t web.RuleTest) (web.RuleTestResult, error) {
	lang := t.Language
	if lang == "" {
		lang = extract.DetectLanguage(t.Title + "\n" + t.Text)
	}
	res := web.RuleTestResult{Query: t.Query, Language: lang,
		Classification: a.cl.Classify(news.Article{Title: t.Title, Text: t.Text, Language: lang})}
	if t.Query == "" {
		return res, nil
	}
	n, err := query.Parse(t.Query)
	if err != nil {
		return res, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	m, err := classify.CompileQuery(n)
	if err != nil {
		return res, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	res.Matched, res.Hits = m.Match(t.Title, t.Text)
	return res, nil
}

// adminReclassifier runs reclassify in the background, one run at a time,
// on the server's lifetime context: shutdown interrupts it, and the next run
// resumes where it stopped.
type adminReclassifier struct {
	base  context.Context
	store index.Store
	cl    *classify.Classifier
	log   *slog.Logger
	wg    sync.WaitGroup

	mu     sync.Mutex
	status web.ReclassifyStatus
}

func newAdminReclassifier(base context.Context, st index.Store, cl *classify.Classifier, log *slog.Logger) *adminReclassifier {
	return &adminReclassifier{base: base, store: st, cl: cl, log: log,
		status: web.ReclassifyStatus{RulesVersion: cl.Version()}}
}

func (a *adminReclassifier) StartReclassify(_ context.Context, all bool) (web.ReclassifyStatus, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.status.Running {
		return a.status, fmt.Errorf("a reclassification started %s is still running: %w", a.status.Started.Format(time.RFC3339), web.ErrBusy)
	}
	if err := a.base.Err(); err != nil {
		return a.status, fmt.Errorf("shutting down: %w", err)
	}
	a.status = web.ReclassifyStatus{Running: true, Started: time.Now().UTC(), RulesVersion: a.cl.Version()}
	a.wg.Go(func() {
		res, err := reclassify(a.base, a.store, a.cl, all, a.progress)
		a.mu.Lock()
		defer a.mu.Unlock()
		a.status.Running = false
		a.status.Finished = time.Now().UTC()
		a.status.Read, a.status.Skipped, a.status.Changed = res.read, res.skipped, res.changed
		a.status.Unchanged, a.status.Events = res.unchanged, res.events
		if err != nil {
			a.status.Error = err.Error()
			a.log.Error("reclassify from the admin page", "error", err, "read", res.read)
			return
		}
		a.log.Info("reclassify from the admin page done", "read", res.read, "changed", res.changed, "events", res.events)
	})
	return a.status, nil
}

// progress counts articles read while the run goes on.
func (a *adminReclassifier) progress() {
	a.mu.Lock()
	a.status.Read++
	a.mu.Unlock()
}

func (a *adminReclassifier) ReclassifyStatus(context.Context) (web.ReclassifyStatus, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status, nil
}

// wait blocks until a running reclassification has stopped.
func (a *adminReclassifier) wait() { a.wg.Wait() }

// adminAlerts sends test alerts like `minewatch alerts test`.
type adminAlerts struct {
	cfg    *config.Config
	getenv func(string) string
	log    *slog.Logger
}

func (a adminAlerts) AlertRules(context.Context) ([]web.AlertRule, error) {
	out := make([]web.AlertRule, 0, len(a.cfg.Alerts))
	for _, r := range a.cfg.Alerts {
		kinds := make([]string, len(r.Channels))
		for i, ch := range r.Channels {
			kinds[i] = ch.Kind
		}
		out = append(out, web.AlertRule{ID: r.ID, Channels: alert.ChannelIDs(kinds)})
	}
	return out, nil
}

func (a adminAlerts) SendTestAlert(ctx context.Context, ruleID, channel string) ([]web.ChannelResult, error) {
	res, err := sendTestAlert(ctx, a.cfg, a.getenv, a.log, ruleID, channel)
	if errors.Is(err, errNoSuchRule) {
		return nil, fmt.Errorf("%w: %v", web.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	out := make([]web.ChannelResult, len(res))
	for i, r := range res {
		out[i] = web.ChannelResult{Channel: r.channel}
		if r.err != nil {
			out[i].Error = r.err.Error()
		}
	}
	return out, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/minewatch/minewatch/classify"
	"github.com/minewatch/minewatch/classify/entities"
	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/monitor"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/web"
	"github.com/minewatch/minewatch/websub"
)

// app is the pipeline built from one config: the composition root's product.
type app struct {
	cfg        *config.Config
	log        *slog.Logger
	reg        *prometheus.Registry
	store      *disk.Store
	classifier *classify.Classifier
	monitor    *monitor.Monitor
	alerting   *alerting          // nil when the config has no alerts or subscribers
	websub     *websub.Subscriber // nil without web.base_url (hubs need a public callback)
}

// buildOptions tweak what build makes, for the demo and tests.
type buildOptions struct {
	sources     []news.Source // replaces the config's sources when set
	tick        time.Duration
	onNewEvent  func(context.Context, news.Event)
	withMonitor bool
	shard       monitor.Shard
	// getenv resolves the secrets the config names (SMTP password, webhook
	// secrets); nil means alerts and digests are not started.
	getenv func(string) string
}

// build wires store, classifier, fetcher, ingester and monitor from cfg.
func build(ctx context.Context, cfg *config.Config, log *slog.Logger, bo buildOptions) (*app, error) {
	cl, err := newClassifier(cfg)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, reg: prometheus.NewRegistry(), store: st, classifier: cl}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if !bo.withMonitor {
		return a, nil
	}
	f, err := newFetcher(cfg, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	srcs := bo.sources
	if srcs == nil {
		srcs = cfg.NewsSources()
	}
	mopts := monitor.Options{
		Sources:    srcs,
		Shard:      bo.shard,
		Collector:  ingest.New(ingest.Options{Fetcher: f, Logger: log}),
		Classifier: cl,
		Store:      st,
		Workers:    cfg.Fetch.Workers,
		Tick:       bo.tick,
		OnNewEvent: bo.onNewEvent,
		Logger:     log,
		Registerer: a.reg,
	}
	if bo.getenv != nil && (len(cfg.Alerts) > 0 || len(cfg.Subscribers) > 0) {
		if a.alerting, err = newAlerting(ctx, a, bo.getenv); err != nil {
			st.Close()
			return nil, err
		}
		mopts.Alerts = a.alerting.engine
		next := mopts.OnNewEvent
		mopts.OnNewEvent = func(ctx context.Context, ev news.Event) {
			a.alerting.dispatcher.Kick() // deliver now, not at the next tick
			if next != nil {
				next(ctx, ev)
			}
		}
	}
	if cfg.Web.BaseURL != "" {
		if a.websub, err = newWebSub(a, cfg, log); err != nil {
			st.Close()
			return nil, err
		}
		mopts.OnHub = a.subscribeHub
	}
	a.monitor, err = monitor.New(mopts)
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) Close() error { return a.store.Close() }

// newWebSub keeps WebSub subscriptions in the data dir; a verified push goes
// through the same pipeline as a fetch of its source.
func newWebSub(a *app, cfg *config.Config, log *slog.Logger) (*websub.Subscriber, error) {
	return websub.New(websub.Options{
		CallbackBase: cfg.Web.BaseURL,
		File:         filepath.Join(cfg.Index.Dir, "websub.json"),
		Logger:       log,
		Deliver: func(ctx context.Context, sourceID string, body []byte) error {
			_, err := a.monitor.Push(ctx, sourceID, body, "")
			return err
		},
	})
}

// subscribeHub subscribes to a feed's hub unless a live subscription exists;
// the subscriber renews those before they expire.
func (a *app) subscribeHub(ctx context.Context, src news.Source, hub, topic string) {
	for _, s := range a.websub.Subscriptions() {
		if s.SourceID == src.ID && s.Hub == hub && s.Topic == topic && time.Until(s.Expires) > 0 {
			return
		}
	}
	if err := a.websub.Subscribe(ctx, src.ID, hub, topic); err != nil {
		a.log.Warn("websub subscribe failed; polling goes on", "source", src.ID, "hub", hub, "error", err)
	}
}

// newClassifier compiles the config's topics and rules; each bad rule is
// reported with the file, line and column of its query.
func newClassifier(cfg *config.Config) (*classify.Classifier, error) {
	x, err := entities.New()
	if err != nil {
		return nil, fmt.Errorf("load gazetteer: %w", err)
	}
	opts := classify.Options{Entities: x}
	for _, t := range cfg.Topics {
		opts.Topics = append(opts.Topics, classify.TopicDef{ID: t.ID, Threshold: t.Threshold})
		for _, r := range t.Rules {
			opts.Rules = append(opts.Rules, classify.RuleText{
				ID: r.ID, Topic: t.ID, Query: r.Query, Language: r.Language, Weight: r.Weight,
				File: r.Pos.File, Line: r.Pos.Line, Col: r.Pos.Col,
			})
		}
	}
	cl, err := classify.New(opts)
	if err != nil {
		return nil, usageError{err}
	}
	return cl, nil
}

func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*disk.Store, error) {
	switch cfg.Index.Backend {
	case "", "embedded":
		st, err := disk.Open(ctx, disk.Options{Dir: cfg.Index.Dir, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open embedded index in %s: %w", cfg.Index.Dir, err)
		}
		return st, nil
	case "elasticsearch":
		return nil, usageError{errors.New("index backend \"elasticsearch\" is not built into this version yet; use \"embedded\"")}
	}
	return nil, usageError{fmt.Errorf("unknown index backend %q", cfg.Index.Backend)}
}

func newFetcher(cfg *config.Config, log *slog.Logger) (*fetch.Fetcher, error) {
	fc := cfg.Fetch
	return fetch.New(fetch.Options{
		UserAgent:          fc.UserAgentHeader(),
		Timeout:            fc.Timeout.Duration,
		MaxBodyBytes:       fc.MaxBodyBytes,
		AllowPrivate:       fc.AllowPrivate,
		PerHostConcurrency: fc.PerHostConcurrency,
		PerHostDelay:       fc.PerHostDelay.Duration,
		Retries:            fc.Retries,
		IgnoreRobots:       fc.IgnoreRobots,
		Logger:             log,
	})
}

// webServer builds the HTTP handler over the app's index and monitor.
func (a *app) webServer() (*web.Server, error) {
	opts := web.Options{
		Searcher:   a.store,
		Events:     a.store,
		Saved:      a.store,
		Logger:     a.log,
		Gatherer:   a.reg,
		Registerer: a.reg,
		Ready: func(ctx context.Context) error {
			_, err := a.store.Stats(ctx)
			return err
		},
	}
	if a.monitor != nil {
		opts.Sources = sourceLister{a.monitor}
	}
	return web.New(opts)
}

// sourceLister adapts the monitor's statuses to the web package's view of them.
type sourceLister struct{ m *monitor.Monitor }

func (l sourceLister) SourceStatuses(ctx context.Context) ([]web.SourceStatus, error) {
	sts, err := l.m.Statuses(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.SourceStatus, len(sts))
	for i, s := range sts {
		out[i] = web.SourceStatus{Source: s.Source, State: s.State, NextRun: s.NextRun}
	}
	return out, nil
}

package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/minewatch/minewatch/classify"
	"github.com/minewatch/minewatch/classify/entities"
	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/index/elastic"
	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/monitor"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/redact"
	"github.com/minewatch/minewatch/web"
	"github.com/minewatch/minewatch/websub"
)

// app is the pipeline built from one config: the composition root's product.
type app struct {
	cfg        *config.Config
	log        *slog.Logger
	reg        *prometheus.Registry
	store      backend
	classifier *classify.Classifier
	monitor    *monitor.Monitor
	alerting   *alerting           // nil when the config has no alerts or subscribers
	websub     *websub.Subscriber  // nil without web.base_url (hubs need a public callback)
	getenv     func(string) string // resolves the secrets the config names
}

// backend is what the commands need of an index. Both backends, the embedded
// one (index/disk) and Elasticsearch (index/elastic), implement all of it and
// pass the same contract suite (index/indextest).
type backend interface {
	index.Store
	index.StateStore
	index.EventStore
	index.URLChecker
	index.SearchSaver
	index.StoryFinder
	index.StoryLister
	index.Outbox
	// Ready reports whether the index answers, for /readyz.
	Ready(ctx context.Context) error
}

// diskBackend adds readiness to the embedded index.
type diskBackend struct{ *disk.Store }

func (d diskBackend) Ready(ctx context.Context) error {
	_, err := d.Stats(ctx)
	return err
}

// elasticBackend adds readiness to the Elasticsearch index.
type elasticBackend struct{ *elastic.Store }

func (e elasticBackend) Ready(ctx context.Context) error { return e.Ping(ctx) }

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
	env := bo.getenv
	if env == nil {
		env = os.Getenv // the composition root may read the process environment
	}
	st, err := openStore(ctx, cfg, log, env)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, reg: prometheus.NewRegistry(), store: st, classifier: cl, getenv: env}
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

func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger, getenv func(string) string) (backend, error) {
	switch cfg.Index.Backend {
	case "", config.BackendEmbedded:
		st, err := disk.Open(ctx, disk.Options{Dir: cfg.Index.Dir, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open embedded index in %s: %w", cfg.Index.Dir, err)
		}
		return diskBackend{st}, nil
	case config.BackendElasticsearch:
		st, err := openElastic(ctx, cfg, log, getenv, false)
		if err != nil {
			return nil, err
		}
		return elasticBackend{st}, nil
	}
	return nil, usageError{fmt.Errorf("unknown index backend %q", cfg.Index.Backend)}
}

// openElastic connects to the cluster the config names, with the secrets
// read from the environment variables it names. autoInit creates the
// template, first index and aliases when they are missing.
func openElastic(ctx context.Context, cfg *config.Config, log *slog.Logger, getenv func(string) string, autoInit bool) (*elastic.Store, error) {
	ec := cfg.Index.Elasticsearch
	opts := elastic.Options{
		URLs: ec.URLs, Username: ec.Username, CAFile: ec.CAFile, IndexPrefix: ec.IndexPrefix,
		Logger: log, AutoInit: autoInit,
	}
	if ec.PasswordEnv != "" {
		opts.Password = getenv(ec.PasswordEnv)
	}
	if ec.APIKeyEnv != "" {
		opts.APIKey = getenv(ec.APIKeyEnv)
	}
	st, err := elastic.Open(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("open elasticsearch index at %v: %w", ec.URLs, err)
	}
	return st, nil
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

// webServer builds the HTTP handler over the app's index and monitor, with
// logins off and no admin actions (tests, and the loopback default).
func (a *app) webServer() (*web.Server, error) {
	return a.newWebServer(nil, web.AdminOptions{})
}

// newWebServer builds the HTTP handler; auth nil means logins are off.
func (a *app) newWebServer(auth *web.AuthOptions, admin web.AdminOptions) (*web.Server, error) {
	opts := web.Options{
		Searcher:      a.store,
		Events:        a.store,
		Saved:         a.store,
		Logger:        a.log,
		Gatherer:      a.reg,
		Registerer:    a.reg,
		Ready:         a.ready,
		Auth:          auth,
		Admin:         admin,
		SecureCookies: strings.HasPrefix(a.cfg.Web.BaseURL, "https://"),
	}
	if a.monitor != nil {
		opts.Sources = sourceLister{a.monitor}
	}
	return web.New(opts)
}

// adminActions are the admin page's actions over this app; base is the
// server's lifetime, which a background reclassification runs on.
func (a *app) adminActions(base context.Context) (web.AdminOptions, *adminReclassifier) {
	recl := newAdminReclassifier(base, a.store, a.classifier, a.log)
	opts := web.AdminOptions{
		Rules:        adminRules{cl: a.classifier},
		Reclassifier: recl,
		Alerts:       adminAlerts{cfg: a.cfg, getenv: a.getenv, log: a.log},
	}
	if a.monitor != nil {
		opts.Fetcher = &adminFetcher{m: a.monitor, inFlight: map[string]bool{}}
	}
	return opts, recl
}

// errNoLogin is the refusal to serve beyond loopback with nobody able to
// sign in; its message says what to add.
var errNoLogin = errors.New("no web.users or web.tokens are configured")

// webAuth decides whether the server at addr needs logins and builds them
// from the config: always with web.auth: required, and with the default
// (auto) whenever the address it is bound to is not loopback. nil means
// logins are off.
func (a *app) webAuth(addr net.Addr) (*web.AuthOptions, error) {
	w := a.cfg.Web
	beyond := !isLoopback(addr)
	if !beyond && w.Auth != config.AuthRequired {
		return nil, nil
	}
	if len(w.Users) == 0 && len(w.Tokens) == 0 {
		why := "web.auth is \"required\""
		if beyond {
			why = fmt.Sprintf("listening on %s, beyond loopback, needs a login", addr)
		}
		return nil, usageError{fmt.Errorf("%s, but %w in %s. Add a user under web.users "+
			"(name, role: viewer or admin, password_hash from `minewatch users hash-password`) "+
			"or an API token under web.tokens (name, role, token_env or token_hash from `minewatch users new-token`), "+
			"or listen on 127.0.0.1", why, errNoLogin, a.cfg.File)}
	}
	opts := &web.AuthOptions{SessionTTL: w.SessionTTL.Duration, PublicMetrics: w.PublicMetrics}
	for _, p := range w.TrustedProxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, usageError{fmt.Errorf("web.trusted_proxies: %q is not an IP address or CIDR prefix", p)}
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		opts.TrustedProxies = append(opts.TrustedProxies, pfx)
	}
	for _, u := range w.Users {
		opts.Users = append(opts.Users, web.User{Name: u.Name, Role: web.Role(u.Role), PasswordHash: u.PasswordHash})
	}
	var errs []error
	for _, t := range w.Tokens {
		tok := web.Token{Name: t.Name, Role: web.Role(t.Role)}
		hexHash := t.TokenHash
		if t.TokenEnv != "" {
			secret := a.getenv(t.TokenEnv)
			if secret == "" {
				errs = append(errs, fmt.Errorf("%s: web token %s: environment variable %s (token_env) is empty or unset", t.Pos, t.Name, t.TokenEnv))
				continue
			}
			hexHash = web.HashToken(secret)
		}
		b, err := hex.DecodeString(hexHash)
		if err != nil || len(b) != len(tok.SHA256) {
			errs = append(errs, fmt.Errorf("%s: web token %s: token_hash is not a SHA-256 in hex", t.Pos, t.Name))
			continue
		}
		copy(tok.SHA256[:], b)
		opts.Tokens = append(opts.Tokens, tok)
	}
	if len(errs) > 0 {
		return nil, usageError{errors.Join(errs...)}
	}
	return opts, nil
}

// isLoopback reports whether a listener is bound to a loopback address
// only. The bound address, not the configured host name, is what counts:
// a name may resolve anywhere, and 0.0.0.0 or [::] is every interface.
func isLoopback(addr net.Addr) bool {
	if ta, ok := addr.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	ap, err := netip.ParseAddrPort(addr.String())
	return err == nil && ap.Addr().IsLoopback()
}

// ready is /readyz: the index answers and, in a serving process, the
// scheduler runs.
func (a *app) ready(ctx context.Context) error {
	if err := a.store.Ready(ctx); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if a.monitor != nil && !a.monitor.Running() {
		return errors.New("scheduler not running")
	}
	return nil
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
		redactSource(&out[i].Source, &out[i].State)
	}
	return out, nil
}

// redactSource masks the credentials a source's URLs may carry (an API key
// in the query string, a password in userinfo) and the URLs its last error
// quotes, for everything that shows sources outside the process: the
// /sources page, the JSON API, the admin page and `minewatch sources`.
func redactSource(src *news.Source, st *news.SourceState) {
	src.URL = redact.URL(src.URL)
	if st.URL != "" {
		st.URL = redact.URL(st.URL)
	}
	st.LastError = redact.Text(st.LastError)
}

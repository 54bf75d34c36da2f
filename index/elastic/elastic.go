// Package elastic is the Elasticsearch 8 index backend: articles in monthly indices
// behind write and read aliases, plus source state, events, saved searches and the outbox.
package elastic

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	elasticsearch "github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/minewatch/minewatch/index"
)

// badPrefixChars are the characters Elasticsearch refuses in index names.
const badPrefixChars = `\/*?"<>| ,#:`

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("elastic: store is closed")

// ErrNotInitialized is returned by Open when the aliases Init creates are
// missing and Options.AutoInit is off.
var ErrNotInitialized = errors.New("elastic: indices not initialised (run minewatch index init)")

// Refresh policies for writes (the Elasticsearch refresh parameter).
const (
	// RefreshWaitFor makes a write return once it is visible to search, which
	// the index contract (Put then Search) requires. It is the default.
	RefreshWaitFor = "wait_for"
	// RefreshNone returns as soon as the write is durable; searches see it
	// after the next periodic refresh (1s by default).
	RefreshNone = "false"
)

// Options configure Open.
type Options struct {
	URLs []string
	// Username and Password, or APIKey (base64 "id:key" as Kibana shows it),
	// authenticate; secrets come from the environment via config, the caller
	// resolves them.
	Username, Password, APIKey string
	// CAFile is a PEM bundle that signs the cluster's certificate.
	CAFile string
	// IndexPrefix names everything: <prefix>-articles-YYYY.MM behind the
	// aliases <prefix>-articles-write and <prefix>-articles-read, and
	// <prefix>-state, <prefix>-events, <prefix>-searches, <prefix>-outbox.
	// Default "minewatch".
	IndexPrefix string
	// FlushBytes and FlushInterval bound a bulk request (defaults 5 MB, 1s);
	// Workers is the number of concurrent bulk requests (default 2).
	FlushBytes    int
	FlushInterval time.Duration
	Workers       int
	// Refresh is the refresh policy of writes: RefreshWaitFor (default) or
	// RefreshNone for bulk loads where read-after-write does not matter.
	Refresh string
	// MaxRetries bounds retries of a whole request (429, 502, 503, 504) and of
	// a per-item 429 or 5xx inside a bulk response. Default 5.
	MaxRetries int
	// Backoff is the wait before retry n (1-based); nil means exponential from
	// 100ms to 10s with jitter.
	Backoff func(attempt int) time.Duration
	// Gzip compresses request bodies.
	Gzip bool
	// AutoInit runs Init in Open, so a fresh cluster needs no separate
	// "index init" step. The CLI leaves it off for serving commands.
	AutoInit bool
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
	Logger    *slog.Logger
	// Now is the clock that picks the monthly index; nil means time.Now.
	Now func() time.Time
}

// Store is the Elasticsearch backend. It is safe for concurrent use, and many
// processes may share one cluster: every piece of shared state lives there.
type Store struct {
	es      *elasticsearch.Client
	log     *slog.Logger
	now     func() time.Time
	names   names
	refresh string
	backoff func(int) time.Duration
	retries int

	bulk esutil.BulkIndexer

	// mu guards closed; Put holds it for reading while it adds to the bulk
	// indexer so Close cannot close the indexer under it.
	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup

	// month is the YYYY.MM of the index the write alias is known to point at,
	// so the monthly switch is checked once per month, not per Put.
	monthMu sync.Mutex
	month   string

	counters counters
}

var (
	_ index.Store       = (*Store)(nil)
	_ index.StateStore  = (*Store)(nil)
	_ index.EventStore  = (*Store)(nil)
	_ index.URLChecker  = (*Store)(nil)
	_ index.SearchSaver = (*Store)(nil)
	_ index.StoryFinder = (*Store)(nil)
	_ index.StoryLister = (*Store)(nil)
	_ index.Outbox      = (*Store)(nil)
)

// names are the index and alias names derived from the prefix.
type names struct {
	prefix, template, write, read, pattern, state, events, searches, outbox string
}

func newNames(prefix string) names {
	return names{
		prefix:   prefix,
		template: prefix + "-articles",
		write:    prefix + "-articles-write",
		read:     prefix + "-articles-read",
		pattern:  prefix + "-articles-*",
		state:    prefix + "-state",
		events:   prefix + "-events",
		searches: prefix + "-searches",
		outbox:   prefix + "-outbox",
	}
}

// monthly is the name of the articles index for the month of t.
func (n names) monthly(t time.Time) string {
	return n.prefix + "-articles-" + t.UTC().Format("2006.01")
}

// Open connects to the cluster and checks that it answers. It does not create
// anything unless opts.AutoInit is set; Init does.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if len(opts.URLs) == 0 {
		return nil, errors.New("elastic: open: no URLs")
	}
	prefix := opts.IndexPrefix
	if prefix == "" {
		prefix = "minewatch"
	}
	if prefix != strings.ToLower(prefix) || strings.ContainsAny(prefix, badPrefixChars) {
		return nil, fmt.Errorf("elastic: open: index prefix %q must be lower case, without any of %q", prefix, badPrefixChars)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		log:     log,
		now:     opts.Now,
		names:   newNames(prefix),
		refresh: opts.Refresh,
		backoff: opts.Backoff,
		retries: opts.MaxRetries,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.refresh == "" {
		s.refresh = RefreshWaitFor
	}
	if s.retries <= 0 {
		s.retries = 5
	}
	if s.backoff == nil {
		s.backoff = defaultBackoff
	}
	cfg := elasticsearch.Config{
		Addresses:     opts.URLs,
		Username:      opts.Username,
		Password:      opts.Password,
		APIKey:        opts.APIKey,
		Transport:     opts.Transport,
		RetryOnStatus: []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
		MaxRetries:    s.retries,
		RetryBackoff:  s.backoff,
		// Bulk bodies compress about fivefold; worth it on a remote
		// cluster, a waste of CPU on localhost.
		CompressRequestBody: opts.Gzip,
	}
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("elastic: open: CA file: %w", err)
		}
		if opts.Transport != nil {
			return nil, errors.New("elastic: open: CAFile and Transport are exclusive")
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("elastic: open: CA file %s holds no PEM certificate", opts.CAFile)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		cfg.Transport = tr
	}
	es, err := elasticsearch.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("elastic: open: %w", err)
	}
	s.es = es
	if err := s.ping(ctx); err != nil {
		return nil, fmt.Errorf("elastic: open: %w", err)
	}
	if opts.AutoInit {
		if err := s.Init(ctx); err != nil {
			return nil, err
		}
	}
	flushBytes := opts.FlushBytes
	if flushBytes <= 0 {
		flushBytes = 5 << 20
	}
	interval := opts.FlushInterval
	if interval <= 0 {
		interval = time.Second
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 2
	}
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		NumWorkers:    workers,
		FlushBytes:    flushBytes,
		FlushInterval: interval,
		Client:        es,
		Refresh:       s.refresh,
		// Only the per-item outcome matters; filtering the response keeps
		// a 1,000-item reply small.
		FilterPath: []string{"errors", "items.*._id", "items.*._index", "items.*.status", "items.*.error.type", "items.*.error.reason", "items.*.result"},
		OnError: func(_ context.Context, err error) {
			log.Warn("elastic bulk request failed", "err", err)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("elastic: open: bulk indexer: %w", err)
	}
	s.bulk = bi
	return s, nil
}

// ping checks the cluster answers; the client also verifies it is Elasticsearch.
func (s *Store) ping(ctx context.Context) error {
	res, err := s.es.Info(s.es.Info.WithContext(ctx))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.IsError() {
		return responseError(res)
	}
	return nil
}

// Ping checks that the cluster answers and that the read alias exists: what
// /readyz means by "index reachable".
func (s *Store) Ping(ctx context.Context) error {
	if err := s.ping(ctx); err != nil {
		return fmt.Errorf("elastic: ping: %w", err)
	}
	targets, err := s.aliasTargets(ctx, s.names.read)
	if err != nil {
		return fmt.Errorf("elastic: ping: %w", err)
	}
	if len(targets) == 0 {
		return fmt.Errorf("elastic: ping: %w", ErrNotInitialized)
	}
	return nil
}

// Close flushes what the bulk indexer holds, waits for Puts in flight (their
// retries included) and closes the indexer.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	// Puts in flight flush their own items; waiting for them first means
	// nothing they accepted is dropped by closing the indexer.
	s.inflight.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.bulk.Close(ctx); err != nil {
		return fmt.Errorf("elastic: close: %w", err)
	}
	return nil
}

// enter registers a call that must finish before Close closes the indexer.
func (s *Store) enter() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.inflight.Add(1)
	return nil
}

func defaultBackoff(attempt int) time.Duration {
	d := 100 * time.Millisecond << min(attempt-1, 7)
	d = min(d, 10*time.Second)
	// Jitter keeps several workers that were throttled together from
	// retrying in lockstep.
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

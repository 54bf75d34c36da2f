package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/mail"
	"github.com/minewatch/minewatch/news"
)

// ErrPermanent marks a delivery failure retrying cannot fix (a 4xx from a
// webhook, a 5xx from the mail server, an unknown rule or channel): the
// message expires at once.
var ErrPermanent = errors.New("alert: permanent delivery failure")

// DocGetter loads an event's first article (index.Store.Get).
type DocGetter interface {
	Get(ctx context.Context, id string) (news.Document, error)
}

// MailSender sends one e-mail (mail.Sender).
type MailSender interface {
	Send(ctx context.Context, m mail.Message) error
}

// DigestRenderer renders a digest message when it is sent, so it shows what
// the index holds then. send is false when there is nothing to send (an
// empty period for a subscriber who asked for no "nothing new" mail).
type DigestRenderer interface {
	RenderDigest(ctx context.Context, m news.Message) (msg mail.Message, send bool, err error)
}

// DispatcherOptions configure a Dispatcher. Queue is required; Mail, Digests
// and Docs are needed by the messages that use them.
type DispatcherOptions struct {
	Queue   index.Outbox
	Docs    DocGetter
	Rules   []Rule
	Mail    MailSender
	Digests DigestRenderer
	HTTP    *http.Client // nil: a client with a 15s timeout
	BaseURL string       // web.base_url, for links to the article page

	// Lease is how long a leased message is ours before another worker may
	// take it. When Queue is an index.LeaseRenewer (both backends are) the
	// lease is renewed every Lease/3 while an attempt runs, so it can be
	// short and a crashed process's messages come back soon: 0 means 20s.
	// Otherwise it must outlast the longest attempt (an SMTP send with its
	// retries takes minutes): 0 means 5m. Either way an attempt whose lease
	// could not be kept is cancelled before the lease runs out.
	Lease       time.Duration
	Batch       int           // messages handled per RunOnce; 0 means 32
	Parallel    int           // deliveries at once, each worker leasing one message at a time; 0 means 4
	Tick        time.Duration // polling for retries and other processes' messages; 0 means 15s
	MaxAttempts int           // then the message expires; 0 means 12
	MaxAge      time.Duration // since Created, then it expires; 0 means 72h
	Backoff     time.Duration // first retry delay, doubled each attempt; 0 means 30s
	MaxBackoff  time.Duration // 0 means 2h

	Now    func() time.Time
	Logger *slog.Logger
	// Registerer receives minewatch_alert_deliveries_total{channel,outcome}
	// and minewatch_outbox_pending; nil registers nothing.
	Registerer prometheus.Registerer
}

// Default leases: renewed while an attempt runs, or fixed for an outbox that
// cannot renew (see DispatcherOptions.Lease).
const (
	DefaultLease      = 20 * time.Second
	DefaultFixedLease = 5 * time.Minute
)

// errLeaseExpiring cancels an attempt whose lease could not be renewed in
// time: going on would risk a second worker delivering the same message at
// the same moment.
var errLeaseExpiring = errors.New("alert: lease about to run out without renewal")

// Delivery outcomes, the outcome label of minewatch_alert_deliveries_total.
const (
	OutcomeDelivered = "delivered" // the receiver accepted it
	OutcomeRetry     = "retry"     // failed; another attempt is scheduled
	OutcomeExpired   = "expired"   // failed for good, or too often, or too late
	OutcomeDeferred  = "deferred"  // held back by the rule's cooldown
)

// metrics are the dispatcher's Prometheus series.
type metrics struct {
	deliveries *prometheus.CounterVec
	pending    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (metrics, error) {
	m := metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minewatch_alert_deliveries_total",
			Help: "Alert and digest delivery attempts by channel kind and outcome.",
		}, []string{"channel", "outcome"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "minewatch_outbox_pending",
			Help: "Outbox messages waiting for delivery or a retry, as of the dispatcher's last round.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	// A second dispatcher on one registry (a command that builds two)
	// shares the series instead of failing.
	if err := reg.Register(m.deliveries); err != nil {
		are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
		if !ok {
			return m, fmt.Errorf("alert: register metrics: %w", err)
		}
		m.deliveries = are.ExistingCollector.(*prometheus.CounterVec)
	}
	if err := reg.Register(m.pending); err != nil {
		are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
		if !ok {
			return m, fmt.Errorf("alert: register metrics: %w", err)
		}
		m.pending = are.ExistingCollector.(prometheus.Gauge)
	}
	return m, nil
}

// Dispatcher delivers outbox messages. Run it in one goroutine per process;
// several processes may share one outbox, the lease keeps them apart.
type Dispatcher struct {
	opts  DispatcherOptions
	rules map[string]Rule
	log   *slog.Logger
	kick  chan struct{}
	m     metrics

	mu    sync.Mutex
	fired map[string]firing // rule id → last firing, for cooldowns
}

type firing struct {
	at  time.Time
	key string
}

// NewDispatcher checks the options and fills in defaults.
func NewDispatcher(opts DispatcherOptions) (*Dispatcher, error) {
	if opts.Queue == nil {
		return nil, errors.New("alert: dispatcher needs an outbox")
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	def := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	if _, ok := opts.Queue.(index.LeaseRenewer); ok {
		def(&opts.Lease, DefaultLease)
	} else {
		def(&opts.Lease, DefaultFixedLease)
	}
	def(&opts.Tick, 15*time.Second)
	def(&opts.MaxAge, 72*time.Hour)
	def(&opts.Backoff, 30*time.Second)
	def(&opts.MaxBackoff, 2*time.Hour)
	if opts.Batch <= 0 {
		opts.Batch = 32
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 12
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	d := &Dispatcher{opts: opts, rules: map[string]Rule{}, log: log, kick: make(chan struct{}, 1), m: m, fired: map[string]firing{}}
	for _, r := range opts.Rules {
		d.rules[r.ID] = r
	}
	return d, nil
}

// Kick wakes Run now, e.g. after the monitor enqueued alerts. It never blocks.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers messages until ctx ends: at start, on every Kick and on every
// tick. It returns nil when ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.loadFirings(ctx)
	t := time.NewTicker(d.opts.Tick)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			n, err := d.RunOnce(ctx)
			if err != nil {
				d.log.Error("outbox round failed", "error", err)
				break
			}
			if n < d.opts.Batch {
				break
			}
		}
		wake := time.NewTimer(d.nextWake(ctx))
		select {
		case <-ctx.Done():
			wake.Stop()
			return nil
		case <-d.kick:
		case <-t.C:
		case <-wake.C:
		}
		wake.Stop()
	}
}

// minWake keeps Run from spinning on a message that is due but that
// another worker holds.
const minWake = time.Second

// nextWake updates the pending gauge and says how long Run may sleep: until
// the earliest pending message's NextAttempt (a retry, a cooldown's end, or
// the lease of a crashed process running out) when that comes before the
// next tick, so those go out on time rather than up to a tick late.
func (d *Dispatcher) nextWake(ctx context.Context) time.Duration {
	if ctx.Err() != nil {
		return d.opts.Tick
	}
	msgs, err := d.opts.Queue.Messages(ctx, index.MessageFilter{States: []news.MessageState{news.MessagePending}, Limit: pendingLimit})
	if err != nil {
		d.log.Warn("cannot list pending messages", "error", err)
		return d.opts.Tick
	}
	d.m.pending.Set(float64(len(msgs)))
	now := d.opts.Now()
	wait := d.opts.Tick
	for _, m := range msgs {
		wait = min(wait, max(m.NextAttempt.Sub(now), minWake))
	}
	return wait
}

// loadFirings seeds the cooldowns from the outbox's delivered alerts, so a
// restart does not reset them.
func (d *Dispatcher) loadFirings(ctx context.Context) {
	if !d.anyCooldown() {
		return
	}
	msgs, err := d.opts.Queue.Messages(ctx, index.MessageFilter{Kind: news.MessageAlert, States: []news.MessageState{news.MessageDelivered}, Limit: 1000})
	if err != nil {
		d.log.Warn("cannot load past alerts for cooldowns", "error", err)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range msgs {
		if f, ok := d.fired[m.RuleID]; !ok || m.Delivered.After(f.at) {
			d.fired[m.RuleID] = firing{at: m.Delivered, key: m.Event.Key}
		}
	}
}

func (d *Dispatcher) anyCooldown() bool {
	for _, r := range d.rules {
		if r.Cooldown > 0 {
			return true
		}
	}
	return false
}

// RunOnce delivers up to Batch due messages, Parallel at a time, and records
// each outcome. It returns how many it leased. Each worker leases one
// message when it is free to send it, never a batch ahead: a message leased
// but waiting for a worker would, if the process died, wait out its lease
// for nothing.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	var (
		slots  atomic.Int64 // messages this round may still take
		leased atomic.Int64
		g      errgroup.Group
	)
	slots.Store(int64(d.opts.Batch))
	for range d.opts.Parallel {
		g.Go(func() error {
			for ctx.Err() == nil && slots.Add(-1) >= 0 {
				start := time.Now() // the lease runs from here, in this process's own time
				msgs, err := d.opts.Queue.Lease(ctx, d.opts.Now(), d.opts.Lease, 1)
				if err != nil {
					return fmt.Errorf("lease outbox: %w", err)
				}
				if len(msgs) == 0 {
					return nil
				}
				leased.Add(1)
				d.handle(ctx, msgs[0], start)
			}
			return nil
		})
	}
	err := g.Wait()
	return int(leased.Load()), err
}

// handle delivers one message leased at start and stores the outcome. The
// store write runs on a context that outlives a shutdown, so a delivered
// message is not left to be sent again because the process was asked to stop.
func (d *Dispatcher) handle(ctx context.Context, m news.Message, start time.Time) {
	store, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if until, wait := d.cooldown(m); wait {
		m.NextAttempt = until
		m.Attempts = max(m.Attempts-1, 0) // the lease counted an attempt that was not made
		if err := d.opts.Queue.Update(store, m); err != nil {
			d.log.Error("outbox update failed", "message", m.ID, "error", err)
		}
		d.m.deliveries.WithLabelValues(d.channelKind(m), OutcomeDeferred).Inc()
		d.log.Info("alert delayed by rule cooldown", "message", m.ID, "rule", m.RuleID, "until", until)
		return
	}
	d.log.Debug("delivering message", "message", m.ID, "attempt", m.Attempts)
	actx, held := d.holdLease(ctx, m, start)
	err := d.Deliver(actx, m)
	m, lost := held()
	now := d.opts.Now()
	outcome := OutcomeRetry
	switch {
	case err != nil && lost != nil:
		// Another worker may hold the message now; storing our outcome
		// would overwrite its lease. If it does not, ours runs out and the
		// message is retried.
		d.m.deliveries.WithLabelValues(d.channelKind(m), OutcomeRetry).Inc()
		d.log.Warn("delivery stopped: lease lost", "message", m.ID, "attempts", m.Attempts, "lease", lost, "error", err)
		return
	case err == nil:
		outcome = OutcomeDelivered
		m.State, m.Delivered, m.LastError = news.MessageDelivered, now, ""
		d.recordFiring(m, now)
		d.log.Info("message delivered", "message", m.ID, "attempts", m.Attempts)
	case ctx.Err() != nil:
		// Shutting down: leave it pending; the lease brings it back.
		m.LastError = err.Error()
		m.NextAttempt = now
	case errors.Is(err, ErrPermanent) || errors.Is(err, mail.ErrPermanent) ||
		m.Attempts >= d.opts.MaxAttempts || (!m.Created.IsZero() && now.Sub(m.Created) > d.opts.MaxAge):
		outcome = OutcomeExpired
		m.State, m.LastError = news.MessageExpired, err.Error()
		d.log.Error("message expired", "message", m.ID, "attempts", m.Attempts, "error", err)
	default:
		m.LastError = err.Error()
		m.NextAttempt = now.Add(retryDelay(d.opts.Backoff, d.opts.MaxBackoff, m.Attempts))
		d.log.Warn("delivery failed, will retry", "message", m.ID, "attempts", m.Attempts, "next", m.NextAttempt, "error", err)
	}
	d.m.deliveries.WithLabelValues(d.channelKind(m), outcome).Inc()
	if err := d.opts.Queue.Update(store, m); err != nil {
		d.log.Error("outbox update failed", "message", m.ID, "error", err)
	}
}

// pendingLimit bounds the pending count's query; a backlog larger than
// this shows as the limit, which is alarm enough.
const pendingLimit = 10000

// holdLease keeps m's lease, taken at start (this process's clock), while
// an attempt runs: it renews the lease every Lease/3 when the queue can,
// and cancels the returned context before the lease could run out
// unrenewed (with a quarter of it to spare for store latency and clock
// differences between workers), so no two workers ever deliver one message
// at once. held stops it and returns m as last renewed, and a non-nil
// error when the lease was lost or was about to be.
func (d *Dispatcher) holdLease(ctx context.Context, m news.Message, start time.Time) (context.Context, func() (news.Message, error)) {
	actx, cancel := context.WithCancelCause(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	var lost error
	renewer, canRenew := d.opts.Queue.(index.LeaseRenewer)
	lease := d.opts.Lease
	every, spare := lease/3, lease/4
	go func() {
		defer close(done)
		deadline := start.Add(lease - spare)
		nextRenew := start.Add(every)
		for {
			wait := time.Until(deadline)
			if canRenew {
				wait = min(wait, time.Until(nextRenew))
			}
			t := time.NewTimer(wait)
			select {
			case <-stop:
				t.Stop()
				return
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if !time.Now().Before(deadline) {
				lost = errLeaseExpiring
				cancel(lost)
				return
			}
			began := time.Now()
			rctx, rcancel := context.WithDeadline(ctx, deadline)
			renewed, err := renewer.Renew(rctx, m, d.opts.Now(), lease)
			rcancel()
			switch {
			case err == nil:
				m = renewed
				deadline, nextRenew = began.Add(lease-spare), began.Add(every)
			case errors.Is(err, index.ErrLeaseLost) || errors.Is(err, index.ErrNotFound):
				lost = err
				cancel(lost)
				return
			default:
				// The store may be briefly busy: try again soon, until the
				// deadline gives up on the attempt.
				d.log.Warn("cannot renew lease, will retry", "message", m.ID, "error", err)
				nextRenew = time.Now().Add(every / 4)
			}
		}
	}()
	return actx, func() (news.Message, error) {
		close(stop)
		<-done
		cancel(nil)
		return m, lost
	}
}

// channelKind is the channel label of a message: the kind of its channel,
// so the series stay few however many rules there are.
func (d *Dispatcher) channelKind(m news.Message) string {
	if m.Kind == news.MessageDigest {
		return "digest"
	}
	if r, ok := d.rules[m.RuleID]; ok {
		for _, ch := range r.Channels {
			if ch.ID == m.Channel {
				return ch.Kind
			}
		}
	}
	return "unknown"
}

// retryDelay is base·2^(attempts-1) capped at maxDelay, with ±20 % jitter
// so messages that failed together do not retry together.
func retryDelay(base, maxDelay time.Duration, attempts int) time.Duration {
	d := base << min(max(attempts-1, 0), 30)
	if d <= 0 || d > maxDelay {
		d = maxDelay
	}
	return d + time.Duration(rand.Int64N(int64(d)*2/5+1)) - d/5
}

func (d *Dispatcher) cooldown(m news.Message) (time.Time, bool) {
	if m.Kind != news.MessageAlert {
		return time.Time{}, false
	}
	r, ok := d.rules[m.RuleID]
	if !ok || r.Cooldown <= 0 {
		return time.Time{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.fired[m.RuleID]
	if !ok || f.key == m.Event.Key {
		return time.Time{}, false // the other channels of the same firing go now
	}
	until := f.at.Add(r.Cooldown)
	return until, d.opts.Now().Before(until)
}

func (d *Dispatcher) recordFiring(m news.Message, at time.Time) {
	if m.Kind != news.MessageAlert {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if f, ok := d.fired[m.RuleID]; !ok || f.key != m.Event.Key {
		d.fired[m.RuleID] = firing{at: at, key: m.Event.Key}
	}
}

// Deliver sends m through its channel once, without touching the outbox;
// `minewatch alerts test` uses it directly.
func (d *Dispatcher) Deliver(ctx context.Context, m news.Message) error {
	switch m.Kind {
	case news.MessageDigest:
		return d.deliverDigest(ctx, m)
	case news.MessageAlert, "":
		return d.deliverAlert(ctx, m)
	}
	return fmt.Errorf("%w: message %s has unknown kind %q", ErrPermanent, m.ID, m.Kind)
}

func (d *Dispatcher) deliverDigest(ctx context.Context, m news.Message) error {
	if d.opts.Digests == nil || d.opts.Mail == nil {
		return fmt.Errorf("digest %s: no digest renderer or mail sender configured", m.ID)
	}
	msg, send, err := d.opts.Digests.RenderDigest(ctx, m)
	if err != nil {
		return fmt.Errorf("render digest %s: %w", m.ID, err)
	}
	if !send {
		return nil
	}
	msg.ID = m.ID
	return d.opts.Mail.Send(ctx, msg)
}

func (d *Dispatcher) deliverAlert(ctx context.Context, m news.Message) error {
	r, ok := d.rules[m.RuleID]
	if !ok {
		return fmt.Errorf("%w: alert %s: no rule %q in the config", ErrPermanent, m.ID, m.RuleID)
	}
	var ch *Channel
	for i := range r.Channels {
		if r.Channels[i].ID == m.Channel {
			ch = &r.Channels[i]
		}
	}
	if ch == nil {
		return fmt.Errorf("%w: alert %s: rule %s has no channel %q", ErrPermanent, m.ID, r.ID, m.Channel)
	}
	doc := d.document(ctx, m.Event)
	n := newNotice(m, doc, d.opts.BaseURL, d.opts.Now())
	switch ch.Kind {
	case KindEmail:
		if d.opts.Mail == nil {
			return fmt.Errorf("alert %s: no mail sender configured", m.ID)
		}
		html, text, err := emailBodies(n)
		if err != nil {
			return err
		}
		return d.opts.Mail.Send(ctx, mail.Message{
			ID: m.ID, To: ch.To, Subject: "[minewatch] " + n.Subject, HTML: html, Text: text,
			Headers: map[string]string{"X-Minewatch-Rule": r.ID, "X-Minewatch-Event": m.Event.Key},
		})
	case KindWebhook:
		body, err := jsonBody(n.Payload)
		if err != nil {
			return err
		}
		return d.post(ctx, m, ch, body)
	case KindSlack:
		body, err := slackBody(n)
		if err != nil {
			return err
		}
		return d.post(ctx, m, ch, body)
	case KindTeams:
		body, err := teamsBody(n)
		if err != nil {
			return err
		}
		return d.post(ctx, m, ch, body)
	}
	return fmt.Errorf("%w: alert %s: unknown channel kind %q", ErrPermanent, m.ID, ch.Kind)
}

// document loads the event's first article; without it (deleted, or a test
// alert) the notification is built from the event alone.
func (d *Dispatcher) document(ctx context.Context, ev news.Event) news.Document {
	if d.opts.Docs == nil || ev.FirstArticleID == "" {
		return news.Document{}
	}
	doc, err := d.opts.Docs.Get(ctx, ev.FirstArticleID)
	if err != nil {
		if !errors.Is(err, index.ErrNotFound) {
			d.log.Warn("cannot load the event's article", "event", ev.Key, "article_id", ev.FirstArticleID, "error", err)
		}
		return news.Document{}
	}
	return doc
}

func (d *Dispatcher) post(ctx context.Context, m news.Message, ch *Channel, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ch.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: alert %s: %v", ErrPermanent, m.ID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "minewatch")
	if ch.Kind == KindWebhook {
		req.Header.Set("X-Minewatch-Delivery", m.ID)
		event := "alert"
		if strings.HasPrefix(m.ID, "test/") {
			event = "test"
		}
		req.Header.Set("X-Minewatch-Event", event)
		if len(ch.Secret) > 0 {
			req.Header.Set("X-Minewatch-Signature", Sign(ch.Secret, body))
		}
	}
	resp, err := d.opts.HTTP.Do(req)
	if err != nil {
		// *url.Error repeats the whole URL, and with it the credential that
		// Slack and Teams put in the path; keep only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post %s to %s: %w", m.ID, redact(ch.URL), err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("post %s to %s: %s: %s", m.ID, redact(ch.URL), resp.Status, strings.TrimSpace(string(snippet)))
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	return err
}

// redact drops a webhook URL's path: Slack and Teams put the credential in it.
func redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "(webhook)"
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host + "/…"
}

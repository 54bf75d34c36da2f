package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minewatch/minewatch/alert"
	"github.com/minewatch/minewatch/classify"
	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/digest"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/monitor"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/web"
	"github.com/minewatch/minewatch/websub"
)

// alertFlags are benchAlerts' flags.
type alertFlags struct {
	events, outlets      int
	digestArticles, runs int
	perHostDelay         time.Duration
	timeout              time.Duration
	cases                []string
	dir                  string
	cpuProfile           string
	log                  *slog.Logger
}

// Case names of the alert benchmark.
const (
	caseFetch  = "fetch"
	caseWebSub = "websub"
	caseDigest = "digest"
)

// benchAlerts measures issue #7's latencies through the real pipeline: a
// polled feed's new item to the signed webhook, a WebSub push to the webhook,
// and a followed-everything digest built from the index and rendered.
func benchAlerts(ctx context.Context, args []string, out io.Writer) error {
	var af alertFlags
	fs := flag.NewFlagSet("alerts", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&af.events, "events", 200, fmt.Sprintf("new events per latency case (at most %d distinct keys)", len(alertCountries)*len(alertStages)*len(alertTreaties)))
	fs.IntVar(&af.outlets, "outlets", 20, "outlets the events are spread over, each with a feed host and a page host")
	fs.IntVar(&af.digestArticles, "digest-articles", 5000, "articles in the digest period")
	fs.IntVar(&af.runs, "digest-runs", 20, "timed digest renders")
	fs.DurationVar(&af.perHostDelay, "per-host-delay", 0, "override the config's per-host delay (0: the config default; negative: none)")
	fs.DurationVar(&af.timeout, "timeout", 30*time.Second, "longest wait for one alert before the run fails")
	cases := fs.String("cases", "fetch,websub,digest", "cases to run, comma-separated: fetch, websub, digest")
	fs.StringVar(&af.dir, "dir", "", "work directory for the indexes (default: a temporary directory, removed afterwards)")
	verbose := fs.Bool("v", false, "log the pipeline to stderr")
	fs.StringVar(&af.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed digest renders to this path with .digest appended")
	if err := fs.Parse(args); err != nil {
		return err
	}
	af.log = slog.New(slog.DiscardHandler)
	if *verbose {
		af.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	maxEvents := len(alertCountries) * len(alertStages) * len(alertTreaties)
	if af.events < 1 || af.events > maxEvents || af.outlets < 1 || af.digestArticles < 1 || af.runs < 1 || af.timeout <= 0 {
		return fmt.Errorf("alerts: -events must be in [1,%d]; -outlets, -digest-articles, -digest-runs and -timeout positive", maxEvents)
	}
	for c := range strings.SplitSeq(*cases, ",") {
		switch c = strings.TrimSpace(c); c {
		case caseFetch, caseWebSub, caseDigest:
			af.cases = append(af.cases, c)
		case "":
		default:
			return fmt.Errorf("alerts: -cases: unknown case %q", c)
		}
	}
	if af.dir == "" {
		tmp, err := os.MkdirTemp("", "minewatch-bench-alerts-")
		if err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		defer os.RemoveAll(tmp)
		af.dir = tmp
	}
	cfg := config.Default()
	cfg.Fetch.AllowPrivate = append(cfg.Fetch.AllowPrivate, "127.0.0.0/8")
	switch {
	case af.perHostDelay < 0:
		cfg.Fetch.PerHostDelay.Duration = -1 // fetch reads a negative delay as none
	case af.perHostDelay > 0:
		cfg.Fetch.PerHostDelay.Duration = af.perHostDelay
	}
	cl, err := farmClassifier(cfg)
	if err != nil {
		return err
	}
	evs, err := alertEvents(cl, af.events, af.outlets)
	if err != nil {
		return err
	}

	var rows []latencyRow
	for _, c := range af.cases {
		var (
			row latencyRow
			err error
		)
		dir := filepath.Join(af.dir, c)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		switch c {
		case caseFetch:
			row, err = runFetchCase(ctx, cfg, cl, evs, af, dir)
		case caseWebSub:
			row, err = runWebSubCase(ctx, cfg, cl, evs, af, dir)
		case caseDigest:
			row, err = runDigestCase(ctx, af, dir)
		}
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	writeAlertReport(out, af, cfg, rows)
	return nil
}

// latencyRow is one line of the report.
type latencyRow struct {
	name string
	lat  []time.Duration
	goal time.Duration
	note string
}

func (r latencyRow) pct(p float64) time.Duration {
	s := slices.Sorted(slices.Values(r.lat))
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func writeAlertReport(out io.Writer, af alertFlags, cfg *config.Config, rows []latencyRow) {
	fmt.Fprintf(out, "command: go run ./cmd/bench alerts %s\n", strings.Join(os.Args[min(len(os.Args), 2):], " "))
	fmt.Fprintf(out, "real pipeline on 127.0.0.1: default rule pack, embedded index, monitor → outbox → dispatcher → signed webhook; %d outlets, per-host delay %s\n\n",
		af.outlets, max(cfg.Fetch.PerHostDelay.Duration, 0))
	fmt.Fprintln(out, "| case | n | p50 | p99 | max | goal | met? |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|")
	for _, r := range rows {
		s := slices.Sorted(slices.Values(r.lat))
		fmt.Fprintf(out, "| %s | %d | %s | %s | %s | p99 ≤ %s | %s |\n", r.name, len(r.lat),
			fmtDur(r.pct(.50)), fmtDur(r.pct(.99)), fmtDur(s[len(s)-1]), r.goal, met(r.pct(.99) <= r.goal))
	}
	fmt.Fprintln(out)
	for _, r := range rows {
		if r.note != "" {
			fmt.Fprintf(out, "%s: %s\n", r.name, r.note)
		}
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.0f µs", float64(d)/1e3)
}

// The events: each country × withdrawal stage × treaty is a distinct key.
var (
	alertCountries = []struct{ code, name string }{
		{"PL", "Poland"}, {"FI", "Finland"}, {"EE", "Estonia"}, {"LV", "Latvia"}, {"LT", "Lithuania"},
		{"UA", "Ukraine"}, {"NO", "Norway"}, {"DE", "Germany"}, {"FR", "France"}, {"KH", "Cambodia"},
		{"AO", "Angola"}, {"CO", "Colombia"}, {"SE", "Sweden"}, {"CA", "Canada"}, {"CL", "Chile"},
		{"PE", "Peru"}, {"JP", "Japan"}, {"AU", "Australia"}, {"MX", "Mexico"}, {"BR", "Brazil"},
		{"IT", "Italy"}, {"ES", "Spain"}, {"PT", "Portugal"}, {"AT", "Austria"}, {"IE", "Ireland"},
		{"BE", "Belgium"}, {"DK", "Denmark"}, {"HU", "Hungary"}, {"RO", "Romania"}, {"BG", "Bulgaria"},
	}
	alertStages = []struct {
		action news.Action
		format string // country, treaty
	}{
		{news.ActionWithdrawAnnounce, "%s announced its withdrawal from %s on Monday."},
		{news.ActionWithdrawVote, "The parliament of %s voted to withdraw from %s."},
		{news.ActionWithdrawNotify, "%s deposited its notification of withdrawal from %s with the UN Secretary-General."},
		{news.ActionWithdrawEffective, "The withdrawal of %s from %s took effect today."},
	}
	alertTreaties = []struct {
		treaty news.Treaty
		name   string
	}{
		{news.TreatyOttawa, "the Ottawa Convention banning anti-personnel landmines"},
		{news.TreatyCCM, "the Convention on Cluster Munitions"},
	}
)

// alertEvent is one article that reports one new event.
type alertEvent struct {
	key, title, text string
	outlet           int
	published        time.Time
}

// alertEpoch dates the benchmark's articles.
var alertEpoch = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)

// alertEvents makes n articles with distinct event keys, stages varying
// fastest so neighbouring articles are of different countries. Each is
// checked with the default rules: it must yield exactly its own event, or
// the benchmark would wait for an alert the pipeline rightly never sends.
func alertEvents(cl *classify.Classifier, n, outlets int) ([]alertEvent, error) {
	out := make([]alertEvent, 0, n)
	for i := range n {
		st := alertStages[i%len(alertStages)]
		tr := alertTreaties[(i/len(alertStages))%len(alertTreaties)]
		c := alertCountries[i/(len(alertStages)*len(alertTreaties))]
		sentence := fmt.Sprintf(st.format, c.name, tr.name)
		seed := mix(uint64(i) + 77)
		ev := alertEvent{
			key:       news.EventKey(c.code, st.action, tr.treaty),
			title:     strings.TrimSuffix(sentence, "."),
			text:      sentence + " " + neutralText(seed, 3),
			outlet:    i % outlets,
			published: alertEpoch.Add(time.Duration(i) * time.Minute),
		}
		got := cl.Classify(news.Article{Title: ev.title, Text: ev.text, Language: "en", Published: ev.published})
		var keys []string
		for _, e := range got.Entities {
			keys = append(keys, e.Key())
		}
		if !got.Relevant || len(keys) != 1 || keys[0] != ev.key {
			return nil, fmt.Errorf("alerts: article %q gives events %v (relevant %v), want exactly %s", ev.title, keys, got.Relevant, ev.key)
		}
		out = append(out, ev)
	}
	return out, nil
}

// neutralText is k sentences of the farm's pseudo-words: text that names no
// country and no treaty step, so an article's event is its first sentence's.
func neutralText(seed uint64, k int) string {
	var b strings.Builder
	s := seed
	for i := range k {
		if i > 0 {
			b.WriteByte(' ')
		}
		s = pseudoSentence(&b, mix(s+uint64(i)), 10, 8)
	}
	return b.String()
}

// newsSite serves the outlets: outlet k's feed on one loopback address and
// its article pages on another, as outlets often serve feeds and pages from
// different hosts; the fetcher's per-host politeness then does not delay a
// new item's page behind the feed fetch that found it.
type newsSite struct {
	events []alertEvent
	hub    string // advertised by every feed when set

	mu        sync.Mutex
	published []int // per outlet: its events published so far (a prefix of byOutlet)
	byOutlet  [][]int
	served    map[int]time.Time // event → when a feed body with it was first served

	feedBase, pageBase []string // per outlet: http://addr:port
	srv                *http.Server
	wg                 sync.WaitGroup
}

// siteHost is the i-th loopback address the site listens on; 127.0.0.1 is
// left to httptest servers.
func siteHost(i int) string { return hostAddr(i + 1) }

func startNewsSite(ctx context.Context, events []alertEvent, outlets int, hub string) (*newsSite, error) {
	s := &newsSite{events: events, hub: hub, published: make([]int, outlets), byOutlet: make([][]int, outlets),
		served: map[int]time.Time{}}
	for i, ev := range events {
		s.byOutlet[ev.outlet] = append(s.byOutlet[ev.outlet], i)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	var lc net.ListenConfig
	for k := range outlets {
		for j, base := range []*[]string{&s.feedBase, &s.pageBase} {
			ln, err := lc.Listen(ctx, "tcp", siteHost(2*k+j)+":0")
			if err != nil {
				s.close()
				return nil, fmt.Errorf("news site: listen: %w", err)
			}
			*base = append(*base, "http://"+ln.Addr().String())
			s.wg.Go(func() { _ = s.srv.Serve(ln) })
		}
	}
	return s, nil
}

func (s *newsSite) close() {
	_ = s.srv.Close()
	s.wg.Wait()
}

func (s *newsSite) feedURL(outlet int) string {
	return fmt.Sprintf("%s/feed/%d", s.feedBase[outlet], outlet)
}

func (s *newsSite) sourceID(outlet int) string { return fmt.Sprintf("outlet-%02d", outlet) }

func (s *newsSite) sources() []news.Source {
	out := make([]news.Source, len(s.feedBase))
	for k := range out {
		out[k] = news.Source{ID: s.sourceID(k), Name: fmt.Sprintf("Outlet %d", k), Kind: news.KindFeed,
			URL: s.feedURL(k), Language: "en", Schedule: config.DefaultFeedSchedule, FetchPages: true}
	}
	return out
}

// publish adds event i to its outlet's feed; events of an outlet are
// published in order.
func (s *newsSite) publish(i int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.events[i].outlet
	if n := s.published[k]; n >= len(s.byOutlet[k]) || s.byOutlet[k][n] != i {
		return fmt.Errorf("news site: event %d published out of order", i)
	}
	s.published[k]++
	return nil
}

func (s *newsSite) servedAt(i int) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.served[i]
	return t, ok
}

// feedItems is the outlet's feed as published: newest first, at most 20.
func (s *newsSite) feedItems(k int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	items := slices.Clone(s.byOutlet[k][:s.published[k]])
	slices.Reverse(items)
	return items[:min(len(items), 20)]
}

func (s *newsSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/robots.txt":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "User-agent: *\nAllow: /\n")
	case strings.HasPrefix(p, "/feed/"):
		k, err := strconv.Atoi(strings.TrimPrefix(p, "/feed/"))
		if err != nil || k < 0 || k >= len(s.feedBase) {
			http.NotFound(w, r)
			return
		}
		items := s.feedItems(k)
		etag := `"base"`
		if len(items) > 0 {
			etag = fmt.Sprintf(`"e%d"`, items[0]) // the newest event names the version
		}
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := s.feedBody(k, items)
		// The clock of an event starts when the first body with it leaves.
		now := time.Now()
		s.mu.Lock()
		for _, i := range items {
			if _, ok := s.served[i]; !ok {
				s.served[i] = now
			}
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(body)
	case strings.HasPrefix(p, "/a/"):
		s.servePage(w, r, strings.TrimPrefix(p, "/a/"))
	default:
		http.NotFound(w, r)
	}
}

// feedBody is outlet k's RSS with the given events and one older,
// unrelated item that the warm-up cycle indexes.
func (s *newsSite) feedBody(k int, items []int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Outlet %d</title><link>%s/</link><description>News of outlet %d</description><language>en</language>
`, k, s.pageBase[k], k)
	if s.hub != "" {
		fmt.Fprintf(&b, `<atom:link rel="hub" href="%s"/><atom:link rel="self" href="%s"/>`+"\n", s.hub, s.feedURL(k))
	}
	item := func(path, title, text string, pub time.Time) {
		link := s.pageBase[k] + "/a/" + path
		b.WriteString("<item><title>")
		xml.EscapeText(&b, []byte(title))
		fmt.Fprintf(&b, "</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate><description>", link, link, pub.Format(time.RFC1123Z))
		xml.EscapeText(&b, []byte(text))
		b.WriteString("</description></item>\n")
	}
	for _, i := range items {
		ev := s.events[i]
		item(strconv.Itoa(i), ev.title, ev.text, ev.published)
	}
	title, text := baseArticle(k)
	item("base-"+strconv.Itoa(k), title, text, alertEpoch.Add(-time.Hour))
	b.WriteString("</channel></rss>\n")
	return []byte(b.String())
}

func baseArticle(k int) (title, text string) {
	return fmt.Sprintf("Outlet %d opens a new regional office", k), neutralText(mix(uint64(k)+9001), 4)
}

func (s *newsSite) servePage(w http.ResponseWriter, r *http.Request, id string) {
	var title, text string
	var pub time.Time
	if rest, ok := strings.CutPrefix(id, "base-"); ok {
		k, err := strconv.Atoi(rest)
		if err != nil || k < 0 || k >= len(s.feedBase) {
			http.NotFound(w, r)
			return
		}
		title, text = baseArticle(k)
		pub = alertEpoch.Add(-time.Hour)
	} else {
		i, err := strconv.Atoi(id)
		if err != nil || i < 0 || i >= len(s.events) {
			http.NotFound(w, r)
			return
		}
		title, text, pub = s.events[i].title, s.events[i].text, s.events[i].published
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
	xml.EscapeText(&b, []byte(title))
	fmt.Fprintf(&b, "</title><meta property=\"article:published_time\" content=\"%s\"></head><body><header><nav><a href=\"/\">Home</a></nav></header><article><h1>", pub.Format(time.RFC3339))
	xml.EscapeText(&b, []byte(title))
	fmt.Fprintf(&b, "</h1><time datetime=\"%s\">%s</time>", pub.Format(time.RFC3339), pub.Format("2 January 2006"))
	for _, para := range []string{text, neutralText(mix(uint64(len(title))), 3), neutralText(mix(uint64(len(text))), 3)} {
		b.WriteString("<p>")
		xml.EscapeText(&b, []byte(para))
		b.WriteString("</p>")
	}
	b.WriteString("</article><footer>All rights reserved.</footer></body></html>")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, b.String())
}

// webhookReceiver checks each alert as a customer would (HMAC signature
// over the raw body, delivery id in header and body) and timestamps it
// once the whole body has arrived.
type webhookReceiver struct {
	secret []byte
	got    chan delivery
	bad    atomic.Int64
	srv    *http.Server
	url    string
	done   chan struct{}
}

type delivery struct {
	id, key string
	at      time.Time
}

func startReceiver(ctx context.Context, secret []byte) (*webhookReceiver, error) {
	rc := &webhookReceiver{secret: secret, got: make(chan delivery, 1024), done: make(chan struct{})}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: %w", err)
	}
	rc.url = "http://" + ln.Addr().String() + "/hook"
	rc.srv = &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(rc.done)
		_ = rc.srv.Serve(ln)
	}()
	return rc, nil
}

func (rc *webhookReceiver) close() {
	_ = rc.srv.Close()
	<-rc.done
}

func (rc *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	at := time.Now()
	if err != nil {
		rc.bad.Add(1)
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	id := r.Header.Get("X-Minewatch-Delivery")
	if !alert.VerifySignature(rc.secret, body, r.Header.Get("X-Minewatch-Signature")) {
		rc.bad.Add(1)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p alert.Payload
	if err := json.Unmarshal(body, &p); err != nil || p.ID != id {
		rc.bad.Add(1)
		http.Error(w, "body does not match the delivery id", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
	rc.got <- delivery{id: id, key: p.Event.Key, at: at}
}

// await waits for the alert of key; any other alert is an error, since
// every event is alerted once, in order.
func (rc *webhookReceiver) await(ctx context.Context, id string, timeout time.Duration) (time.Time, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case d := <-rc.got:
		if d.id != id {
			return time.Time{}, fmt.Errorf("webhook got %s while waiting for %s", d.id, id)
		}
		return d.at, nil
	case <-t.C:
		return time.Time{}, fmt.Errorf("no alert %s within %s (%d rejected webhook requests)", id, timeout, rc.bad.Load())
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

// alertPipeline is `minewatch run`'s alerting wiring (cmd/minewatch's build
// and newAlerting): monitor with the alert engine, one outbox in the
// embedded index, and the dispatcher kicked on every new event.
type alertPipeline struct {
	store    *disk.Store
	mon      *monitor.Monitor
	disp     *alert.Dispatcher
	ruleID   string
	channel  string
	stopDisp func()
}

func newAlertPipeline(ctx context.Context, cfg *config.Config, cl *classify.Classifier, srcs []news.Source, dir, hookURL string,
	secret []byte, onHub func(context.Context, news.Source, string, string), log *slog.Logger) (*alertPipeline, error) {
	fc := cfg.Fetch
	f, err := fetch.New(fetch.Options{
		UserAgent: fc.UserAgentHeader(), Timeout: fc.Timeout.Duration, MaxBodyBytes: fc.MaxBodyBytes,
		AllowPrivate: fc.AllowPrivate, PerHostConcurrency: fc.PerHostConcurrency, PerHostDelay: fc.PerHostDelay.Duration,
		Retries: fc.Retries, IgnoreRobots: fc.IgnoreRobots, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("alerts: fetcher: %w", err)
	}
	st, err := disk.Open(ctx, disk.Options{Dir: dir, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("alerts: open index in %s: %w", dir, err)
	}
	p := &alertPipeline{store: st, ruleID: "bench", channel: alert.ChannelIDs([]string{alert.KindWebhook})[0]}
	rules := []alert.Rule{{ID: p.ruleID, Channels: []alert.Channel{{ID: p.channel, Kind: alert.KindWebhook, URL: hookURL, Secret: secret}}}}
	eng, err := alert.NewEngine(alert.EngineOptions{Rules: rules, Events: st, Logger: log})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("alerts: engine: %w", err)
	}
	p.disp, err = alert.NewDispatcher(alert.DispatcherOptions{Queue: st, Docs: st, Rules: rules, Logger: log})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("alerts: dispatcher: %w", err)
	}
	p.mon, err = monitor.New(monitor.Options{
		Sources: srcs, Collector: ingest.New(ingest.Options{Fetcher: f, Logger: log}), Classifier: cl, Store: st,
		Workers: fc.Workers, Alerts: eng, OnHub: onHub, Logger: log,
		OnNewEvent: func(context.Context, news.Event) { p.disp.Kick() }, // as cmd/minewatch wires it
	})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("alerts: monitor: %w", err)
	}
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.disp.Run(dctx) }()
	p.stopDisp = func() {
		cancel()
		<-done
	}
	return p, nil
}

func (p *alertPipeline) close() {
	p.stopDisp()
	p.store.Close()
}

// runOnce polls the given sources and fails on any source error.
func (p *alertPipeline) runOnce(ctx context.Context, ids ...string) error {
	outs, err := p.mon.RunOnce(ctx, ids, nil)
	if err != nil {
		return err
	}
	for _, o := range outs {
		if o.Err != nil {
			return fmt.Errorf("source %s: %w", o.SourceID, o.Err)
		}
	}
	return nil
}

func newSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// pacer publishes an outlet's next item no sooner than the per-host delay
// after the pipeline last touched the outlet's hosts, as real outlets
// publish minutes apart: otherwise the fetcher's politeness (a page request
// waiting its turn behind the previous one), not the pipeline, is measured.
type pacer struct {
	gap  time.Duration
	last map[int]time.Time
}

func newPacer(gap time.Duration, outlets int) *pacer {
	pc := &pacer{gap: max(gap, 0), last: map[int]time.Time{}}
	for k := range outlets {
		pc.done(k) // the warm-up just fetched every outlet
	}
	return pc
}

// done notes that the pipeline finished with the outlet's hosts.
func (pc *pacer) done(outlet int) { pc.last[outlet] = time.Now() }

func (pc *pacer) wait(ctx context.Context, outlet int) error {
	d := time.Until(pc.last[outlet].Add(pc.gap))
	if d <= 0 {
		return nil
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

func runFetchCase(ctx context.Context, cfg *config.Config, cl *classify.Classifier, evs []alertEvent, af alertFlags, dir string) (latencyRow, error) {
	row := latencyRow{name: "fetch → webhook", goal: time.Second}
	log := af.log
	secret := newSecret()
	rc, err := startReceiver(ctx, secret)
	if err != nil {
		return row, err
	}
	defer rc.close()
	site, err := startNewsSite(ctx, evs, af.outlets, "")
	if err != nil {
		return row, err
	}
	defer site.close()
	p, err := newAlertPipeline(ctx, cfg, cl, site.sources(), dir, rc.url, secret, nil, log)
	if err != nil {
		return row, err
	}
	defer p.close()
	// Warm-up, not timed: robots.txt, connections, each outlet's older item.
	if err := p.runOnce(ctx); err != nil {
		return row, fmt.Errorf("alerts: warm-up: %w", err)
	}
	pc := newPacer(cfg.Fetch.PerHostDelay.Duration, af.outlets)
	for i, ev := range evs {
		if err := pc.wait(ctx, ev.outlet); err != nil {
			return row, err
		}
		if err := site.publish(i); err != nil {
			return row, err
		}
		if err := p.runOnce(ctx, site.sourceID(ev.outlet)); err != nil {
			return row, fmt.Errorf("alerts: event %d: %w", i, err)
		}
		at, err := rc.await(ctx, alert.MessageID(p.ruleID, p.channel, ev.key), af.timeout)
		if err != nil {
			return row, fmt.Errorf("alerts: fetch case, event %d: %w", i, err)
		}
		served, ok := site.servedAt(i)
		if !ok {
			return row, fmt.Errorf("alerts: event %d was alerted but its feed was never served", i)
		}
		pc.done(ev.outlet)
		row.lat = append(row.lat, at.Sub(served))
	}
	row.note = fmt.Sprintf("clock from the feed server writing the body with the new item to the receiver holding the verified alert; each item's page fetched and extracted; %d events, each alerted once", len(evs))
	return row, nil
}

// hub is a WebSub hub: it verifies the subscriber's intent as the spec
// says, then pushes signed feed bodies to the callback.
type hub struct {
	mu       sync.Mutex
	subs     map[string]hubSub // topic → subscription
	verified chan string       // topics, once verified
	client   *http.Client
	wg       sync.WaitGroup
	errs     chan error
}

type hubSub struct{ callback, secret string }

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.PostForm.Get("hub.mode") != "subscribe" {
		http.Error(w, "want a subscribe POST", http.StatusBadRequest)
		return
	}
	topic, cb, secret := r.PostForm.Get("hub.topic"), r.PostForm.Get("hub.callback"), r.PostForm.Get("hub.secret")
	if topic == "" || cb == "" || secret == "" {
		http.Error(w, "missing topic, callback or secret", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	// Verification of intent runs after the answer, as hubs do.
	h.wg.Go(func() {
		challenge := hex.EncodeToString(newSecret()[:12])
		v := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {challenge}, "hub.lease_seconds": {"86400"}}
		sep := "?"
		if strings.Contains(cb, "?") {
			sep = "&"
		}
		resp, err := h.client.Get(cb + sep + v.Encode())
		if err != nil {
			h.errs <- fmt.Errorf("hub: verify %s: %w", topic, err)
			return
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != challenge {
			h.errs <- fmt.Errorf("hub: verify %s: %s, echo %q", topic, resp.Status, b)
			return
		}
		h.mu.Lock()
		h.subs[topic] = hubSub{callback: cb, secret: secret}
		h.mu.Unlock()
		h.verified <- topic
	})
}

// push POSTs body to topic's subscriber, signed as WebSub says, and returns
// when the request started.
func (h *hub) push(ctx context.Context, topic string, body []byte) (time.Time, error) {
	h.mu.Lock()
	sub, ok := h.subs[topic]
	h.mu.Unlock()
	if !ok {
		return time.Time{}, fmt.Errorf("hub: no verified subscriber for %s", topic)
	}
	mac := hmac.New(sha256.New, []byte(sub.secret))
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.callback, strings.NewReader(string(body)))
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/rss+xml")
	req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	start := time.Now()
	resp, err := h.client.Do(req)
	if err != nil {
		return start, fmt.Errorf("hub: push %s: %w", topic, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return start, fmt.Errorf("hub: push %s: %s", topic, resp.Status)
	}
	return start, nil
}

func runWebSubCase(ctx context.Context, cfg *config.Config, cl *classify.Classifier, evs []alertEvent, af alertFlags, dir string) (latencyRow, error) {
	row := latencyRow{name: "WebSub push → webhook", goal: time.Second}
	log := af.log
	secret := newSecret()
	rc, err := startReceiver(ctx, secret)
	if err != nil {
		return row, err
	}
	defer rc.close()

	h := &hub{subs: map[string]hubSub{}, verified: make(chan string, af.outlets), errs: make(chan error, af.outlets),
		client: &http.Client{Timeout: af.timeout}}
	hubLn, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return row, fmt.Errorf("hub: %w", err)
	}
	hubSrv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hubSrv.Serve(hubLn) }()
	defer func() {
		h.wg.Wait()
		_ = hubSrv.Close()
	}()
	site, err := startNewsSite(ctx, evs, af.outlets, "http://"+hubLn.Addr().String()+"/")
	if err != nil {
		return row, err
	}
	defer site.close()

	// minewatch's web server with the WebSub callback, as `minewatch run` mounts it.
	webLn, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return row, fmt.Errorf("web server: %w", err)
	}
	var p *alertPipeline
	sub, err := websub.New(websub.Options{
		CallbackBase: "http://" + webLn.Addr().String(), File: filepath.Join(dir, "websub.json"), Logger: log,
		Deliver: func(ctx context.Context, sourceID string, body []byte) error {
			_, err := p.mon.Push(ctx, sourceID, body, "")
			return err
		},
	})
	if err != nil {
		webLn.Close()
		return row, err
	}
	onHub := func(ctx context.Context, src news.Source, hubURL, topic string) {
		if err := sub.Subscribe(ctx, src.ID, hubURL, topic); err != nil {
			h.errs <- fmt.Errorf("subscribe %s: %w", src.ID, err)
		}
	}
	p, err = newAlertPipeline(ctx, cfg, cl, site.sources(), dir, rc.url, secret, onHub, log)
	if err != nil {
		webLn.Close()
		return row, err
	}
	defer p.close()
	wsrv, err := web.New(web.Options{Searcher: p.store, Events: p.store, Saved: p.store, Logger: log})
	if err != nil {
		webLn.Close()
		return row, err
	}
	mux := http.NewServeMux()
	mux.Handle("/websub/", sub)
	mux.Handle("/", wsrv)
	webSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	webDone := make(chan struct{})
	go func() {
		defer close(webDone)
		_ = webSrv.Serve(webLn)
	}()
	defer func() {
		_ = webSrv.Close()
		<-webDone
	}()

	// The first poll finds each feed's hub; the monitor subscribes and the
	// hub verifies the callback. Not timed.
	if err := p.runOnce(ctx); err != nil {
		return row, fmt.Errorf("alerts: warm-up: %w", err)
	}
	topics := map[string]bool{}
	deadline := time.NewTimer(af.timeout)
	defer deadline.Stop()
	for len(topics) < af.outlets {
		select {
		case tp := <-h.verified:
			topics[tp] = true
		case err := <-h.errs:
			return row, err
		case <-deadline.C:
			return row, fmt.Errorf("alerts: %d of %d WebSub subscriptions verified within %s", len(topics), af.outlets, af.timeout)
		case <-ctx.Done():
			return row, ctx.Err()
		}
	}

	pc := newPacer(cfg.Fetch.PerHostDelay.Duration, af.outlets)
	for i, ev := range evs {
		if err := pc.wait(ctx, ev.outlet); err != nil {
			return row, err
		}
		if err := site.publish(i); err != nil {
			return row, err
		}
		start, err := h.push(ctx, site.feedURL(ev.outlet), site.feedBody(ev.outlet, site.feedItems(ev.outlet)))
		if err != nil {
			return row, fmt.Errorf("alerts: event %d: %w", i, err)
		}
		at, err := rc.await(ctx, alert.MessageID(p.ruleID, p.channel, ev.key), af.timeout)
		if err != nil {
			return row, fmt.Errorf("alerts: websub case, event %d: %w", i, err)
		}
		pc.done(ev.outlet)
		row.lat = append(row.lat, at.Sub(start))
	}
	row.note = fmt.Sprintf("clock from the hub starting the signed push to the web server's /websub/ callback to the receiver holding the verified alert; %d subscriptions verified by the hub first", len(topics))
	return row, nil
}

// runDigestCase fills an index with a day of news for a subscriber who
// follows everything and times what the dispatcher does when the digest is
// due: query the index, build, render HTML and text (digest.Renderer).
func runDigestCase(ctx context.Context, af alertFlags, dir string) (latencyRow, error) {
	row := latencyRow{name: fmt.Sprintf("digest, %d articles", af.digestArticles), goal: time.Second}
	st, err := disk.Open(ctx, disk.Options{Dir: dir})
	if err != nil {
		return row, fmt.Errorf("digest: open index: %w", err)
	}
	defer st.Close()
	end := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	events, err := fillDigestIndex(ctx, st, af.digestArticles, end)
	if err != nil {
		return row, err
	}
	sub := digest.Subscriber{ID: "everything", Name: "Bench Analyst", Email: "analyst@example.org", Location: time.UTC,
		SendAt: "0 7 * * *", SendEmpty: true}
	r := &digest.Renderer{Searcher: st, Events: st, Subscribers: []digest.Subscriber{sub}, BaseURL: "https://minewatch.example.org"}
	period := end.AddDate(0, 0, -1).Format(time.DateOnly)
	m := news.Message{ID: digest.MessageID(sub.ID, period), Kind: news.MessageDigest, Subscriber: sub.ID, Period: period, Created: end}

	// The digest must hold every article, or the figure is of a smaller one.
	sc, err := digest.ParseSchedule(sub.SendAt, sub.Location)
	if err != nil {
		return row, err
	}
	d, err := digest.Build(ctx, st, st, sub, digest.PeriodEnding(sc, sub.Location, end), r.BaseURL)
	if err != nil {
		return row, fmt.Errorf("digest: %w", err)
	}
	if d.Articles != af.digestArticles || d.Truncated || len(d.Events) != events {
		return row, fmt.Errorf("digest: holds %d articles (truncated %v) and %d events, want %d and %d",
			d.Articles, d.Truncated, len(d.Events), af.digestArticles, events)
	}
	var size int
	stopProfile, err := startCPUProfile(af.cpuProfile, "digest")
	if err != nil {
		return row, err
	}
	defer stopProfile()
	for range af.runs {
		t0 := time.Now()
		msg, send, err := r.RenderDigest(ctx, m)
		dur := time.Since(t0)
		if err != nil {
			return row, fmt.Errorf("digest: %w", err)
		}
		if !send || msg.HTML == "" || msg.Text == "" {
			return row, errors.New("digest: renderer produced no mail")
		}
		size = len(msg.HTML) + len(msg.Text)
		row.lat = append(row.lat, dur)
	}
	stories := 0
	for _, g := range d.Topics {
		stories += len(g.Entries)
	}
	row.note = fmt.Sprintf("digest.Renderer.RenderDigest (index query with cursor pages, events, grouping, HTML + text) %d times; %d articles folded into %d stories in %d topics, %d events; HTML + text %d KB",
		af.runs, d.Articles, stories, len(d.Topics), len(d.Events), size/1000)
	return row, nil
}

// fillDigestIndex stores n relevant articles first seen in the day before
// end, three outlets per story, with entities on one in five, plus one
// event per 25 articles; it returns the number of events.
func fillDigestIndex(ctx context.Context, st *disk.Store, n int, end time.Time) (int, error) {
	start := end.Add(-24 * time.Hour)
	step := 24 * time.Hour / time.Duration(n+1)
	topics := []string{news.TopicTreatyWithdrawal, news.TopicTreatyMembership, news.TopicProduction,
		news.TopicDeminingFunding, news.TopicClusterMunitions, news.TopicCasualtiesVictims, news.TopicStockpile}
	const batch = 500
	buf := make([]news.Document, 0, batch)
	events := 0
	for i := range n {
		u := fmt.Sprintf("https://outlet%d.example/news/%d", i%40, i)
		c := alertCountries[i%len(alertCountries)]
		seed := mix(uint64(i) + 4242)
		title := fmt.Sprintf("%s: %s", c.name, neutralText(seed, 1))
		text := neutralText(seed+1, 6)
		doc := news.Document{Article: news.Article{
			ID: news.ArticleID(u), URL: u, CanonicalURL: u, SourceID: fmt.Sprintf("outlet-%d", i%40),
			Title: strings.TrimSuffix(title, "."), Summary: neutralText(seed+2, 2), Text: text, Language: "en",
			Published: start.Add(time.Duration(i+1) * step), PublishedFrom: "page",
		}}
		doc.FirstSeen = doc.Published.Add(time.Minute)
		doc.StoryID = news.ArticleID(fmt.Sprintf("https://outlet%d.example/news/%d", (i-i%3)%40, i-i%3))
		doc.Classification = news.Classification{Relevant: true, Score: 2,
			Topics: []news.TopicScore{{Topic: topics[(i/3)%len(topics)], Score: 2}}}
		if i%5 == 0 {
			stage := alertStages[(i/5)%len(alertStages)]
			tr := alertTreaties[(i/20)%len(alertTreaties)]
			doc.Classification.Entities = []news.Entity{{Country: c.code, CountryName: c.name, Action: stage.action, Treaty: tr.treaty,
				Evidence: fmt.Sprintf(stage.format, c.name, tr.name)}}
		}
		buf = append(buf, doc)
		if len(buf) == batch || i == n-1 {
			if _, err := st.Put(ctx, buf...); err != nil {
				return 0, fmt.Errorf("digest: fill index: %w", err)
			}
			for _, d := range buf {
				if len(d.Classification.Entities) == 0 || events*25 >= n {
					continue
				}
				e := d.Classification.Entities[0]
				created, err := st.RecordEvent(ctx, news.Event{Key: e.Key(), Country: e.Country, Action: e.Action, Treaty: e.Treaty,
					FirstSeen: d.FirstSeen, FirstArticleID: d.ID, FirstSourceID: d.SourceID, Evidence: e.Evidence, Articles: 1})
				if err != nil {
					return 0, fmt.Errorf("digest: record event: %w", err)
				}
				if created {
					events++
				}
			}
			buf = buf[:0]
		}
	}
	return events, nil
}

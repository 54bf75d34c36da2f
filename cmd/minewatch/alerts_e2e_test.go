package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/alert"
	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/demo"
	"github.com/minewatch/minewatch/digest"
	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/mail/mailtest"
	"github.com/minewatch/minewatch/news"
)

const e2eSecretEnv = "MW_E2E_WEBHOOK_SECRET"

// webhookSink is a webhook receiver that checks each request as a customer
// would: the HMAC signature over the raw body, and that the body names the
// delivery id the header carries.
type webhookSink struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	ids    []string                 // X-Minewatch-Delivery, one per accepted request
	bodies map[string]alert.Payload // by delivery id
	got    chan string              // each accepted delivery id
}

func newWebhookSink(t *testing.T, secret string) (*webhookSink, *httptest.Server) {
	s := &webhookSink{t: t, secret: []byte(secret), bodies: map[string]alert.Payload{}, got: make(chan string, 1000)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id := r.Header.Get("X-Minewatch-Delivery")
		if !alert.VerifySignature(s.secret, body, r.Header.Get("X-Minewatch-Signature")) {
			s.t.Errorf("webhook %s: bad signature %q", id, r.Header.Get("X-Minewatch-Signature"))
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p alert.Payload
		if err := json.Unmarshal(body, &p); err != nil || p.ID != id || r.Header.Get("X-Minewatch-Event") != "alert" {
			s.t.Errorf("webhook %s: body id %q, event header %q, err %v", id, p.ID, r.Header.Get("X-Minewatch-Event"), err)
		}
		s.mu.Lock()
		s.ids = append(s.ids, id)
		s.bodies[id] = p
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		s.got <- id
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *webhookSink) counts() (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := map[string]int{}
	for _, id := range s.ids {
		c[id]++
	}
	return c, len(s.ids)
}

// drain runs the dispatcher until the outbox has nothing due.
func drain(t *testing.T, d *alert.Dispatcher) {
	t.Helper()
	for {
		n, err := d.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// mailpitWanted says whether the e-mail half runs: with a Mailpit, and
// always under CI, where mailtest.Start fails the test without one.
func mailpitWanted() bool {
	return os.Getenv(mailtest.EnvSMTP) != "" || os.Getenv("CI") == "true"
}

// TestAlertsEndToEnd runs the demo site through `minewatch run`'s wiring
// twice and dispatches the outbox after each cycle: every treaty event the
// demo's outlets report is alerted exactly once on the signed webhook, however
// many articles report it and although the second cycle sees them all again.
// With Mailpit, the rule's e-mail channel delivers once per event to both
// recipients with HTML and text parts, and a subscriber's digest goes out.
func TestAlertsEndToEnd(t *testing.T) {
	site := httptest.NewServer(demo.Handler())
	defer site.Close()
	sink, rcv := newWebhookSink(t, "e2e-secret")

	cfg := config.Default()
	cfg.Index.Dir = t.TempDir()
	cfg.Fetch.AllowPrivate = []string{"127.0.0.0/8"}
	cfg.Fetch.PerHostDelay = config.Duration{Duration: -1}
	cfg.Alerts = []config.Alert{{ID: "everything", Channels: []config.Channel{{Kind: "webhook", URL: rcv.URL, SecretEnv: e2eSecretEnv}}}}
	env := map[string]string{e2eSecretEnv: "e2e-secret"}

	var mp *mailtest.Mailpit
	var alertTo []string
	var digestTo string
	if mailpitWanted() {
		mp = mailtest.Start(t)
		alertTo = []string{mailtest.Unique(t, "desk"), mailtest.Unique(t, "editor")}
		digestTo = mailtest.Unique(t, "analyst")
		cfg.Mail = config.Mail{Host: mp.Host, Port: mp.Port, From: "minewatch@test.minewatch.example", TLS: config.TLSNone}
		cfg.Alerts = append(cfg.Alerts, config.Alert{
			ID: "baltic", Countries: []string{"EE", "LV", "LT"},
			Actions:  []string{string(news.ActionWithdrawAnnounce), string(news.ActionWithdrawVote), string(news.ActionWithdrawNotify), string(news.ActionWithdrawEffective)},
			Channels: []config.Channel{{Kind: "email", To: alertTo}},
		})
		cfg.Subscribers = []config.Subscriber{{
			ID: "analyst", Name: "Test Analyst", Email: digestTo, TimeZone: "UTC", SendEmpty: true,
			SendAt: digestSendAt,
		}}
	} else {
		t.Logf("no Mailpit (%s unset): the e-mail alert and digest are not checked; run `eval \"$(scripts/mailpit.sh)\"`", mailtest.EnvSMTP)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := build(t.Context(), cfg, log, buildOptions{
		sources: demo.Sources(site.URL), withMonitor: true,
		getenv: func(k string) string { return env[k] },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.alerting == nil {
		t.Fatal("build made no alerting for a config with alert rules")
	}

	for cycle := range 2 {
		outs, err := a.monitor.RunOnce(t.Context(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range outs {
			if o.Err != nil {
				t.Errorf("cycle %d: source %s: %v", cycle, o.SourceID, o.Err)
			}
		}
		drain(t, a.alerting.dispatcher)
	}

	events, err := a.store.Events(t.Context(), index.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 5 {
		t.Fatalf("the demo gave %d events, want its withdrawals and more (≥ 5)", len(events))
	}
	got, raw := sink.counts()
	multi := 0
	for _, ev := range events {
		id := alert.MessageID("everything", "webhook", ev.Key)
		if got[id] != 1 {
			t.Errorf("event %s: %d webhook deliveries, want 1", ev.Key, got[id])
		}
		if p := sink.bodies[id]; p.Event.Key != ev.Key || p.Article.URL == "" {
			t.Errorf("event %s: webhook body has event %q, article %q", ev.Key, p.Event.Key, p.Article.URL)
		}
		if ev.Articles > 1 {
			multi++
		}
	}
	if raw != len(events) || len(got) != len(events) {
		t.Errorf("%d webhook deliveries of %d ids for %d events, want one each", raw, len(got), len(events))
	}
	if multi == 0 {
		t.Error("no event was reported by more than one article; the test proves less than it claims")
	}
	pending, err := a.alerting.outbox.Messages(t.Context(), index.MessageFilter{States: []news.MessageState{news.MessagePending, news.MessageExpired}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range pending {
		t.Errorf("outbox: %s is %s (%s)", m.ID, m.State, m.LastError)
	}
	t.Logf("%d events, %d of them reported by several articles, %d webhook deliveries", len(events), multi, raw)

	if mp == nil {
		return
	}
	checkAlertMail(t, mp, events, alertTo)
	checkDigestMail(t, a, cfg, mp, digestTo, sink)
}

func checkAlertMail(t *testing.T, mp *mailtest.Mailpit, events []news.Event, to []string) {
	t.Helper()
	want := map[string]bool{}
	for _, ev := range events {
		if slices.Contains([]string{"EE", "LV", "LT"}, ev.Country) && strings.HasPrefix(string(ev.Action), "withdraw_") {
			want[ev.Key] = true
		}
	}
	if len(want) == 0 {
		t.Fatal("the demo gave no Baltic withdrawal event")
	}
	msgs, err := mp.Search(t.Context(), fmt.Sprintf("to:%q", to[0]))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, s := range msgs {
		m, err := mp.Get(t.Context(), s.ID)
		if err != nil {
			t.Fatal(err)
		}
		key := first(m.Headers["X-Minewatch-Event"])
		seen[key]++
		var rcpt []string
		for _, a := range m.To {
			rcpt = append(rcpt, a.Address)
		}
		slices.Sort(rcpt)
		if w := slices.Sorted(slices.Values(to)); !slices.Equal(rcpt, w) {
			t.Errorf("alert mail %q goes to %v, want %v", m.Subject, rcpt, w)
		}
		if strings.TrimSpace(m.Text) == "" || strings.TrimSpace(m.HTML) == "" {
			t.Errorf("alert mail %q: text %d bytes, HTML %d bytes; want both parts", m.Subject, len(m.Text), len(m.HTML))
		}
		if !strings.HasPrefix(m.Subject, "[minewatch] ") || first(m.Headers["X-Minewatch-Rule"]) != "baltic" {
			t.Errorf("alert mail: subject %q, rule %v", m.Subject, m.Headers["X-Minewatch-Rule"])
		}
	}
	for key := range want {
		if seen[key] != 1 {
			t.Errorf("event %s: %d alert mails, want 1", key, seen[key])
		}
	}
	if len(msgs) != len(want) {
		t.Errorf("%d alert mails for %d Baltic withdrawal events (seen %v)", len(msgs), len(want), seen)
	}
}

// The e2e subscriber gets a yearly digest; the one sent on 24 November 2026
// covers the demo's last year (events are dated by their first article).
const digestSendAt = "0 0 24 11 *"

var digestEnd = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

// checkDigestMail enqueues the subscriber's digest as the scheduler does
// just after its send time, and lets the dispatcher render and send it; a
// second enqueue and dispatch send nothing more.
func checkDigestMail(t *testing.T, a *app, cfg *config.Config, mp *mailtest.Mailpit, to string, sink *webhookSink) {
	t.Helper()
	subs, err := digestSubscribers(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	sendAt := digestEnd
	sched, err := digest.NewScheduler(digest.SchedulerOptions{
		Subscribers: subs, Outbox: a.alerting.outbox,
		Now: func() time.Time { return sendAt.Add(time.Minute) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		n, err := sched.EnqueueDue(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 - round; n != want {
			t.Errorf("enqueue round %d: %d digests enqueued, want %d", round, n, want)
		}
		drain(t, a.alerting.dispatcher)
	}
	found, err := mp.Search(t.Context(), fmt.Sprintf("to:%q", to))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 {
		t.Fatalf("%d digest mails to %s, want 1", len(found), to)
	}
	m, err := mp.Get(t.Context(), found[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.To) != 1 || m.To[0].Address != to {
		t.Errorf("digest goes to %+v, want only %s", m.To, to)
	}
	if strings.TrimSpace(m.Text) == "" || strings.TrimSpace(m.HTML) == "" {
		t.Errorf("digest: text %d bytes, HTML %d bytes; want both parts", len(m.Text), len(m.HTML))
	}
	wantID := digest.MessageID("analyst", sendAt.Format(time.DateOnly))
	if got := first(m.Headers["X-Minewatch-Digest"]); "digest/"+got != wantID {
		t.Errorf("digest header %q, want %s", got, wantID)
	}
	// The digest lists the events of its year, by country name.
	sink.mu.Lock()
	defer sink.mu.Unlock()
	listed := 0
	for _, p := range sink.bodies {
		ev := p.Event
		if ev.FirstSeen.Before(digestEnd.AddDate(-1, 0, 0)) || !ev.FirstSeen.Before(digestEnd) {
			continue
		}
		listed++
		if !strings.Contains(m.Text, ev.CountryName) || !strings.Contains(m.HTML, ev.CountryName) {
			t.Errorf("digest does not mention %s (event %s of %s):\n%s", ev.CountryName, ev.Key, ev.FirstSeen, m.Text)
		}
	}
	if listed == 0 || strings.Contains(m.Text, "Nothing new") {
		t.Errorf("digest for the demo's last year lists %d events:\n%s", listed, m.Text)
	}
	t.Logf("digest %q: %d events in its year", m.Subject, listed)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// addrLog is a slog handler that hands over the address `serve` reports
// when it is listening, so a test can use port 0.
type addrLog struct{ addr chan string }

func (h addrLog) Enabled(context.Context, slog.Level) bool { return true }
func (h addrLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h addrLog) WithGroup(string) slog.Handler            { return h }
func (h addrLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "minewatch is running" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "url" {
			h.addr <- strings.TrimSuffix(a.Value.String(), "/")
			return false
		}
		return true
	})
	return nil
}

const (
	wireFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>Wire</title><link>%[1]s/</link><description>Wire</description>
<atom:link rel="hub" href="%[2]s"/><atom:link rel="self" href="%[1]s/feed.xml"/>
%[3]s
</channel></rss>`
	wireOld = `<item><title>City council approves new bus lanes</title><link>%[1]s/a/bus-lanes</link>
<guid>%[1]s/a/bus-lanes</guid><pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate>
<description>The council voted for two new bus lanes downtown. Work starts in spring.</description></item>`
	wireNew = `<item><title>Lithuania's Seimas votes to withdraw from the Convention on Cluster Munitions</title>
<link>%[1]s/a/lt-ccm-vote</link><guid>%[1]s/a/lt-ccm-vote</guid><pubDate>Thu, 26 Nov 2026 09:00:00 GMT</pubDate>
<description>Lithuania's parliament, the Seimas, voted on Thursday to withdraw from the Convention on Cluster Munitions, the 2008 treaty banning cluster munitions. Lawmakers approved the withdrawal by 84 votes to 8, citing the threat from Russia. The defence minister said Lithuania would keep its obligations on victim assistance.</description></item>`
)

// TestWebSubPushAlertsEndToEnd runs `serve` as `minewatch run` does: the
// monitor fetches a feed that names a WebSub hub and subscribes; the hub
// verifies the subscription with a GET carrying hub.challenge to the
// callback, which the server's mux routes to /websub/; then it pushes a
// signed feed body with a new withdrawal story. The story is indexed and its
// alert reaches the webhook through the running dispatcher.
func TestWebSubPushAlertsEndToEnd(t *testing.T) {
	sink, rcv := newWebhookSink(t, "push-secret")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	// The public URL is a proxy to the server, known only once it listens.
	addr := make(chan string, 1)
	ready := make(chan struct{})
	var target string
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-ready:
		case <-r.Context().Done():
			return
		}
		(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			u, _ := url.Parse(target)
			pr.SetURL(u)
		}}).ServeHTTP(w, r)
	}))
	defer front.Close()

	var feed *httptest.Server
	hubDone := make(chan error, 4)
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.PostForm.Get("hub.mode") != "subscribe" {
			http.Error(w, "bad request", http.StatusBadRequest)
			hubDone <- fmt.Errorf("hub got %s %v (%v)", r.Method, r.PostForm, err)
			return
		}
		cb, topic, secret := r.PostForm.Get("hub.callback"), r.PostForm.Get("hub.topic"), r.PostForm.Get("hub.secret")
		w.WriteHeader(http.StatusAccepted)
		go func() {
			hubDone <- verifyAndPush(ctx, cb, topic, secret, fmt.Sprintf(wireFeed, feed.URL, "", fmt.Sprintf(wireNew, feed.URL)))
		}()
	}))
	defer hub.Close()
	feed = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed.xml" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, wireFeed, feed.URL, hub.URL, fmt.Sprintf(wireOld, feed.URL))
	}))
	defer feed.Close()

	cfg := config.Default()
	cfg.Index.Dir = t.TempDir()
	cfg.Fetch.AllowPrivate = []string{"127.0.0.0/8"}
	cfg.Fetch.PerHostDelay = config.Duration{Duration: -1}
	cfg.Web.BaseURL = front.URL
	cfg.Alerts = []config.Alert{{ID: "everything", Channels: []config.Channel{{Kind: "webhook", URL: rcv.URL, SecretEnv: e2eSecretEnv}}}}
	src := news.Source{ID: "wire", Name: "Wire", Kind: news.KindFeed, URL: feed.URL + "/feed.xml", Language: "en", Schedule: "@every 1h"}
	log := slog.New(addrLog{addr})
	a, err := build(ctx, cfg, log, buildOptions{
		sources: []news.Source{src}, withMonitor: true,
		getenv: func(k string) string { return map[string]string{e2eSecretEnv: "push-secret"}[k] },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.websub == nil {
		t.Fatal("build made no WebSub subscriber although web.base_url is set")
	}

	served := make(chan error, 1)
	go func() { served <- serve(ctx, a, "127.0.0.1:0", nil) }()
	select {
	case target = <-addr:
		close(ready)
	case err := <-served:
		t.Fatalf("serve ended before listening: %v", err)
	}

	// The scheduler fetches the source at its first due time; fetch it now,
	// as that would. The fetch sees the hub and subscribes.
	outs, err := a.monitor.RunOnce(ctx, []string{src.ID}, nil)
	if err != nil || len(outs) != 1 || outs[0].Err != nil {
		t.Fatalf("fetch: %+v, %v", outs, err)
	}

	var id string
	for id == "" {
		select {
		case id = <-sink.got:
		case err := <-hubDone:
			if err != nil {
				t.Fatal(err)
			}
		case err := <-served:
			t.Fatalf("serve ended: %v", err)
		}
	}
	p := sink.bodies[id]
	if !strings.HasSuffix(p.Article.URL, "/a/lt-ccm-vote") || p.Event.Country != "LT" || p.Event.Treaty != string(news.TreatyCCM) {
		t.Errorf("alert %s is about %s %s %s, article %q; want the pushed Lithuanian CCM story", id, p.Event.Country, p.Event.Action, p.Event.Treaty, p.Article.URL)
	}
	subs := a.websub.Subscriptions()
	if len(subs) != 1 || !subs[0].Verified || subs[0].Hub != hub.URL {
		t.Errorf("subscriptions %+v, want one verified at %s", subs, hub.URL)
	}

	// The pushed story is searchable through the same server.
	resp, err := http.Get(front.URL + "/api/search?" + url.Values{"q": {"Seimas"}, "country": {"LT"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var res apiResponse
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || res.Total != 1 || !strings.HasSuffix(res.Results[0].URL, "/a/lt-ccm-vote") {
		t.Errorf("search for the pushed story: %+v, %v", res, err)
	}

	cancel()
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
	got, raw := sink.counts()
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	t.Logf("%d alerts from the push (%d deliveries)", len(got), raw)
}

// verifyAndPush is the hub's side: confirm the subscription's intent with
// hub.challenge, then push body signed with the subscriber's secret.
func verifyAndPush(ctx context.Context, callback, topic, secret, body string) error {
	challenge := "challenge-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {challenge}, "hub.lease_seconds": {"86400"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, callback+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("hub verification GET: %w", err)
	}
	echo, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(echo) != challenge {
		return fmt.Errorf("hub verification: %s %q, want 200 %q", resp.Status, echo, challenge)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, callback, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/rss+xml")
	req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("hub push: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hub push: %s", resp.Status)
	}
	return nil
}

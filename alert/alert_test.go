package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/mail"
	"github.com/minewatch/minewatch/mail/mailtest"
	"github.com/minewatch/minewatch/news"
)

var t0 = time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC)

func event(country string, a news.Action, tr news.Treaty) news.Event {
	return news.Event{Key: news.EventKey(country, a, tr), Country: country, Action: a, Treaty: tr,
		FirstSeen: t0, FirstArticleID: "art-" + country, FirstSourceID: "lrt-en",
		Evidence: "Lithuania <b>notified</b> the UN & left.", Articles: 1}
}

func doc(title, text string) news.Document {
	return news.Document{Article: news.Article{ID: "art-LT", SourceID: "lrt-en", Title: title, Text: text,
		URL: "https://www.lrt.lt/en/a?x=1&y=2", Published: t0, Language: "en"},
		Classification: news.Classification{Entities: []news.Entity{{Country: "LT", CountryName: "Lithuania"}}}}
}

func TestChannelIDs(t *testing.T) {
	got := ChannelIDs([]string{"email", "webhook", "webhook", "slack", "webhook"})
	want := []string{"email", "webhook", "webhook-2", "slack", "webhook-3"}
	if !slices.Equal(got, want) {
		t.Errorf("ChannelIDs = %v, want %v", got, want)
	}
}

func TestMessagesFor(t *testing.T) {
	hook := []Channel{{ID: "webhook", Kind: KindWebhook, URL: "http://x"}}
	store := newMemOutbox()
	// Lithuania's CCM withdrawal was announced before: notify is a new stage.
	store.RecordEventAndEnqueue(context.Background(), event("LT", news.ActionWithdrawAnnounce, news.TreatyCCM), nil)
	tests := map[string]struct {
		rule Rule
		ev   news.Event
		d    news.Document
		want int
	}{
		"no filters":        {Rule{ID: "all", Channels: hook}, event("PL", news.ActionProduce, news.TreatyNone), doc("", ""), 1},
		"action filter":     {Rule{ID: "r", Actions: []news.Action{news.ActionWithdrawNotify}, Channels: hook}, event("PL", news.ActionProduce, news.TreatyNone), doc("", ""), 0},
		"country filter":    {Rule{ID: "r", Countries: []string{"LT"}, Channels: hook}, event("LT", news.ActionUse, news.TreatyNone), doc("", ""), 1},
		"treaty filter":     {Rule{ID: "r", Treaties: []news.Treaty{news.TreatyOttawa}, Channels: hook}, event("LT", news.ActionWithdrawNotify, news.TreatyCCM), doc("", ""), 0},
		"query matches":     {Rule{ID: "r", Query: "seimas", Channels: hook}, event("LT", news.ActionWithdrawVote, news.TreatyCCM), doc("Seimas votes", "text"), 1},
		"query misses":      {Rule{ID: "r", Query: "seimas", Channels: hook}, event("LT", news.ActionWithdrawVote, news.TreatyCCM), doc("Sejm votes", "text"), 0},
		"two channels":      {Rule{ID: "r", Channels: append(slices.Clone(hook), Channel{ID: "slack", Kind: KindSlack, URL: "http://y"})}, event("LT", news.ActionUse, news.TreatyNone), doc("", ""), 2},
		"new stage fires":   {Rule{ID: "r", On: OnNewStage, Channels: hook}, event("LT", news.ActionWithdrawNotify, news.TreatyCCM), doc("", ""), 1},
		"new stage, first":  {Rule{ID: "r", On: OnNewStage, Channels: hook}, event("EE", news.ActionWithdrawNotify, news.TreatyOttawa), doc("", ""), 0},
		"new stage, other":  {Rule{ID: "r", On: OnNewStage, Channels: hook}, event("LT", news.ActionWithdrawNotify, news.TreatyOttawa), doc("", ""), 0},
		"new stage, no stg": {Rule{ID: "r", On: OnNewStage, Channels: hook}, event("LT", news.ActionUse, news.TreatyCCM), doc("", ""), 0},
		"new event, first":  {Rule{ID: "r", On: OnNewEvent, Channels: hook}, event("EE", news.ActionWithdrawNotify, news.TreatyOttawa), doc("", ""), 1},
		"new event, known":  {Rule{ID: "r", On: OnNewEvent, Channels: hook}, event("LT", news.ActionWithdrawNotify, news.TreatyCCM), doc("", ""), 0},
		"new event, no stg": {Rule{ID: "r", On: OnNewEvent, Channels: hook}, event("LT", news.ActionUse, news.TreatyCCM), doc("", ""), 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, err := NewEngine(EngineOptions{Rules: []Rule{tc.rule}, Events: store})
			if err != nil {
				t.Fatal(err)
			}
			got := e.MessagesFor(tc.ev, tc.d)
			if len(got) != tc.want {
				t.Fatalf("got %d messages, want %d: %+v", len(got), tc.want, got)
			}
			for _, m := range got {
				if want := "alert/" + tc.rule.ID + "/" + m.Channel + "/" + tc.ev.Key; m.ID != want || m.Kind != news.MessageAlert {
					t.Errorf("message %q kind %q, want id %q", m.ID, m.Kind, want)
				}
			}
		})
	}
}

func TestNewEngineErrors(t *testing.T) {
	hook := []Channel{{ID: "webhook", Kind: KindWebhook, URL: "http://x"}}
	_, err := NewEngine(EngineOptions{Rules: []Rule{
		{ID: "bad-query", Query: `"unclosed`, Channels: hook},
		{ID: "no-store", On: OnNewStage, Channels: hook},
		{ID: "no-channels"},
	}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"bad-query", "no-store", "no-channels"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// receiver is an httptest webhook that checks signatures and counts
// distinct delivery ids.
type receiver struct {
	srv    *httptest.Server
	secret []byte
	mu     sync.Mutex
	bodies map[string][]byte // by X-Minewatch-Delivery
	hits   int
	status []int // replies to give, in order; then 200
	got    chan string
}

func newReceiver(t *testing.T, secret string, status ...int) *receiver {
	r := &receiver{secret: []byte(secret), bodies: map[string][]byte{}, status: status, got: make(chan string, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if len(r.secret) > 0 && !VerifySignature(r.secret, body, req.Header.Get("X-Minewatch-Signature")) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		r.hits++
		code := http.StatusOK
		if len(r.status) > 0 {
			code, r.status = r.status[0], r.status[1:]
		}
		if code == http.StatusOK {
			r.bodies[req.Header.Get("X-Minewatch-Delivery")] = body
		}
		r.mu.Unlock()
		w.WriteHeader(code)
		if code == http.StatusOK {
			r.got <- req.Header.Get("X-Minewatch-Delivery")
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type docs map[string]news.Document

func (d docs) Get(_ context.Context, id string) (news.Document, error) {
	if doc, ok := d[id]; ok {
		return doc, nil
	}
	return news.Document{}, index.ErrNotFound
}

func setup(t *testing.T, rules []Rule, o DispatcherOptions) (*Engine, *Dispatcher, *memOutbox, *clock) {
	t.Helper()
	store := newMemOutbox()
	e, err := NewEngine(EngineOptions{Rules: rules, Events: store})
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: t0}
	o.Queue, o.Rules, o.Now = store, rules, c.Now
	if o.Docs == nil {
		o.Docs = docs{"art-LT": doc("Seimas <script>alert(1)</script> votes", "text")}
	}
	o.BaseURL = "https://mw.example.org/"
	d, err := NewDispatcher(o)
	if err != nil {
		t.Fatal(err)
	}
	return e, d, store, c
}

func record(t *testing.T, e *Engine, store *memOutbox, ev news.Event) []news.Message {
	t.Helper()
	msgs := e.MessagesFor(ev, doc("Seimas votes", "text"))
	if _, err := store.RecordEventAndEnqueue(t.Context(), ev, msgs); err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestWebhookDelivery(t *testing.T) {
	rcv := newReceiver(t, "s3cret")
	rules := []Rule{{ID: "baltic", Channels: []Channel{{ID: "webhook", Kind: KindWebhook, URL: rcv.srv.URL, Secret: []byte("s3cret")}}}}
	e, d, store, _ := setup(t, rules, DispatcherOptions{})
	ev := event("LT", news.ActionWithdrawNotify, news.TreatyCCM)
	ev.EffectiveDate = t0.AddDate(0, 6, 0)
	msgs := record(t, e, store, ev)
	// The same event again (a later article) enqueues nothing.
	record(t, e, store, ev)
	for range 2 {
		if _, err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if m := store.get(msgs[0].ID); m.State != news.MessageDelivered || m.Attempts != 1 {
		t.Fatalf("message state %s after %d attempts (%s)", m.State, m.Attempts, m.LastError)
	}
	if rcv.hits != 1 {
		t.Fatalf("receiver got %d requests, want 1", rcv.hits)
	}
	var p Payload
	if err := json.Unmarshal(rcv.bodies[msgs[0].ID], &p); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"id", p.ID, "alert/baltic/webhook/LT/withdraw_notify/ccm"},
		{"rule", p.Rule, "baltic"},
		{"country name", p.Event.CountryName, "Lithuania"},
		{"action label", p.Event.ActionLabel, "notified withdrawal to the UN"},
		{"evidence", p.Event.Evidence, ev.Evidence},
		{"article title", p.Article.Title, "Seimas <script>alert(1)</script> votes"},
		{"link", p.Article.Link, "https://mw.example.org/articles/art-LT"},
		{"effective", p.Event.EffectiveDate.Format(time.DateOnly), "2026-09-06"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if strings.Contains(string(rcv.bodies[msgs[0].ID]), "<script>") {
		t.Error("raw <script> in the JSON body; want it \\u003c-escaped")
	}
}

func TestBadSignatureIsNotDelivered(t *testing.T) {
	rcv := newReceiver(t, "right")
	rules := []Rule{{ID: "r", Channels: []Channel{{ID: "webhook", Kind: KindWebhook, URL: rcv.srv.URL, Secret: []byte("wrong")}}}}
	e, d, store, _ := setup(t, rules, DispatcherOptions{})
	msgs := record(t, e, store, event("LT", news.ActionUse, news.TreatyNone))
	d.RunOnce(t.Context())
	// 401 is a permanent refusal: expired, not retried for days.
	if m := store.get(msgs[0].ID); m.State != news.MessageExpired || !strings.Contains(m.LastError, "401") {
		t.Errorf("state %s, error %q; want expired with the 401", m.State, m.LastError)
	}
}

func TestRetryBackoffAndExpiry(t *testing.T) {
	tests := map[string]struct {
		status      []int
		maxAttempts int
		rounds      int
		want        news.MessageState
		wantHits    int
	}{
		"5xx then ok":      {status: []int{500, 503}, maxAttempts: 5, rounds: 3, want: news.MessageDelivered, wantHits: 3},
		"429 is retried":   {status: []int{429}, maxAttempts: 5, rounds: 2, want: news.MessageDelivered, wantHits: 2},
		"expires at limit": {status: []int{500, 500, 500}, maxAttempts: 3, rounds: 5, want: news.MessageExpired, wantHits: 3},
		"404 is final":     {status: []int{404}, maxAttempts: 5, rounds: 3, want: news.MessageExpired, wantHits: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rcv := newReceiver(t, "", tc.status...)
			rules := []Rule{{ID: "r", Channels: []Channel{{ID: "webhook", Kind: KindWebhook, URL: rcv.srv.URL}}}}
			e, d, store, c := setup(t, rules, DispatcherOptions{MaxAttempts: tc.maxAttempts, Backoff: time.Minute})
			msgs := record(t, e, store, event("LT", news.ActionUse, news.TreatyNone))
			for i := range tc.rounds {
				n, _ := d.RunOnce(t.Context())
				m := store.get(msgs[0].ID)
				if m.State == news.MessagePending {
					if !m.NextAttempt.After(c.Now()) {
						t.Fatalf("round %d: retry not pushed into the future", i)
					}
					// Not due yet: the next round leases nothing.
					if n2, _ := d.RunOnce(t.Context()); n2 != 0 {
						t.Fatalf("round %d: leased a message before its backoff ended", i)
					}
					c.Add(m.NextAttempt.Sub(c.Now()))
				}
				_ = n
			}
			m := store.get(msgs[0].ID)
			if m.State != tc.want || rcv.hits != tc.wantHits {
				t.Errorf("state %s after %d hits (%s), want %s after %d", m.State, rcv.hits, m.LastError, tc.want, tc.wantHits)
			}
		})
	}
}

func TestCooldownDelaysNeverDrops(t *testing.T) {
	rcv := newReceiver(t, "")
	rules := []Rule{{ID: "r", Cooldown: time.Hour, Channels: []Channel{
		{ID: "webhook", Kind: KindWebhook, URL: rcv.srv.URL}, {ID: "webhook-2", Kind: KindWebhook, URL: rcv.srv.URL}}}}
	e, d, store, c := setup(t, rules, DispatcherOptions{Parallel: 1})
	first := record(t, e, store, event("LT", news.ActionWithdrawVote, news.TreatyCCM))
	second := record(t, e, store, event("LV", news.ActionWithdrawVote, news.TreatyOttawa))
	d.RunOnce(t.Context())
	for _, m := range first {
		if got := store.get(m.ID); got.State != news.MessageDelivered {
			t.Errorf("%s: %s, want both channels of the first firing delivered", m.ID, got.State)
		}
	}
	for _, m := range second {
		got := store.get(m.ID)
		if got.State != news.MessagePending || !got.NextAttempt.Equal(c.Now().Add(time.Hour)) || got.Attempts != 0 {
			t.Errorf("%s: %s next %v attempts %d, want pending until the cooldown ends, no attempt counted", m.ID, got.State, got.NextAttempt, got.Attempts)
		}
	}
	c.Add(time.Hour)
	d.RunOnce(t.Context())
	for _, m := range second {
		if got := store.get(m.ID); got.State != news.MessageDelivered {
			t.Errorf("%s: %s after the cooldown", m.ID, got.State)
		}
	}
	if rcv.hits != 4 {
		t.Errorf("receiver hits = %d, want 4", rcv.hits)
	}
}

func TestRunWakesOnKick(t *testing.T) {
	rcv := newReceiver(t, "")
	rules := []Rule{{ID: "r", Channels: []Channel{{ID: "webhook", Kind: KindWebhook, URL: rcv.srv.URL}}}}
	e, d, store, _ := setup(t, rules, DispatcherOptions{Tick: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	for _, c := range []string{"LT", "LV", "EE"} {
		msgs := record(t, e, store, event(c, news.ActionWithdrawNotify, news.TreatyOttawa))
		d.Kick()
		// With an hour-long tick, only the kick can deliver it.
		if got := <-rcv.got; got != msgs[0].ID {
			t.Errorf("delivered %s, want %s", got, msgs[0].ID)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSlackAndTeamsEscapeWebText(t *testing.T) {
	hostile := "Seimas <!channel> & <https://evil.example|click> *bold* [x](javascript:alert(1))"
	var bodies [][]byte
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	rules := []Rule{{ID: "r", Channels: []Channel{{ID: "slack", Kind: KindSlack, URL: srv.URL}, {ID: "teams", Kind: KindTeams, URL: srv.URL}}}}
	e, d, store, _ := setup(t, rules, DispatcherOptions{Docs: docs{"art-LT": doc(hostile, "")}, Parallel: 1})
	record(t, e, store, event("LT", news.ActionWithdrawVote, news.TreatyCCM))
	d.RunOnce(t.Context())
	if len(bodies) != 2 {
		t.Fatalf("got %d posts, want 2", len(bodies))
	}
	var slack struct {
		Text   string `json:"text"`
		Blocks []struct {
			Text struct{ Text string } `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(bodies[0], &slack); err != nil {
		t.Fatal(err)
	}
	mrkdwn := slack.Blocks[0].Text.Text
	for _, bad := range []string{"<!channel>", "<https://evil.example|click>", "<b>"} {
		if strings.Contains(mrkdwn, bad) {
			t.Errorf("slack text contains %q unescaped: %s", bad, mrkdwn)
		}
	}
	if !strings.Contains(mrkdwn, "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;") {
		t.Errorf("slack text not escaped as expected: %s", mrkdwn)
	}
	if !strings.Contains(mrkdwn, "<https://www.lrt.lt/en/a?x=1&y=2|") {
		t.Errorf("slack text lacks the article link: %s", mrkdwn)
	}
	var teams struct {
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type string `json:"type"`
				Body []struct {
					Type    string `json:"type"`
					Inlines []struct {
						Type string `json:"type"`
						Text string `json:"text"`
					} `json:"inlines"`
				} `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(bodies[1], &teams); err != nil {
		t.Fatal(err)
	}
	card := teams.Attachments[0]
	if card.ContentType != "application/vnd.microsoft.card.adaptive" || card.Content.Type != "AdaptiveCard" {
		t.Fatalf("teams payload is not an adaptive card: %s", bodies[1])
	}
	// Web text goes only into TextRuns, which Teams never reads as Markdown,
	// so it is carried exactly as written (escape_test.go checks every field).
	title := card.Content.Body[2]
	if title.Type != "RichTextBlock" || len(title.Inlines) == 0 || title.Inlines[0].Type != "TextRun" || title.Inlines[0].Text != hostile {
		t.Errorf("teams title is not the literal text in a TextRun: %s", bodies[1])
	}
}

func TestEmailAlertThroughMailpit(t *testing.T) {
	mp := mailtest.Start(t)
	s, err := mail.New(mail.Options{Host: mp.Host, Port: mp.Port, From: "minewatch <mw@example.org>", TLS: mail.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	to := mailtest.Unique(t, "alerts")
	rules := []Rule{{ID: "baltic", Channels: []Channel{{ID: "email", Kind: KindEmail, To: []string{to}}}}}
	e, d, store, _ := setup(t, rules, DispatcherOptions{Mail: s})
	msgs := record(t, e, store, event("LT", news.ActionWithdrawNotify, news.TreatyCCM))
	d.RunOnce(t.Context())
	if m := store.get(msgs[0].ID); m.State != news.MessageDelivered {
		t.Fatalf("state %s: %s", m.State, m.LastError)
	}
	got, err := mp.Search(t.Context(), "to:"+to)
	if err != nil || len(got) != 1 {
		t.Fatalf("Mailpit: %d messages, %v; want 1", len(got), err)
	}
	full, err := mp.Get(t.Context(), got[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[minewatch] Lithuania – notified withdrawal to the UN – Convention on Cluster Munitions"; full.Subject != want {
		t.Errorf("subject %q, want %q", full.Subject, want)
	}
	if strings.Contains(full.HTML, "<script>") || !strings.Contains(full.HTML, "&lt;script&gt;") {
		t.Error("the article title became markup in the HTML part")
	}
	if !strings.Contains(full.HTML, `href="https://www.lrt.lt/en/a?x=1&amp;y=2"`) || !strings.Contains(full.Text, "https://www.lrt.lt/en/a?x=1&y=2") {
		t.Error("article link missing from a part")
	}
	if !strings.Contains(full.Text, `rule "baltic"`) || !strings.Contains(full.HTML, "You receive this because") {
		t.Error("footer missing")
	}
}

func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte("k"), []byte(`{"id":"x"}`), Sign([]byte("k"), []byte(`{"id":"x"}`)))
	f.Add([]byte("k"), []byte("body"), "sha256=zz")
	f.Add([]byte(""), []byte(""), "")
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		ok := VerifySignature(secret, body, header)
		if want := header == Sign(secret, body); ok != want && strings.EqualFold(header, Sign(secret, body)) == ok {
			t.Errorf("VerifySignature(%q) = %v, want %v", header, ok, want)
		}
		if !VerifySignature(secret, body, Sign(secret, body)) {
			t.Error("own signature rejected")
		}
	})
}

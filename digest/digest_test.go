package digest

import (
	"context"
	"fmt"
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

// memIndex answers the queries Build makes: time window, topic, country and
// action filters, and a Text that must appear in the title.
type memIndex struct {
	docs   []news.Document
	events []news.Event
}

func (m *memIndex) Search(_ context.Context, q index.Query) (index.Hits, error) {
	var hits []index.Hit
	for _, d := range m.docs {
		at := date(d)
		if at.Before(q.Since) || !at.Before(q.Until) {
			continue
		}
		if q.Text != "" && !strings.Contains(strings.ToLower(d.Title), strings.ToLower(q.Text)) {
			continue
		}
		if len(q.Topics) > 0 && !slices.ContainsFunc(d.Classification.TopicIDs(), func(t string) bool { return slices.Contains(q.Topics, t) }) {
			continue
		}
		if len(q.Countries) > 0 && !slices.ContainsFunc(d.Classification.Entities, func(e news.Entity) bool { return slices.Contains(q.Countries, e.Country) }) {
			continue
		}
		if len(q.Actions) > 0 && !slices.ContainsFunc(d.Classification.Entities, func(e news.Entity) bool { return slices.Contains(q.Actions, e.Action) }) {
			continue
		}
		hits = append(hits, index.Hit{Document: d})
	}
	// Pages of q.Limit, the cursor being the offset.
	off := 0
	fmt.Sscan(q.Cursor, &off)
	end := min(off+q.Limit, len(hits))
	h := index.Hits{Total: len(hits), Docs: hits[off:end]}
	if end < len(hits) {
		h.NextCursor = fmt.Sprint(end)
	}
	return h, nil
}

func (m *memIndex) Events(_ context.Context, f index.EventFilter) ([]news.Event, error) {
	var out []news.Event
	for _, e := range m.events {
		if !e.FirstSeen.Before(f.Since) {
			out = append(out, e)
		}
	}
	return out, nil
}

var day = time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC) // 07:00 in Vilnius

func article(id, story, source, topic, title string, at time.Time, ents ...news.Entity) news.Document {
	return news.Document{
		Article: news.Article{ID: id, SourceID: source, URL: "https://" + source + ".example/" + id, Title: title,
			Published: at, FirstSeen: at, Summary: "Summary of " + id + "."},
		StoryID: story,
		Classification: news.Classification{Relevant: true, Topics: []news.TopicScore{{Topic: topic, Score: 2}},
			Entities: ents},
	}
}

func fixture() *memIndex {
	lt := news.Entity{Country: "LT", CountryName: "Lithuania", Action: news.ActionWithdrawNotify, Treaty: news.TreatyCCM,
		Evidence: "Lithuania notified the UN Secretary-General."}
	in := day.Add(-3 * time.Hour)
	return &memIndex{
		docs: []news.Document{
			article("a1", "s1", "lrt-en", news.TopicTreatyWithdrawal, "Lithuania leaves <CCM> & more", in, lt),
			article("a2", "s1", "err-news", news.TopicTreatyWithdrawal, "Lithuania quits cluster treaty", in.Add(time.Hour), lt),
			article("a3", "s1", "bbc-world", news.TopicTreatyWithdrawal, "Lithuania exits", in.Add(2*time.Hour), lt),
			article("a4", "a4", "hrw", news.TopicDeminingFunding, "US cuts demining funds", in),
			article("old", "old", "hrw", news.TopicDeminingFunding, "Last week's news", day.Add(-8*24*time.Hour)),
		},
		events: []news.Event{
			{Key: "LT/withdraw_notify/ccm", Country: "LT", Action: news.ActionWithdrawNotify, Treaty: news.TreatyCCM,
				FirstSeen: in, FirstSourceID: "lrt-en", Evidence: lt.Evidence, Articles: 3, EffectiveDate: in.AddDate(0, 6, 0)},
			{Key: "PL/produce/none", Country: "PL", Action: news.ActionProduce, Treaty: news.TreatyNone,
				FirstSeen: day.Add(-5 * 24 * time.Hour), FirstSourceID: "pap", Articles: 1},
		},
	}
}

func vilnius(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Europe/Vilnius")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestBuildAndRender(t *testing.T) {
	sub := Subscriber{ID: "ana", Email: "ana@example.org", Location: vilnius(t), SendAt: "0 7 * * *", SendEmpty: true}
	p := Period{ID: "2026-11-26", Start: day.Add(-24 * time.Hour), End: day}
	d, err := Build(t.Context(), fixture(), fixture(), sub, p, "https://mw.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Events) != 1 || d.Events[0].CountryName != "Lithuania" || d.Events[0].Outlets != 3 {
		t.Fatalf("events = %+v, want the Lithuanian notification only", d.Events)
	}
	if len(d.Topics) != 2 || d.Topics[0].Topic != news.TopicTreatyWithdrawal {
		t.Fatalf("topics = %+v", d.Topics)
	}
	e := d.Topics[0].Entries
	if len(e) != 1 || e[0].ID != "a1" || e[0].MoreOutlets != 2 || e[0].Link != "https://mw.example.org/articles/a1" {
		t.Fatalf("withdrawal entries = %+v, want a1 folded with +2 outlets", e)
	}
	html, text, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"New treaty events (1)", "Lithuania – notified withdrawal to the UN – Convention on Cluster Munitions",
		"+2 outlets", "Lithuania leaves &lt;CCM&gt; &amp; more", `href="https://lrt-en.example/a1"`,
		"stage 3 of 4: UN notified", "You receive this because ana@example.org"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(html, "<CCM>") || strings.Contains(html, "<link") || strings.Contains(html, "<style") {
		t.Error("HTML has web text as markup, or external/blocked CSS")
	}
	for _, want := range []string{"NEW TREATY EVENTS (1)", "Lithuania leaves <CCM> & more", "+2 outlets", "https://hrw.example/a4", "US cuts demining funds"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if i, j := strings.Index(text, "NEW TREATY EVENTS"), strings.Index(text, "TREATY WITHDRAWAL"); i < 0 || j < i {
		t.Error("events do not come first")
	}
}

func TestFollows(t *testing.T) {
	p := Period{Start: day.Add(-24 * time.Hour), End: day}
	tests := map[string]struct {
		sub        Subscriber
		wantIDs    []string
		wantEvents int
	}{
		"everything":       {Subscriber{}, []string{"a1", "a4"}, 1},
		"topic":            {Subscriber{Topics: []string{news.TopicDeminingFunding}}, []string{"a4"}, 1},
		"country":          {Subscriber{Countries: []string{"LT"}}, []string{"a1"}, 1},
		"other country":    {Subscriber{Countries: []string{"EE"}}, nil, 0},
		"query or country": {Subscriber{Countries: []string{"EE"}, Queries: []string{"demining"}}, []string{"a4"}, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := Build(t.Context(), fixture(), fixture(), tc.sub, p, "")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, g := range d.Topics {
				for _, e := range g.Entries {
					ids = append(ids, e.ID)
				}
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tc.wantIDs) || len(d.Events) != tc.wantEvents {
				t.Errorf("articles %v events %d, want %v and %d", ids, len(d.Events), tc.wantIDs, tc.wantEvents)
			}
		})
	}
}

func TestPeriods(t *testing.T) {
	loc := vilnius(t)
	tests := map[string]struct {
		spec      string
		end       time.Time
		wantID    string
		wantStart time.Time
	}{
		"daily":    {"0 7 * * *", day, "2026-11-26", day.Add(-24 * time.Hour)},
		"weekdays": {"0 7 * * 1-5", time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC), "2026-11-23", time.Date(2026, 11, 20, 5, 0, 0, 0, time.UTC)},
		"hourly":   {"0 * * * *", day, "2026-11-26T07:00", day.Add(-time.Hour)},
		// Vilnius leaves summer time on 25 Oct 2026: that day is 25 h long.
		"dst": {"0 7 * * *", time.Date(2026, 10, 25, 5, 0, 0, 0, time.UTC), "2026-10-25", time.Date(2026, 10, 24, 4, 0, 0, 0, time.UTC)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sc, err := ParseSchedule(tc.spec, loc)
			if err != nil {
				t.Fatal(err)
			}
			p := PeriodEnding(sc, loc, tc.end)
			if p.ID != tc.wantID || !p.Start.Equal(tc.wantStart) {
				t.Errorf("period %s from %v, want %s from %v", p.ID, p.Start, tc.wantID, tc.wantStart)
			}
		})
	}
}

type memQueue struct {
	mu   sync.Mutex
	msgs map[string]news.Message
}

func (q *memQueue) Enqueue(_ context.Context, m news.Message) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.msgs[m.ID]; ok {
		return false, nil
	}
	q.msgs[m.ID] = m
	return true, nil
}

func TestEnqueueDueIsIdempotent(t *testing.T) {
	q := &memQueue{msgs: map[string]news.Message{}}
	subs := []Subscriber{
		{ID: "ana", Location: vilnius(t), SendAt: "0 7 * * *"},
		{ID: "bo", SendAt: "0 6 * * *"},
	}
	now := day.Add(10 * time.Minute)
	kicks := 0
	for restart := range 3 {
		s, err := NewScheduler(SchedulerOptions{Subscribers: subs, Outbox: q, Now: func() time.Time { return now }, Kick: func() { kicks++ }})
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.EnqueueDue(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int]int{0: 2}[restart]; n != want {
			t.Errorf("start %d enqueued %d, want %d", restart, n, want)
		}
	}
	if kicks != 2 {
		t.Errorf("kicks = %d, want 2", kicks)
	}
	m, ok := q.msgs["digest/ana/2026-11-26"]
	if !ok || !m.Created.Equal(day) || m.Kind != news.MessageDigest {
		t.Errorf("ana's digest = %+v (ok %v)", m, ok)
	}
	if _, ok := q.msgs["digest/bo/2025-11-26"]; ok {
		t.Error("bad period id")
	}
	if _, ok := q.msgs["digest/bo/2026-11-25"]; !ok {
		t.Errorf("bo's 06:00 UTC digest: have %v", q.msgs)
	}
}

func TestRendererThroughMailpit(t *testing.T) {
	mp := mailtest.Start(t)
	s, err := mail.New(mail.Options{Host: mp.Host, Port: mp.Port, From: "minewatch <mw@example.org>", TLS: mail.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	to := mailtest.Unique(t, "digest")
	idx := fixture()
	subs := []Subscriber{{ID: "ana", Email: to, Location: vilnius(t), SendAt: "0 7 * * *", SendEmpty: true},
		{ID: "quiet", Email: to, SendAt: "0 7 * * *", Countries: []string{"NO"}}}
	r := &Renderer{Searcher: idx, Events: idx, Subscribers: subs, BaseURL: "https://mw.example.org"}
	msg, send, err := r.RenderDigest(t.Context(), news.Message{ID: "digest/ana/2026-11-26", Subscriber: "ana", Period: "2026-11-26", Created: day})
	if err != nil || !send {
		t.Fatalf("RenderDigest: send %v, %v", send, err)
	}
	if err := s.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	if _, send, err := r.RenderDigest(t.Context(), news.Message{ID: "digest/quiet/2026-11-26", Subscriber: "quiet", Created: day}); err != nil || send {
		t.Errorf("empty digest of a send_empty: false subscriber: send %v, %v", send, err)
	}
	got, err := mp.Search(t.Context(), "to:"+to)
	if err != nil || len(got) != 1 {
		t.Fatalf("Mailpit has %d digests (%v), want 1", len(got), err)
	}
	full, err := mp.Get(t.Context(), got[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if full.Subject != "minewatch digest 26 Nov 2026: 1 new event, 4 articles" {
		t.Errorf("subject %q", full.Subject)
	}
	for _, want := range []string{"+2 outlets", "https://lrt-en.example/a1", "https://mw.example.org/articles/a1"} {
		if !strings.Contains(full.HTML, want) || !strings.Contains(full.Text, strings.TrimPrefix(want, "https://mw.example.org")) {
			t.Errorf("a part lacks %q", want)
		}
	}
}

func BenchmarkBuildRender5000(b *testing.B) {
	idx := &memIndex{}
	topics := []string{news.TopicTreatyWithdrawal, news.TopicProduction, news.TopicDeminingFunding, news.TopicClusterMunitions}
	for i := range 5000 {
		id := fmt.Sprintf("a%d", i)
		idx.docs = append(idx.docs, article(id, fmt.Sprintf("s%d", i/3), fmt.Sprintf("src%d", i%40), topics[i%4],
			"Headline number "+id+" about mines & <treaties>", day.Add(-time.Duration(i)*time.Second)))
	}
	sub := Subscriber{ID: "all", Email: "a@example.org", SendAt: "0 7 * * *"}
	p := Period{Start: day.Add(-24 * time.Hour), End: day}
	for b.Loop() {
		d, err := Build(b.Context(), idx, idx, sub, p, "https://mw.example.org")
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Render(d); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPreviousFindsRareSchedules(t *testing.T) {
	at := time.Date(2026, 11, 27, 1, 48, 0, 0, time.UTC)
	tests := map[string]struct {
		spec string
		want time.Time
	}{
		"daily":               {"0 7 * * *", time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)},
		"monthly":             {"0 7 1 * *", time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC)},
		"yearly":              {"0 0 24 11 *", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		"yearly, a year back": {"0 0 28 11 *", time.Date(2025, 11, 28, 0, 0, 0, 0, time.UTC)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sc, err := ParseSchedule(tc.spec, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if got := Previous(sc, at); !got.Equal(tc.want) {
				t.Errorf("Previous(%q, %s) = %s, want %s", tc.spec, at, got, tc.want)
			}
		})
	}
}

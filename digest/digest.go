// Package digest builds each subscriber's periodic e-mail digest from the index
// (new events, then articles by topic, near-duplicates folded) and schedules it.
package digest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/treaty"
)

// Searcher answers index queries (index.Store).
type Searcher interface {
	Search(ctx context.Context, q index.Query) (index.Hits, error)
}

// EventLister lists recorded events (index.EventStore).
type EventLister interface {
	Events(ctx context.Context, f index.EventFilter) ([]news.Event, error)
}

// Subscriber is one digest recipient and what they follow. An article is in
// their digest when it matches any of Topics, Countries, Actions or Queries;
// all empty means everything relevant.
type Subscriber struct {
	ID, Name, Email string
	Location        *time.Location // nil means UTC
	SendAt          string         // cron spec read in Location
	Topics          []string
	Countries       []string
	Actions         []news.Action
	Queries         []string // rule syntax; saved searches are resolved into it by the caller
	SendEmpty       bool
}

// Period is the time a digest covers, [Start, End).
type Period struct {
	ID         string // "2026-11-26" for daily digests, "2026-11-26T07:00" for shorter periods
	Start, End time.Time
}

// Digest is what one mail says.
type Digest struct {
	Subscriber Subscriber
	Period     Period
	Events     []EventEntry
	Topics     []TopicGroup
	Articles   int    // articles shown, folded duplicates included
	BaseURL    string // for links to minewatch; "" leaves them out
	Truncated  bool   // the period had more articles than MaxArticles
}

// Empty reports whether the period brought nothing for the subscriber.
func (d Digest) Empty() bool { return len(d.Events) == 0 && len(d.Topics) == 0 }

// EventEntry is one new event.
type EventEntry struct {
	news.Event
	CountryName, ActionLabel, TreatyLabel, Stage string
	FirstSource                                  string
	Outlets                                      int // articles that reported it so far
}

// TopicGroup is the articles of one topic.
type TopicGroup struct {
	Topic, Label string
	Entries      []Entry
}

// Entry is one story: its first article, and how many other outlets ran it.
type Entry struct {
	ID, Title, URL, Source, Evidence, Link string
	Date                                   time.Time
	MoreOutlets                            int // "+N outlets"
}

// MaxArticles bounds one digest: past it the mail would be unreadable and
// the index query slow; the digest says it was cut.
const MaxArticles = 10000

// ErrBadQuery wraps a subscriber query the index rejects.
var ErrBadQuery = errors.New("digest: bad subscriber query")

// Build gathers sub's digest for p: the events first recorded in p, then the
// relevant articles first seen in p, grouped by their best topic and folded
// by story.
func Build(ctx context.Context, s Searcher, events EventLister, sub Subscriber, p Period, baseURL string) (Digest, error) {
	d := Digest{Subscriber: sub, Period: p, BaseURL: strings.TrimRight(baseURL, "/")}
	docs, truncated, err := articles(ctx, s, sub, p)
	if err != nil {
		return d, err
	}
	d.Truncated = truncated
	names := countryNames(docs)
	if events != nil {
		evs, err := events.Events(ctx, index.EventFilter{Since: p.Start})
		if err != nil {
			return d, fmt.Errorf("digest %s: events: %w", sub.ID, err)
		}
		for _, ev := range evs {
			if !ev.FirstSeen.Before(p.End) || ev.FirstSeen.Before(p.Start) || !followsEvent(sub, ev) {
				continue
			}
			name := oneLine(names[ev.Country])
			if name == "" {
				name = ev.Country
			}
			d.Events = append(d.Events, EventEntry{
				Event: ev, CountryName: name, ActionLabel: treaty.ActionLabel(ev.Action),
				TreatyLabel: treaty.TreatyLabel(ev.Treaty), Stage: treaty.StageLabel(ev.Action),
				FirstSource: oneLine(ev.FirstSourceID), Outlets: max(ev.Articles, 1),
			})
		}
		slices.SortStableFunc(d.Events, func(a, b EventEntry) int {
			return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), strings.Compare(a.Key, b.Key))
		})
	}
	d.Topics, d.Articles = group(docs, d.BaseURL)
	return d, nil
}

// articles runs one search per thing the subscriber follows (the index ANDs
// filters; the subscriber means OR) and merges them by id.
func articles(ctx context.Context, s Searcher, sub Subscriber, p Period) ([]news.Document, bool, error) {
	base := index.Query{Since: p.Start, Until: p.End, RelevantOnly: true, Sort: index.SortDate, Limit: 1000, NoSnippets: true}
	var qs []index.Query
	add := func(f func(q *index.Query)) {
		q := base
		f(&q)
		qs = append(qs, q)
	}
	if len(sub.Topics) > 0 {
		add(func(q *index.Query) { q.Topics = sub.Topics })
	}
	if len(sub.Countries) > 0 {
		add(func(q *index.Query) { q.Countries = sub.Countries })
	}
	if len(sub.Actions) > 0 {
		add(func(q *index.Query) { q.Actions = sub.Actions })
	}
	for _, text := range sub.Queries {
		add(func(q *index.Query) { q.Text = text; q.RelevantOnly = false })
	}
	if len(qs) == 0 {
		qs = append(qs, base)
	}
	seen := map[string]bool{}
	var out []news.Document
	for _, q := range qs {
		for {
			hits, err := s.Search(ctx, q)
			if err != nil {
				if errors.Is(err, index.ErrBadQuery) {
					return nil, false, fmt.Errorf("%w %q of %s: %v", ErrBadQuery, q.Text, sub.ID, err)
				}
				return nil, false, fmt.Errorf("digest %s: search: %w", sub.ID, err)
			}
			for _, h := range hits.Docs {
				if seen[h.ID] {
					continue
				}
				if len(out) == MaxArticles {
					return out, true, nil
				}
				seen[h.ID] = true
				out = append(out, h.Document)
			}
			if hits.NextCursor == "" {
				break
			}
			q.Cursor = hits.NextCursor
		}
	}
	return out, false, nil
}

func followsEvent(sub Subscriber, ev news.Event) bool {
	if len(sub.Countries) == 0 && len(sub.Actions) == 0 {
		return true
	}
	return slices.Contains(sub.Countries, ev.Country) || slices.Contains(sub.Actions, ev.Action)
}

func countryNames(docs []news.Document) map[string]string {
	out := map[string]string{}
	for _, d := range docs {
		for _, e := range d.Classification.Entities {
			if e.CountryName != "" && out[e.Country] == "" {
				out[e.Country] = e.CountryName
			}
		}
	}
	return out
}

// group puts each article under its best-scoring topic and folds articles of
// one story into its earliest one, counting the other outlets.
func group(docs []news.Document, baseURL string) ([]TopicGroup, int) {
	type story struct {
		first   news.Document
		sources map[string]bool
		topic   string
	}
	stories := map[string]*story{}
	var order []string
	for _, d := range docs {
		id := cmp.Or(d.StoryID, d.ID)
		st, ok := stories[id]
		if !ok {
			st = &story{first: d, sources: map[string]bool{}, topic: bestTopic(d)}
			stories[id] = st
			order = append(order, id)
		}
		st.sources[cmp.Or(d.SiteName, d.SourceID)] = true
		if date(d).Before(date(st.first)) {
			st.first, st.topic = d, bestTopic(d)
		}
	}
	byTopic := map[string]*TopicGroup{}
	for _, id := range order {
		st := stories[id]
		g, ok := byTopic[st.topic]
		if !ok {
			g = &TopicGroup{Topic: st.topic, Label: topicLabel(st.topic)}
			byTopic[st.topic] = g
		}
		d := st.first
		e := Entry{ID: d.ID, Title: oneLine(cmp.Or(d.Title, d.URL)), URL: webURL(d.CanonicalURL, d.URL),
			Source: oneLine(cmp.Or(d.SiteName, d.SourceID)), Date: date(d), Evidence: evidence(d), MoreOutlets: len(st.sources) - 1}
		if baseURL != "" {
			e.Link = baseURL + "/articles/" + d.ID
		}
		g.Entries = append(g.Entries, e)
	}
	var groups []TopicGroup
	for _, g := range byTopic {
		slices.SortStableFunc(g.Entries, func(a, b Entry) int {
			return cmp.Or(b.MoreOutlets-a.MoreOutlets, b.Date.Compare(a.Date), strings.Compare(a.ID, b.ID))
		})
		groups = append(groups, *g)
	}
	slices.SortFunc(groups, func(a, b TopicGroup) int {
		return cmp.Or(treaty.TopicRank(a.Topic)-treaty.TopicRank(b.Topic), strings.Compare(a.Topic, b.Topic))
	})
	return groups, len(docs)
}

func bestTopic(d news.Document) string {
	best, score := otherTopic, -1.0
	for _, t := range d.Classification.Topics {
		if t.Score > score {
			best, score = t.Topic, t.Score
		}
	}
	return best
}

func date(d news.Document) time.Time {
	if !d.Published.IsZero() {
		return d.Published
	}
	return d.FirstSeen
}

// evidence is the sentence that proves the article's first entity, else the
// feed summary's first sentence, else nothing.
func evidence(d news.Document) string {
	for _, e := range d.Classification.Entities {
		if e.Evidence != "" {
			return oneLine(e.Evidence)
		}
	}
	s := oneLine(d.Summary)
	if len(s) > 300 {
		cut := strings.LastIndexByte(s[:300], ' ')
		if cut < 200 {
			cut = 300
		}
		s = strings.ToValidUTF8(s[:cut], "") + " …"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// webURL is the first of urls that is an absolute http(s) URL, else "".
// Articles are fetched over HTTP(S); a javascript: or data: URL from a
// page's canonical link is hostile and must not become a link in the mail.
func webURL(urls ...string) string {
	for _, u := range urls {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" {
			continue
		}
		if s := strings.ToLower(p.Scheme); s == "http" || s == "https" {
			return u
		}
	}
	return ""
}

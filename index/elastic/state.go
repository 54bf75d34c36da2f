package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// maxListed bounds the listing calls (states, events, saved searches): each
// is a small, configured set, far below it.
const maxListed = 10000

type stateDoc struct {
	SourceID            string     `json:"source_id"`
	URL                 string     `json:"url,omitempty"`
	ETag                string     `json:"etag,omitempty"`
	LastModified        string     `json:"last_modified,omitempty"`
	NextCheck           *time.Time `json:"next_check,omitempty"`
	LastAttempt         *time.Time `json:"last_attempt,omitempty"`
	LastSuccess         *time.Time `json:"last_success,omitempty"`
	LastError           string     `json:"last_error,omitempty"`
	LastErrorClass      string     `json:"last_error_class,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	ItemsSeen           int        `json:"items_seen"`
	ArticlesTotal       int        `json:"articles_total"`
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// SourceStates returns every source's fetch state, by source id.
func (s *Store) SourceStates(ctx context.Context) (map[string]news.SourceState, error) {
	var docs []stateDoc
	if err := s.list(ctx, s.names.state, m{"match_all": m{}}, nil, &docs); err != nil {
		return nil, fmt.Errorf("elastic: source states: %w", err)
	}
	out := make(map[string]news.SourceState, len(docs))
	for _, d := range docs {
		out[d.SourceID] = news.SourceState{
			SourceID: d.SourceID, URL: d.URL,
			Validators: news.Validators{ETag: d.ETag, LastModified: d.LastModified},
			NextCheck:  utc(d.NextCheck), LastAttempt: utc(d.LastAttempt), LastSuccess: utc(d.LastSuccess),
			LastError: d.LastError, LastErrorClass: d.LastErrorClass,
			ConsecutiveFailures: d.ConsecutiveFailures, ItemsSeen: d.ItemsSeen, ArticlesTotal: d.ArticlesTotal,
		}
	}
	return out, nil
}

// SaveSourceState replaces a source's state. Several workers own disjoint
// sources (monitor's --worker i/n), so last-writer-wins is safe.
func (s *Store) SaveSourceState(ctx context.Context, st news.SourceState) error {
	if st.SourceID == "" {
		return errors.New("elastic: save source state: no source id")
	}
	d := stateDoc{
		SourceID: st.SourceID, URL: st.URL, ETag: st.Validators.ETag, LastModified: st.Validators.LastModified,
		NextCheck: tsOrNil(st.NextCheck), LastAttempt: tsOrNil(st.LastAttempt), LastSuccess: tsOrNil(st.LastSuccess),
		LastError: st.LastError, LastErrorClass: st.LastErrorClass,
		ConsecutiveFailures: st.ConsecutiveFailures, ItemsSeen: st.ItemsSeen, ArticlesTotal: st.ArticlesTotal,
	}
	path := "/" + pathEscape(s.names.state) + "/_doc/" + pathEscape(st.SourceID)
	if err := s.do(ctx, http.MethodPut, path, s.refreshParam(), d, nil); err != nil {
		return fmt.Errorf("elastic: save source state %s: %w", st.SourceID, err)
	}
	return nil
}

type eventDoc struct {
	Key            string     `json:"key"`
	Country        string     `json:"country"`
	Action         string     `json:"action"`
	Treaty         string     `json:"treaty"`
	FirstSeen      *time.Time `json:"first_seen,omitempty"`
	FirstArticleID string     `json:"first_article_id,omitempty"`
	FirstSourceID  string     `json:"first_source_id,omitempty"`
	Evidence       string     `json:"evidence,omitempty"`
	Articles       int        `json:"articles"`
	EffectiveDate  *time.Time `json:"effective_date,omitempty"`
	// Outbox holds the messages RecordEventAndEnqueue created the event
	// with, until they are in the outbox index (PendingOutbox false); the
	// event and its messages are thus written in one atomic create.
	Outbox        []messageDoc `json:"outbox,omitempty"`
	PendingOutbox bool         `json:"pending_outbox,omitempty"`
}

func (d eventDoc) event() news.Event {
	return news.Event{
		Key: d.Key, Country: d.Country, Action: news.Action(d.Action), Treaty: news.Treaty(d.Treaty),
		FirstSeen: utc(d.FirstSeen), FirstArticleID: d.FirstArticleID, FirstSourceID: d.FirstSourceID,
		Evidence: d.Evidence, Articles: d.Articles, EffectiveDate: utc(d.EffectiveDate),
	}
}

func toEventDoc(ev news.Event) eventDoc {
	return eventDoc{
		Key: ev.Key, Country: ev.Country, Action: string(ev.Action), Treaty: string(ev.Treaty),
		FirstSeen: tsOrNil(ev.FirstSeen), FirstArticleID: ev.FirstArticleID, FirstSourceID: ev.FirstSourceID,
		Evidence: ev.Evidence, Articles: ev.Articles, EffectiveDate: tsOrNil(ev.EffectiveDate),
	}
}

// RecordEvent creates the event with its key as document id, op_type create:
// Elasticsearch lets exactly one create of an id succeed, across processes.
// A loser counts one more article on the existing event.
func (s *Store) RecordEvent(ctx context.Context, ev news.Event) (bool, error) {
	return s.recordEvent(ctx, ev, nil)
}

func (s *Store) recordEvent(ctx context.Context, ev news.Event, msgs []news.Message) (bool, error) {
	if ev.Key == "" {
		ev.Key = news.EventKey(ev.Country, ev.Action, ev.Treaty)
	}
	if ev.Country == "" && ev.Action == "" {
		return false, errors.New("elastic: record event: no key, country or action")
	}
	if ev.FirstSeen.IsZero() {
		ev.FirstSeen = s.now()
	}
	ev.Articles = max(ev.Articles, 1)
	d := toEventDoc(ev)
	for _, msg := range msgs {
		d.Outbox = append(d.Outbox, toMessageDoc(msg))
	}
	d.PendingOutbox = len(msgs) > 0
	created, err := s.CreateIfAbsent(ctx, s.names.events, ev.Key, d)
	if err != nil {
		return false, fmt.Errorf("elastic: record event: %w", err)
	}
	if created {
		if d.PendingOutbox {
			if err := s.moveOutbox(ctx, d); err != nil {
				// The messages stay on the event; the next Lease moves them.
				s.log.Warn("elastic: event recorded, its messages wait for the next lease", "event", ev.Key, "err", err)
			}
		}
		return true, nil
	}
	script := m{"script": m{
		"source": "ctx._source.articles += 1",
		"lang":   "painless",
	}}
	path := "/" + pathEscape(s.names.events) + "/_update/" + pathEscape(ev.Key)
	q := s.refreshParam()
	if q == nil {
		q = map[string][]string{}
	}
	// Concurrent increments conflict on the version; retrying re-reads.
	q.Set("retry_on_conflict", "10")
	if err := s.do(ctx, http.MethodPost, path, q, script, nil); err != nil {
		return false, fmt.Errorf("elastic: record event %s: count article: %w", ev.Key, err)
	}
	return false, nil
}

// CreateIfAbsent indexes doc under id in the index unless a document with
// that id exists (op_type=create). It reports whether this call created it:
// among any number of concurrent callers in any number of processes exactly
// one gets true. Events use it; alert claims (one sender per event) can too.
func (s *Store) CreateIfAbsent(ctx context.Context, indexName, id string, doc any) (bool, error) {
	path := "/" + pathEscape(indexName) + "/_create/" + pathEscape(id)
	err := s.do(ctx, http.MethodPut, path, s.refreshParam(), doc, nil)
	if err == nil {
		return true, nil
	}
	if isStatus(err, http.StatusConflict) {
		return false, nil
	}
	return false, fmt.Errorf("create %s/%s: %w", indexName, id, err)
}

// Events lists the events f selects, newest first.
func (s *Store) Events(ctx context.Context, f index.EventFilter) ([]news.Event, error) {
	filter := []any{}
	if len(f.Countries) > 0 {
		filter = append(filter, m{"terms": m{"country": f.Countries}})
	}
	if len(f.Actions) > 0 {
		filter = append(filter, m{"terms": m{"action": stringsOf(f.Actions)}})
	}
	if !f.Since.IsZero() {
		filter = append(filter, m{"range": m{"first_seen": m{"gte": f.Since.UTC().Format(timeFormat)}}})
	}
	var docs []eventDoc
	sort := []any{m{"first_seen": m{"order": "desc"}}, m{"key": m{"order": "asc"}}}
	if err := s.list(ctx, s.names.events, m{"bool": m{"filter": filter}}, sort, &docs); err != nil {
		return nil, fmt.Errorf("elastic: events: %w", err)
	}
	var out []news.Event
	for _, d := range docs {
		out = append(out, d.event())
	}
	return out, nil
}

// list searches a small index and decodes every hit's _source into out (a
// pointer to a slice). A missing index is empty.
func (s *Store) list(ctx context.Context, indexName string, q m, sort []any, out any) error {
	body := m{"size": maxListed, "query": q}
	if sort != nil {
		body["sort"] = sort
	}
	var res struct {
		Hits struct {
			Hits []struct {
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	err := s.do(ctx, http.MethodPost, "/"+pathEscape(indexName)+"/_search", nil, body, &res)
	if isType(err, "index_not_found_exception") {
		return nil
	}
	if err != nil {
		return err
	}
	raw := make([]json.RawMessage, len(res.Hits.Hits))
	for i, h := range res.Hits.Hits {
		raw[i] = h.Source
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

type searchDoc struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	Query   index.Query `json:"query"`
	Created *time.Time  `json:"created,omitempty"`
}

// SaveSearch inserts or replaces a saved search by id.
func (s *Store) SaveSearch(ctx context.Context, ss index.SavedSearch) error {
	if ss.ID == "" {
		return errors.New("elastic: save search: no id")
	}
	ss.Query.Cursor, ss.Query.Limit = "", 0
	d := searchDoc{ID: ss.ID, Name: ss.Name, Query: ss.Query, Created: tsOrNil(ss.Created)}
	path := "/" + pathEscape(s.names.searches) + "/_doc/" + pathEscape(ss.ID)
	if err := s.do(ctx, http.MethodPut, path, s.refreshParam(), d, nil); err != nil {
		return fmt.Errorf("elastic: save search %s: %w", ss.ID, err)
	}
	return nil
}

// SavedSearches lists saved searches by name.
func (s *Store) SavedSearches(ctx context.Context) ([]index.SavedSearch, error) {
	var docs []searchDoc
	sort := []any{m{"name": m{"order": "asc"}}, m{"id": m{"order": "asc"}}}
	if err := s.list(ctx, s.names.searches, m{"match_all": m{}}, sort, &docs); err != nil {
		return nil, fmt.Errorf("elastic: saved searches: %w", err)
	}
	out := make([]index.SavedSearch, 0, len(docs))
	for _, d := range docs {
		out = append(out, index.SavedSearch{ID: d.ID, Name: d.Name, Query: d.Query, Created: utc(d.Created)})
	}
	return out, nil
}

// DeleteSearch removes a saved search; ErrNotFound when there is none.
func (s *Store) DeleteSearch(ctx context.Context, id string) error {
	path := "/" + pathEscape(s.names.searches) + "/_doc/" + pathEscape(id)
	err := s.do(ctx, http.MethodDelete, path, s.refreshParam(), nil, nil)
	if isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("elastic: delete search %s: %w", id, index.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("elastic: delete search %s: %w", id, err)
	}
	return nil
}

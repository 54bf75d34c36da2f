package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

var _ index.LeaseRenewer = (*Store)(nil)

// messageDoc is an outbox message. Times are pointers without omitempty so
// a partial update (Update) clears a time set before.
type messageDoc struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	RuleID      string     `json:"rule_id,omitempty"`
	Channel     string     `json:"channel,omitempty"`
	Subscriber  string     `json:"subscriber,omitempty"`
	Period      string     `json:"period,omitempty"`
	Event       *eventDoc  `json:"event,omitempty"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"next_attempt"`
	Created     *time.Time `json:"created"`
	Delivered   *time.Time `json:"delivered"`
	LastError   string     `json:"last_error"`
}

func toMessageDoc(msg news.Message) messageDoc {
	d := messageDoc{
		ID: msg.ID, Kind: string(msg.Kind), RuleID: msg.RuleID, Channel: msg.Channel, Subscriber: msg.Subscriber,
		Period: msg.Period, State: string(msg.State), Attempts: msg.Attempts,
		NextAttempt: tsOrNil(msg.NextAttempt), Created: tsOrNil(msg.Created), Delivered: tsOrNil(msg.Delivered),
		LastError: msg.LastError,
	}
	if d.State == "" {
		d.State = string(news.MessagePending)
	}
	if msg.Event != (news.Event{}) {
		ev := toEventDoc(msg.Event)
		d.Event = &ev
	}
	return d
}

func (d messageDoc) message() news.Message {
	msg := news.Message{
		ID: d.ID, Kind: news.MessageKind(d.Kind), RuleID: d.RuleID, Channel: d.Channel, Subscriber: d.Subscriber,
		Period: d.Period, State: news.MessageState(d.State), Attempts: d.Attempts,
		NextAttempt: utc(d.NextAttempt), Created: utc(d.Created), Delivered: utc(d.Delivered), LastError: d.LastError,
	}
	if d.Event != nil {
		msg.Event = d.Event.event()
	}
	return msg
}

// RecordEventAndEnqueue records ev and, when it is new, enqueues msgs.
// Elasticsearch has no multi-document transaction, so the messages ride in
// the event document itself (one atomic create) and are then copied to the
// outbox; if the process dies in between, the next Lease, by any worker,
// finishes the copy. An event is thus never recorded without its alerts,
// and the copy is idempotent (message ids are document ids).
func (s *Store) RecordEventAndEnqueue(ctx context.Context, ev news.Event, msgs []news.Message) (bool, error) {
	return s.recordEvent(ctx, ev, msgs)
}

// moveOutbox copies an event's embedded messages into the outbox, then
// clears them from the event.
func (s *Store) moveOutbox(ctx context.Context, d eventDoc) error {
	for _, msg := range d.Outbox {
		if _, err := s.CreateIfAbsent(ctx, s.names.outbox, msg.ID, msg); err != nil {
			return fmt.Errorf("enqueue %s: %w", msg.ID, err)
		}
	}
	path := "/" + pathEscape(s.names.events) + "/_update/" + pathEscape(d.Key)
	body := m{"doc": m{"outbox": nil, "pending_outbox": false}}
	q := s.refreshParam()
	if q == nil {
		q = url.Values{}
	}
	q.Set("retry_on_conflict", "10")
	if err := s.do(ctx, http.MethodPost, path, q, body, nil); err != nil {
		return fmt.Errorf("clear outbox of event %s: %w", d.Key, err)
	}
	return nil
}

// recoverOutbox finishes the copies interrupted by a crash.
func (s *Store) recoverOutbox(ctx context.Context) error {
	var docs []eventDoc
	if err := s.list(ctx, s.names.events, m{"term": m{"pending_outbox": true}}, nil, &docs); err != nil {
		return fmt.Errorf("pending event messages: %w", err)
	}
	for _, d := range docs {
		if err := s.moveOutbox(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// Enqueue adds msg unless a message with its id exists.
func (s *Store) Enqueue(ctx context.Context, msg news.Message) (bool, error) {
	if msg.ID == "" {
		return false, fmt.Errorf("elastic: enqueue: message has no id")
	}
	created, err := s.CreateIfAbsent(ctx, s.names.outbox, msg.ID, toMessageDoc(msg))
	if err != nil {
		return false, fmt.Errorf("elastic: enqueue: %w", err)
	}
	return created, nil
}

// Lease claims up to limit due pending messages, oldest due first. Each
// claim is a conditional write (if_seq_no/if_primary_term) of the copy that
// was read, so of several workers racing for a message exactly one wins; the
// others get 409 and look further.
func (s *Store) Lease(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]news.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	if err := s.recoverOutbox(ctx); err != nil {
		return nil, fmt.Errorf("elastic: lease: %w", err)
	}
	nowStr := now.UTC().Format(timeFormat)
	query := m{"bool": m{
		"filter": []any{
			m{"term": m{"state": string(news.MessagePending)}},
			m{"bool": m{"should": []any{
				m{"range": m{"next_attempt": m{"lte": nowStr}}},
				m{"bool": m{"must_not": []any{m{"exists": m{"field": "next_attempt"}}}}},
			}, "minimum_should_match": 1}},
		},
	}}
	var out []news.Message
	// Each round reads fresh candidates; a round that claims nothing while
	// candidates remain means others claimed them, so reading again is
	// progress, and an empty read ends the loop.
	for len(out) < limit {
		var res struct {
			Hits struct {
				Hits []struct {
					ID          string     `json:"_id"`
					SeqNo       int64      `json:"_seq_no"`
					PrimaryTerm int64      `json:"_primary_term"`
					Source      messageDoc `json:"_source"`
				} `json:"hits"`
			} `json:"hits"`
		}
		body := m{
			"size":                limit - len(out),
			"query":               query,
			"seq_no_primary_term": true,
			"sort":                []any{m{"next_attempt": m{"order": "asc", "missing": "_first"}}, m{"created": m{"order": "asc"}}, m{"id": m{"order": "asc"}}},
			"track_total_hits":    false,
		}
		err := s.do(ctx, http.MethodPost, "/"+pathEscape(s.names.outbox)+"/_search", nil, body, &res)
		if isType(err, "index_not_found_exception") {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("elastic: lease: %w", err)
		}
		if len(res.Hits.Hits) == 0 {
			return out, nil
		}
		for _, h := range res.Hits.Hits {
			d := h.Source
			d.Attempts++
			next := now.Add(lease).UTC()
			d.NextAttempt = &next
			q := s.refreshParam()
			if q == nil {
				q = url.Values{}
			}
			q.Set("if_seq_no", strconv.FormatInt(h.SeqNo, 10))
			q.Set("if_primary_term", strconv.FormatInt(h.PrimaryTerm, 10))
			err := s.do(ctx, http.MethodPut, "/"+pathEscape(s.names.outbox)+"/_doc/"+pathEscape(h.ID), q, d, nil)
			if isStatus(err, http.StatusConflict) {
				continue // another worker leased it first
			}
			if err != nil {
				return out, fmt.Errorf("elastic: lease %s: %w", h.ID, err)
			}
			out = append(out, d.message())
		}
	}
	return out, nil
}

// Renew extends the lease on msg to now+lease. It reads the stored copy and
// writes it back conditionally on that read (if_seq_no/if_primary_term), and
// only while the copy still carries the lease msg holds (pending, same
// attempts and next_attempt): a worker whose lease ran out and was taken over
// learns it here, and a renewal racing a new lease loses with 409.
func (s *Store) Renew(ctx context.Context, msg news.Message, now time.Time, lease time.Duration) (news.Message, error) {
	path := "/" + pathEscape(s.names.outbox) + "/_doc/" + pathEscape(msg.ID)
	var cur struct {
		SeqNo       int64      `json:"_seq_no"`
		PrimaryTerm int64      `json:"_primary_term"`
		Source      messageDoc `json:"_source"`
	}
	err := s.do(ctx, http.MethodGet, path, nil, nil, &cur)
	if isStatus(err, http.StatusNotFound) || isType(err, "index_not_found_exception") {
		return msg, fmt.Errorf("elastic: renew lease of %s: %w", msg.ID, index.ErrNotFound)
	}
	if err != nil {
		return msg, fmt.Errorf("elastic: renew lease of %s: %w", msg.ID, err)
	}
	d := cur.Source
	if d.State != string(news.MessagePending) || d.Attempts != msg.Attempts || !utc(d.NextAttempt).Equal(msg.NextAttempt) {
		return msg, fmt.Errorf("elastic: renew lease of %s: %w", msg.ID, index.ErrLeaseLost)
	}
	next := now.Add(lease).UTC()
	d.NextAttempt = &next
	q := s.refreshParam()
	if q == nil {
		q = url.Values{}
	}
	q.Set("if_seq_no", strconv.FormatInt(cur.SeqNo, 10))
	q.Set("if_primary_term", strconv.FormatInt(cur.PrimaryTerm, 10))
	err = s.do(ctx, http.MethodPut, path, q, d, nil)
	if isStatus(err, http.StatusConflict) {
		return msg, fmt.Errorf("elastic: renew lease of %s: %w", msg.ID, index.ErrLeaseLost)
	}
	if err != nil {
		return msg, fmt.Errorf("elastic: renew lease of %s: %w", msg.ID, err)
	}
	msg.NextAttempt = next
	return msg, nil
}

// Update stores a message's state after a delivery attempt; ErrNotFound for
// an id never enqueued.
func (s *Store) Update(ctx context.Context, msg news.Message) error {
	path := "/" + pathEscape(s.names.outbox) + "/_update/" + pathEscape(msg.ID)
	q := s.refreshParam()
	if q == nil {
		q = url.Values{}
	}
	q.Set("retry_on_conflict", "3")
	err := s.do(ctx, http.MethodPost, path, q, m{"doc": toMessageDoc(msg)}, nil)
	if isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("elastic: update message %s: %w", msg.ID, index.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("elastic: update message %s: %w", msg.ID, err)
	}
	return nil
}

// Messages lists messages newest first.
func (s *Store) Messages(ctx context.Context, f index.MessageFilter) ([]news.Message, error) {
	filter := []any{}
	if f.Kind != "" {
		filter = append(filter, m{"term": m{"kind": string(f.Kind)}})
	}
	if len(f.States) > 0 {
		filter = append(filter, m{"terms": m{"state": stringsOf(f.States)}})
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	body := m{
		"size":  min(limit, maxListed),
		"query": m{"bool": m{"filter": filter}},
		"sort":  []any{m{"created": m{"order": "desc"}}, m{"id": m{"order": "desc"}}},
	}
	var res struct {
		Hits struct {
			Hits []struct {
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	err := s.do(ctx, http.MethodPost, "/"+pathEscape(s.names.outbox)+"/_search", nil, body, &res)
	if isType(err, "index_not_found_exception") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("elastic: messages: %w", err)
	}
	var out []news.Message
	for _, h := range res.Hits.Hits {
		var d messageDoc
		if err := json.Unmarshal(h.Source, &d); err != nil {
			return nil, fmt.Errorf("elastic: messages: %w", err)
		}
		out = append(out, d.message())
	}
	return out, nil
}

package disk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// SourceStates returns the saved state of every source, by source id.
func (s *Store) SourceStates(ctx context.Context) (map[string]news.SourceState, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT source_id, state FROM source_state`)
	if err != nil {
		return nil, fmt.Errorf("disk: source states: %w", err)
	}
	defer rows.Close()
	out := map[string]news.SourceState{}
	for rows.Next() {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, fmt.Errorf("disk: source states: %w", err)
		}
		var st news.SourceState
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return nil, fmt.Errorf("disk: source state %s: %w", id, err)
		}
		st.SourceID = id
		out[id] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("disk: source states: %w", err)
	}
	return out, nil
}

// SaveSourceState replaces the saved state of st.SourceID. It returns once
// the state is committed. Calls made while another is being written are
// committed together, in one transaction, by one of them: a feed cycle saves
// every source's state, and ten thousand one-row commits cost more than the
// cycle's fetches (BENCHMARKS.md).
func (s *Store) SaveSourceState(ctx context.Context, st news.SourceState) error {
	if st.SourceID == "" {
		return errors.New("disk: save source state: empty SourceID")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("disk: save source state %s: %w", st.SourceID, err)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("disk: save source state %s: %w", st.SourceID, err)
	}
	req := &stateSave{id: st.SourceID, state: string(raw), updated: time.Now().UnixNano(), done: make(chan error, 1)}
	q := &s.stateQueue
	q.mu.Lock()
	q.waiting = append(q.waiting, req)
	lead := !q.writing
	q.writing = true
	q.mu.Unlock()
	if !lead {
		// Waiters do not give up on ctx: the leader may hand the writing
		// on to any of them, and one that left would leave it undone. A
		// batch takes at most the busy timeout.
		if err := <-req.done; err != errLeadStates {
			if err != nil {
				return fmt.Errorf("disk: save source state %s: %w", st.SourceID, err)
			}
			return nil
		}
	}
	q.mu.Lock()
	batch := q.waiting
	q.waiting = nil
	q.mu.Unlock()
	// The batch holds other callers' states: it is written whatever
	// happens to this caller's context.
	err = s.writeStates(context.WithoutCancel(ctx), batch)
	for _, r := range batch {
		if r != req {
			r.done <- err
		}
	}
	q.mu.Lock()
	if len(q.waiting) > 0 {
		q.waiting[0].done <- errLeadStates // arrived during our write: one of them writes next
	} else {
		q.writing = false
	}
	q.mu.Unlock()
	if err != nil {
		return fmt.Errorf("disk: save source state %s: %w", st.SourceID, err)
	}
	return nil
}

// stateQueue gathers the SaveSourceState calls that wait for a write.
type stateQueue struct {
	mu      sync.Mutex
	writing bool         // a caller is writing a batch, or about to
	waiting []*stateSave // in call order; the first is the next writer
}

// stateSave is one waiting SaveSourceState call.
type stateSave struct {
	id, state string
	updated   int64
	done      chan error // buffered: the batch's result, or errLeadStates
}

// errLeadStates tells a waiting call that it writes the next batch.
var errLeadStates = errors.New("disk: write the waiting source states")

// saveStateSQL upserts one source's state.
const saveStateSQL = `INSERT INTO source_state (source_id, state, updated) VALUES (?, ?, ?)
ON CONFLICT (source_id) DO UPDATE SET state = excluded.state, updated = excluded.updated`

// writeStates commits batch in one transaction, in call order, so the later
// of two saves of one source wins.
func (s *Store) writeStates(ctx context.Context, batch []*stateSave) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Prepared once on the writer's only connection: preparing it for every
	// batch cost as much as the batch's commit.
	stmt := tx.StmtContext(ctx, s.saveState)
	defer stmt.Close()
	for _, r := range batch {
		if _, err := stmt.ExecContext(ctx, r.id, r.state, r.updated); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// RecordEvent stores ev unless an event with its key exists. It reports
// whether this call created it; otherwise it counts one more article for the
// existing event. The insert is one statement under SQLite's write lock, so
// exactly one caller wins, across goroutines and processes.
func (s *Store) RecordEvent(ctx context.Context, ev news.Event) (bool, error) {
	return s.RecordEventAndEnqueue(ctx, ev, nil)
}

// eventKey is the key ev is stored under.
func eventKey(ev news.Event) (string, error) {
	if ev.Country == "" && ev.Action == "" && ev.Key == "" {
		return "", errors.New("no key, country or action")
	}
	if ev.Key != "" {
		return ev.Key, nil
	}
	return news.EventKey(ev.Country, ev.Action, ev.Treaty), nil
}

// recordEvent is RecordEvent inside tx.
func recordEvent(ctx context.Context, tx *sql.Tx, key string, ev news.Event) (bool, error) {
	articles := max(ev.Articles, 1)
	firstSeen := ev.FirstSeen
	if firstSeen.IsZero() {
		firstSeen = time.Now()
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO events (key, country, action, treaty, first_seen,
		first_article_id, first_source_id, evidence, articles, effective_date)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		key, ev.Country, string(ev.Action), string(ev.Treaty), firstSeen.UnixNano(),
		ev.FirstArticleID, ev.FirstSourceID, ev.Evidence, articles, nanos(ev.EffectiveDate))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	created := n == 1
	if !created {
		if _, err := tx.ExecContext(ctx, `UPDATE events SET articles = articles + 1 WHERE key = ?`, key); err != nil {
			return false, err
		}
	}
	return created, nil
}

// Events lists the events f selects, newest first.
func (s *Store) Events(ctx context.Context, f index.EventFilter) ([]news.Event, error) {
	var (
		conds []string
		args  []any
	)
	if len(f.Countries) > 0 {
		conds = append(conds, "country IN ("+placeholders(len(f.Countries))+")")
		for _, c := range f.Countries {
			args = append(args, c)
		}
	}
	if len(f.Actions) > 0 {
		conds = append(conds, "action IN ("+placeholders(len(f.Actions))+")")
		for _, a := range f.Actions {
			args = append(args, string(a))
		}
	}
	if !f.Since.IsZero() {
		conds = append(conds, "first_seen >= ?")
		args = append(args, f.Since.UnixNano())
	}
	q := `SELECT key, country, action, treaty, first_seen, first_article_id, first_source_id, evidence,
		articles, effective_date FROM events`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY first_seen DESC, key"
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("disk: events: %w", err)
	}
	defer rows.Close()
	var out []news.Event
	for rows.Next() {
		var (
			ev             news.Event
			action, treaty string
			firstSeen      int64
			effective      sql.NullInt64
		)
		if err := rows.Scan(&ev.Key, &ev.Country, &action, &treaty, &firstSeen, &ev.FirstArticleID,
			&ev.FirstSourceID, &ev.Evidence, &ev.Articles, &effective); err != nil {
			return nil, fmt.Errorf("disk: events: %w", err)
		}
		ev.Action, ev.Treaty = news.Action(action), news.Treaty(treaty)
		ev.FirstSeen = time.Unix(0, firstSeen).UTC()
		ev.EffectiveDate = fromNanos(effective)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("disk: events: %w", err)
	}
	return out, nil
}

package disk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
// the state is committed. Calls made while another write is under way are
// committed together with it (groupDo): a feed cycle saves every source's
// state, and ten thousand one-row commits cost more than the cycle's fetches
// (BENCHMARKS.md).
func (s *Store) SaveSourceState(ctx context.Context, st news.SourceState) error {
	if st.SourceID == "" {
		return errors.New("disk: save source state: empty SourceID")
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("disk: save source state %s: %w", st.SourceID, err)
	}
	updated := time.Now().UnixNano()
	err = s.groupDo(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Prepared once on the writer's only connection: preparing it for
		// every save cost as much as a commit.
		_, err := tx.StmtContext(ctx, s.saveState).ExecContext(ctx, st.SourceID, string(raw), updated)
		return markFull(err)
	})
	if err != nil {
		return fmt.Errorf("disk: save source state %s: %w", st.SourceID, err)
	}
	return nil
}

// saveStateSQL upserts one source's state.
const saveStateSQL = `INSERT INTO source_state (source_id, state, updated) VALUES (?, ?, ?)
ON CONFLICT (source_id) DO UPDATE SET state = excluded.state, updated = excluded.updated`

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

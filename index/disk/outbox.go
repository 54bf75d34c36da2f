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

// ErrNoMessageID rejects an outbox message without an ID: the ID is what
// makes sending idempotent.
var ErrNoMessageID = errors.New("disk: message has no id")

var _ index.LeaseRenewer = (*Store)(nil)

// defaultMessages is MessageFilter's limit when it sets none.
const defaultMessages = 100

const insertMessage = `INSERT INTO outbox (id, kind, rule_id, channel, subscriber, period, event, state,
	attempts, next_attempt, created, delivered, last_error)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`

const messageColumns = `id, kind, rule_id, channel, subscriber, period, event, state, attempts, next_attempt,
	created, delivered, last_error`

// RecordEventAndEnqueue records ev as RecordEvent does and, only when this
// call created it, enqueues msgs (each unless its ID exists), all in one
// write transaction: an event is never stored without its alerts.
func (s *Store) RecordEventAndEnqueue(ctx context.Context, ev news.Event, msgs []news.Message) (bool, error) {
	key, err := eventKey(ev)
	if err != nil {
		return false, fmt.Errorf("disk: record event: %w", err)
	}
	now := time.Now()
	args := make([][]any, len(msgs))
	for i, m := range msgs {
		if args[i], err = messageArgs(m, now); err != nil {
			return false, fmt.Errorf("disk: record event %s: %w", key, err)
		}
	}
	tx, err := s.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see Open
	if err != nil {
		return false, fmt.Errorf("disk: record event %s: %w", key, markFull(err))
	}
	defer tx.Rollback()
	created, err := recordAndEnqueue(ctx, tx, key, ev, msgs, args)
	if err != nil {
		return false, fmt.Errorf("disk: record event %s: %w", key, markFull(err))
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("disk: record event %s: %w", key, markFull(err))
	}
	return created, nil
}

// recordAndEnqueue is RecordEventAndEnqueue inside tx; args are msgs
// rendered by messageArgs.
func recordAndEnqueue(ctx context.Context, tx *sql.Tx, key string, ev news.Event, msgs []news.Message, args [][]any) (bool, error) {
	created, err := recordEvent(ctx, tx, key, ev)
	if err != nil || !created {
		return false, err
	}
	for i, a := range args {
		if _, err := tx.ExecContext(ctx, insertMessage, a...); err != nil {
			return false, fmt.Errorf("enqueue %s: %w", msgs[i].ID, err)
		}
	}
	return true, nil
}

// PutAndRecord indexes docs as Put does and records events[i] as
// RecordEventAndEnqueue does with msgs[i] (msgs may be nil, or shorter than
// events), all in one write transaction. A monitor that wrote the articles
// and then their events in two steps lost the events for good when it died
// or hit a full disk in between: the next fetch finds the articles' URLs
// known and never classifies them again. Here a crash or an error leaves
// either everything or nothing, and nothing means the next fetch retries.
//
// Events whose FirstArticleID is a document Put rejects (PutResult.Failed)
// are not recorded. created[i] reports whether events[i] was new.
func (s *Store) PutAndRecord(ctx context.Context, docs []news.Document, events []news.Event, msgs [][]news.Message) (index.PutResult, []bool, error) {
	rows, ok, failed := encodeAll(docs)
	res := index.PutResult{Failed: failed}
	keys := make([]string, len(events))
	args := make([][][]any, len(events))
	now := time.Now()
	for i, ev := range events {
		key, err := eventKey(ev)
		if err != nil {
			return index.PutResult{}, nil, fmt.Errorf("disk: put and record: event %d: %w", i, err)
		}
		keys[i] = key
		if i >= len(msgs) {
			continue
		}
		args[i] = make([][]any, len(msgs[i]))
		for j, m := range msgs[i] {
			if args[i][j], err = messageArgs(m, now); err != nil {
				return index.PutResult{}, nil, fmt.Errorf("disk: put and record: event %s: %w", key, err)
			}
		}
	}
	created := make([]bool, len(events))
	// Written with the other sources' writes pending at the same moment, in
	// one transaction (groupDo): a commit per source was a fifth of a poll
	// cycle.
	err := s.groupDo(ctx, func(ctx context.Context, tx *sql.Tx) error {
		indexed, err := s.putAll(ctx, tx, docs, rows, ok)
		if err != nil {
			return err
		}
		for i, ev := range events {
			if _, rejected := res.Failed[ev.FirstArticleID]; rejected && ev.FirstArticleID != "" {
				continue
			}
			var m []news.Message
			if i < len(msgs) {
				m = msgs[i]
			}
			if created[i], err = recordAndEnqueue(ctx, tx, keys[i], ev, m, args[i]); err != nil {
				return fmt.Errorf("record event %s: %w", keys[i], markFull(err))
			}
		}
		res.Indexed = indexed
		return nil
	})
	if err != nil {
		return index.PutResult{}, nil, fmt.Errorf("disk: put and record: %w", err)
	}
	return res, created, nil
}

// messageArgs checks m and renders it for insertMessage. A zero State is
// pending, a zero Created is now.
func messageArgs(m news.Message, now time.Time) ([]any, error) {
	if m.ID == "" {
		return nil, ErrNoMessageID
	}
	ev, err := json.Marshal(m.Event)
	if err != nil {
		return nil, fmt.Errorf("encode event of %s: %w", m.ID, err)
	}
	if m.State == "" {
		m.State = news.MessagePending
	}
	if m.Created.IsZero() {
		m.Created = now
	}
	return []any{m.ID, string(m.Kind), m.RuleID, m.Channel, m.Subscriber, m.Period, string(ev), string(m.State),
		m.Attempts, at(m.NextAttempt), m.Created.UnixNano(), nanos(m.Delivered), m.LastError}, nil
}

// at is t for a NOT NULL time column: Unix nanoseconds, 0 for the zero time,
// so that an unset NextAttempt sorts first and is due at once.
func at(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromAt undoes at, in UTC.
func fromAt(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Enqueue adds m unless a message with its ID exists; created says which.
func (s *Store) Enqueue(ctx context.Context, m news.Message) (bool, error) {
	args, err := messageArgs(m, time.Now())
	if err != nil {
		return false, fmt.Errorf("disk: enqueue: %w", err)
	}
	res, err := s.writer.ExecContext(ctx, insertMessage, args...)
	if err != nil {
		return false, fmt.Errorf("disk: enqueue %s: %w", m.ID, markFull(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("disk: enqueue %s: %w", m.ID, err)
	}
	return n == 1, nil
}

// Lease takes up to limit pending messages due at now, oldest due first, and
// moves their NextAttempt to now+lease and counts the attempt, in one write
// transaction: concurrent callers, in this process or another, never get the
// same message until its lease has passed.
func (s *Store) Lease(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]news.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	tx, err := s.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see Open
	if err != nil {
		return nil, fmt.Errorf("disk: lease: %w", markFull(err))
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+messageColumns+` FROM outbox
		WHERE state = ? AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?`,
		string(news.MessagePending), now.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("disk: lease: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("disk: lease: %w", err)
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	next := now.Add(lease)
	upd, err := tx.PrepareContext(ctx, `UPDATE outbox SET next_attempt = ?, attempts = attempts + 1 WHERE id = ?`)
	if err != nil {
		return nil, fmt.Errorf("disk: lease: %w", err)
	}
	defer upd.Close()
	for i := range msgs {
		if _, err := upd.ExecContext(ctx, at(next), msgs[i].ID); err != nil {
			return nil, fmt.Errorf("disk: lease %s: %w", msgs[i].ID, markFull(err))
		}
		msgs[i].NextAttempt = fromAt(at(next))
		msgs[i].Attempts++
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("disk: lease: %w", markFull(err))
	}
	return msgs, nil
}

// Renew extends the lease on m to now+lease in one conditional statement:
// only while the row still carries the lease m holds (pending, same attempts
// and next_attempt, which Lease and Renew write), so a worker whose lease
// ran out and was taken over, or whose message was updated, gets
// index.ErrLeaseLost and never pushes another worker's lease around.
func (s *Store) Renew(ctx context.Context, m news.Message, now time.Time, lease time.Duration) (news.Message, error) {
	next := at(now.Add(lease))
	res, err := s.writer.ExecContext(ctx, `UPDATE outbox SET next_attempt = ?
		WHERE id = ? AND state = ? AND attempts = ? AND next_attempt = ?`,
		next, m.ID, string(news.MessagePending), m.Attempts, at(m.NextAttempt))
	if err != nil {
		return m, fmt.Errorf("disk: renew lease of %s: %w", m.ID, markFull(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return m, fmt.Errorf("disk: renew lease of %s: %w", m.ID, err)
	}
	if n == 0 {
		var one int
		err := s.reader.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE id = ?`, m.ID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return m, fmt.Errorf("disk: renew lease of %s: %w", m.ID, index.ErrNotFound)
		}
		return m, fmt.Errorf("disk: renew lease of %s: %w", m.ID, index.ErrLeaseLost)
	}
	m.NextAttempt = fromAt(next)
	return m, nil
}

// Update stores m's delivery state: State, Attempts, NextAttempt, Delivered
// and LastError. It returns an error wrapping index.ErrNotFound when no
// message has m.ID.
func (s *Store) Update(ctx context.Context, m news.Message) error {
	state := m.State
	if state == "" {
		state = news.MessagePending
	}
	res, err := s.writer.ExecContext(ctx, `UPDATE outbox SET state = ?, attempts = ?, next_attempt = ?,
		delivered = ?, last_error = ? WHERE id = ?`,
		string(state), m.Attempts, at(m.NextAttempt), nanos(m.Delivered), m.LastError, m.ID)
	if err != nil {
		return fmt.Errorf("disk: update message %s: %w", m.ID, markFull(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("disk: update message %s: %w", m.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("disk: update message %s: %w", m.ID, index.ErrNotFound)
	}
	return nil
}

// Messages lists the messages f selects, newest (by Created) first.
func (s *Store) Messages(ctx context.Context, f index.MessageFilter) ([]news.Message, error) {
	var (
		conds []string
		args  []any
	)
	if f.Kind != "" {
		conds = append(conds, "kind = ?")
		args = append(args, string(f.Kind))
	}
	if len(f.States) > 0 {
		conds = append(conds, "state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	q := `SELECT ` + messageColumns + ` FROM outbox`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultMessages
	}
	q += " ORDER BY created DESC, id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("disk: messages: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("disk: messages: %w", err)
	}
	return msgs, nil
}

// scanMessages reads messageColumns rows and closes rows.
func scanMessages(rows *sql.Rows) ([]news.Message, error) {
	defer rows.Close()
	var out []news.Message
	for rows.Next() {
		var (
			m                    news.Message
			kind, state, ev      string
			nextAttempt, created int64
			delivered            sql.NullInt64
		)
		if err := rows.Scan(&m.ID, &kind, &m.RuleID, &m.Channel, &m.Subscriber, &m.Period, &ev, &state,
			&m.Attempts, &nextAttempt, &created, &delivered, &m.LastError); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(ev), &m.Event); err != nil {
			return nil, fmt.Errorf("decode event of message %s: %w", m.ID, err)
		}
		m.Kind, m.State = news.MessageKind(kind), news.MessageState(state)
		m.NextAttempt = fromAt(nextAttempt)
		m.Created = time.Unix(0, created).UTC()
		m.Delivered = fromNanos(delivered)
		out = append(out, m)
	}
	return out, rows.Err()
}

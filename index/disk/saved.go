package disk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/minewatch/minewatch/index"
)

// SaveSearch inserts s, or replaces the saved search with its ID. The page
// fields of the query (Cursor, Limit) are not kept. A zero Created is set to
// now.
func (s *Store) SaveSearch(ctx context.Context, ss index.SavedSearch) error {
	if ss.ID == "" {
		return errors.New("disk: save search: empty ID")
	}
	ss.Query.Cursor, ss.Query.Limit = "", 0
	raw, err := json.Marshal(ss.Query)
	if err != nil {
		return fmt.Errorf("disk: save search %s: %w", ss.ID, err)
	}
	created := ss.Created
	if created.IsZero() {
		created = time.Now()
	}
	_, err = s.writer.ExecContext(ctx, `INSERT INTO saved_searches (id, name, query, created) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, query = excluded.query, created = excluded.created`,
		ss.ID, ss.Name, string(raw), created.UnixNano())
	if err != nil {
		return fmt.Errorf("disk: save search %s: %w", ss.ID, err)
	}
	return nil
}

// SavedSearches lists the saved searches, oldest first.
func (s *Store) SavedSearches(ctx context.Context) ([]index.SavedSearch, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT id, name, query, created FROM saved_searches ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("disk: saved searches: %w", err)
	}
	defer rows.Close()
	var out []index.SavedSearch
	for rows.Next() {
		var (
			ss      index.SavedSearch
			raw     string
			created int64
		)
		if err := rows.Scan(&ss.ID, &ss.Name, &raw, &created); err != nil {
			return nil, fmt.Errorf("disk: saved searches: %w", err)
		}
		if err := json.Unmarshal([]byte(raw), &ss.Query); err != nil {
			return nil, fmt.Errorf("disk: saved search %s: decode query: %w", ss.ID, err)
		}
		ss.Created = time.Unix(0, created).UTC()
		out = append(out, ss)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("disk: saved searches: %w", err)
	}
	return out, nil
}

// DeleteSearch removes a saved search, or returns an error wrapping
// index.ErrNotFound when there is none with that id.
func (s *Store) DeleteSearch(ctx context.Context, id string) error {
	res, err := s.writer.ExecContext(ctx, `DELETE FROM saved_searches WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("disk: delete search %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("disk: delete search %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("disk: delete search %s: %w", id, index.ErrNotFound)
	}
	return nil
}

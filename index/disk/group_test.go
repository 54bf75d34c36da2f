package disk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// TestGroupCommitIsolatesFailures runs writers concurrently through one
// group commit, some of which fail after writing: each failed writer's rows
// are rolled back alone, every other writer's rows are committed by the time
// its call returns.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	errBoom := errors.New("boom")
	const writers = 40
	var wg sync.WaitGroup
	results := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("w%02d", i)
			results[i] = s.groupDo(ctx, func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, saveStateSQL, id, `{}`, time.Now().UnixNano()); err != nil {
					return err
				}
				if i%4 == 3 {
					return errBoom // after its write: the savepoint must undo it
				}
				return nil
			})
			if results[i] == nil {
				// Committed before the call returned.
				if _, err := s.SourceStates(ctx); err != nil {
					results[i] = err
				}
			}
		})
	}
	wg.Wait()
	states, err := s.SourceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range results {
		id := fmt.Sprintf("w%02d", i)
		_, stored := states[id]
		switch {
		case i%4 == 3 && (!errors.Is(err, errBoom) || stored):
			t.Errorf("%s: err %v, stored %v; want boom and nothing stored", id, err, stored)
		case i%4 != 3 && (err != nil || !stored):
			t.Errorf("%s: err %v, stored %v; want stored", id, err, stored)
		}
	}
}

// TestPutAndRecordConcurrent writes sources' articles and events at once, as
// a poll cycle's workers do: shared transactions must keep each call's
// results (indexed count, which event was new) its own.
func TestPutAndRecordConcurrent(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	const sources = 12
	var wg sync.WaitGroup
	type result struct {
		indexed int
		created []bool
		err     error
	}
	results := make([]result, sources)
	for i := range sources {
		wg.Go(func() {
			var docs []news.Document
			for j := range 3 {
				id := fmt.Sprintf("s%02d-a%d", i, j)
				docs = append(docs, news.Document{Article: news.Article{ID: id, URL: "https://e.example/" + id,
					Title: "Lithuania withdraws " + id, SourceID: fmt.Sprintf("s%02d", i), FirstSeen: time.Now()}})
			}
			// Every source reports the shared event; each also its own.
			evs := []news.Event{
				{Country: "LT", Action: news.ActionWithdrawNotify, Treaty: news.TreatyOttawa, FirstArticleID: docs[0].ID},
				{Country: fmt.Sprintf("X%d", i), Action: news.ActionRemain, Treaty: news.TreatyOttawa, FirstArticleID: docs[1].ID},
			}
			res, created, err := s.PutAndRecord(ctx, docs, evs, nil)
			results[i] = result{res.Indexed, created, err}
		})
	}
	wg.Wait()
	shared := 0
	for i, r := range results {
		if r.err != nil || r.indexed != 3 || len(r.created) != 2 {
			t.Fatalf("source %d: %+v; want 3 indexed, 2 events", i, r)
		}
		if !r.created[1] {
			t.Errorf("source %d: its own event not reported new", i)
		}
		if r.created[0] {
			shared++
		}
	}
	if shared != 1 {
		t.Errorf("the shared event was reported new %d times, want once", shared)
	}
	evs, err := s.Events(ctx, index.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != sources+1 {
		t.Errorf("%d events stored, want %d", len(evs), sources+1)
	}
}

package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// ErrNoID is the failure of a document without an id.
var ErrNoID = errors.New("elastic: document has no id")

// ItemError is why Elasticsearch rejected one document of a bulk request.
type ItemError struct {
	Status int
	Type   string // e.g. mapper_parsing_exception, es_rejected_execution_exception
	Reason string
}

func (e *ItemError) Error() string {
	return fmt.Sprintf("elasticsearch: status %d: %s: %s", e.Status, e.Type, e.Reason)
}

// Temporary reports whether retrying may succeed: throttling (429) and server
// errors; a mapping error or any other 4xx is permanent.
func (e *ItemError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// BulkStats counts bulk items since Open.
type BulkStats struct {
	Indexed uint64 // acknowledged
	Retried uint64 // per-item 429/5xx sent again
	Failed  uint64 // rejected for good, or given up after retries
}

type counters struct {
	indexed, retried, failed atomic.Uint64
}

// BulkStats returns the bulk item counters of this process.
func (s *Store) BulkStats() BulkStats {
	return BulkStats{Indexed: s.counters.indexed.Load(), Retried: s.counters.retried.Load(), Failed: s.counters.failed.Load()}
}

// lookupBatch is how many ids one existence lookup asks for.
const lookupBatch = 1000

// existing is where a document already lives and when it was first seen.
type existing struct {
	index     string
	firstSeen *time.Time
}

// Put indexes docs through the bulk indexer and returns once every document is
// acknowledged or has failed for good. A document already stored is replaced
// in the index that holds it (so months never hold duplicates) and keeps its
// FirstSeen; a new one goes to the write alias.
func (s *Store) Put(ctx context.Context, docs ...news.Document) (index.PutResult, error) {
	res := index.PutResult{}
	if err := s.enter(); err != nil {
		return res, err
	}
	defer s.inflight.Done()

	// The last copy of an id wins, as it would in sequential Puts.
	order := make([]string, 0, len(docs))
	byID := make(map[string]news.Document, len(docs))
	for _, d := range docs {
		if d.ID == "" {
			if res.Failed == nil {
				res.Failed = map[string]error{}
			}
			res.Failed[""] = ErrNoID
			continue
		}
		if _, dup := byID[d.ID]; !dup {
			order = append(order, d.ID)
		}
		byID[d.ID] = d
	}
	if len(order) == 0 {
		return res, nil
	}
	if err := s.ensureMonth(ctx); err != nil {
		return res, fmt.Errorf("elastic: put: %w", err)
	}
	found, err := s.lookup(ctx, order)
	if err != nil {
		return res, fmt.Errorf("elastic: put: %w", err)
	}

	p := &putState{s: s, failed: res.Failed}
	for _, id := range order {
		d := byID[id]
		target := s.names.write
		if ex, ok := found[id]; ok {
			target = ex.index
			if ex.firstSeen != nil {
				d.FirstSeen = *ex.firstSeen
			}
		}
		body, err := json.Marshal(toSource(d))
		if err != nil {
			p.fail(id, fmt.Errorf("encode: %w", err))
			continue
		}
		p.wg.Add(1)
		if err := s.bulk.Add(ctx, p.item(target, id, body, 1)); err != nil {
			p.wg.Done()
			p.setErr(fmt.Errorf("elastic: put %s: %w", id, err))
			break
		}
	}
	// Flush sends what this Put queued (and whatever else is queued) now
	// instead of at the next interval, so Put is synchronous.
	if err := s.bulk.Flush(ctx); err != nil {
		p.setErr(fmt.Errorf("elastic: put: flush: %w", err))
	}
	p.wg.Wait()
	res.Indexed = int(p.indexed.Load())
	res.Failed = p.failed
	return res, p.err
}

// putState collects the outcome of one Put's items.
type putState struct {
	s       *Store
	wg      sync.WaitGroup
	indexed atomic.Int64
	mu      sync.Mutex
	failed  map[string]error
	err     error
}

func (p *putState) fail(id string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed == nil {
		p.failed = map[string]error{}
	}
	p.failed[id] = err
}

func (p *putState) setErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
}

// item is the bulk item for one document; attempt counts sends.
func (p *putState) item(target, id string, body []byte, attempt int) esutil.BulkIndexerItem {
	s := p.s
	return esutil.BulkIndexerItem{
		Action:     "index",
		Index:      target,
		DocumentID: id,
		Body:       bytes.NewReader(body),
		OnSuccess: func(context.Context, esutil.BulkIndexerItem, esutil.BulkIndexerResponseItem) {
			s.counters.indexed.Add(1)
			p.indexed.Add(1)
			p.wg.Done()
		},
		OnFailure: func(ctx context.Context, _ esutil.BulkIndexerItem, r esutil.BulkIndexerResponseItem, err error) {
			if err != nil {
				// The whole request failed after the client's own retries: the
				// cluster is unreachable or refusing; the caller must know.
				s.counters.failed.Add(1)
				p.setErr(fmt.Errorf("elastic: put %s: %w", id, err))
				p.wg.Done()
				return
			}
			ie := &ItemError{Status: r.Status, Type: r.Error.Type, Reason: r.Error.Reason}
			if !ie.Temporary() || attempt > s.retries {
				s.counters.failed.Add(1)
				s.log.Warn("elastic: document rejected", "id", id, "status", ie.Status, "type", ie.Type, "reason", ie.Reason, "attempts", attempt)
				p.fail(id, ie)
				p.wg.Done()
				return
			}
			s.counters.retried.Add(1)
			// Re-queue from a new goroutine: this callback runs in a bulk
			// worker, and Add could block on that same worker's queue.
			go p.retry(ctx, target, id, body, attempt+1, ie)
		},
	}
}

func (p *putState) retry(ctx context.Context, target, id string, body []byte, attempt int, last error) {
	s := p.s
	if err := sleep(ctx, s.backoff(attempt-1)); err != nil {
		p.fail(id, fmt.Errorf("%w (retry abandoned: %w)", last, err))
		p.wg.Done()
		return
	}
	if err := s.bulk.Add(ctx, p.item(target, id, body, attempt)); err != nil {
		p.fail(id, fmt.Errorf("%w (re-queue: %w)", last, err))
		p.wg.Done()
		return
	}
	if err := s.bulk.Flush(ctx); err != nil {
		p.setErr(fmt.Errorf("elastic: put %s: flush retry: %w", id, err))
	}
}

// lookup finds which ids are already stored, in which index, and since when.
func (s *Store) lookup(ctx context.Context, ids []string) (map[string]existing, error) {
	found := make(map[string]existing)
	for start := 0; start < len(ids); start += lookupBatch {
		batch := ids[start:min(start+lookupBatch, len(ids))]
		var res struct {
			Hits struct {
				Hits []struct {
					Index  string `json:"_index"`
					ID     string `json:"_id"`
					Source struct {
						FirstSeen *time.Time `json:"first_seen"`
					} `json:"_source"`
				} `json:"hits"`
			} `json:"hits"`
		}
		body := map[string]any{
			"size":    len(batch),
			"query":   map[string]any{"ids": map[string]any{"values": batch}},
			"_source": []string{"first_seen"},
		}
		if err := s.do(ctx, http.MethodPost, "/"+pathEscape(s.names.read)+"/_search", nil, body, &res); err != nil {
			return nil, fmt.Errorf("look up existing ids: %w", err)
		}
		for _, h := range res.Hits.Hits {
			// An id in two indices (an interrupted reindex) is written where
			// the first seen copy is; both are found, the earlier date wins.
			if ex, ok := found[h.ID]; ok && ex.firstSeen != nil && (h.Source.FirstSeen == nil || ex.firstSeen.Before(*h.Source.FirstSeen)) {
				continue
			}
			found[h.ID] = existing{index: h.Index, firstSeen: h.Source.FirstSeen}
		}
	}
	return found, nil
}

package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"net/http"
	"strconv"
	"time"

	"github.com/minewatch/minewatch/news"
)

// simBandCount splits a SimHash into 16-bit bands. Two hashes within 3 bits
// share at least one whole band (pigeonhole), so for the usual small
// distances a terms query on the bands finds every candidate.
const simBandCount = 4

// simBands renders the bands of h as keywords; none for 0, which means "no
// fingerprint".
func simBands(h uint64) []string {
	if h == 0 {
		return nil
	}
	out := make([]string, simBandCount)
	for i := range out {
		out[i] = strconv.Itoa(i) + ":" + strconv.FormatUint(h>>(16*i)&0xFFFF, 16)
	}
	return out
}

// storyPage is how many candidates one FindStory request reads.
const storyPage = 500

// FindStory returns the StoryID of the earliest-seen stored document whose
// SimHash is within maxBits of h and whose FirstSeen is at or after since.
// Up to 3 bits the candidates come from the band terms; beyond, every
// fingerprinted document since since is read (in pages) and compared.
func (s *Store) FindStory(ctx context.Context, h uint64, maxBits int, since time.Time) (string, bool, error) {
	if h == 0 {
		return "", false, nil
	}
	filter := []any{m{"exists": m{"field": "simhash_bands"}}}
	if maxBits < simBandCount {
		filter = []any{m{"terms": m{"simhash_bands": simBands(h)}}}
	}
	if !since.IsZero() {
		filter = append(filter, m{"range": m{"first_seen": m{"gte": since.UTC().Format(timeFormat)}}})
	}
	body := m{
		"size":             storyPage,
		"query":            m{"bool": m{"filter": filter}},
		"_source":          []string{"simhash", "story_id", "id"},
		"sort":             []any{m{"first_seen": m{"order": "asc", "missing": "_last"}}, m{"id": m{"order": "asc"}}},
		"track_total_hits": false,
	}
	for {
		var res struct {
			Hits struct {
				Hits []struct {
					Source struct {
						ID      string `json:"id"`
						SimHash uint64 `json:"simhash"`
						StoryID string `json:"story_id"`
					} `json:"_source"`
					Sort []json.RawMessage `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := s.do(ctx, http.MethodPost, "/"+pathEscape(s.names.read)+"/_search", nil, body, &res); err != nil {
			return "", false, fmt.Errorf("elastic: find story: %w", err)
		}
		for _, hit := range res.Hits.Hits {
			if bits.OnesCount64(hit.Source.SimHash^h) <= maxBits {
				story := hit.Source.StoryID
				if story == "" {
					story = hit.Source.ID
				}
				return story, true, nil
			}
		}
		if len(res.Hits.Hits) < storyPage {
			return "", false, nil
		}
		body["search_after"] = res.Hits.Hits[len(res.Hits.Hits)-1].Sort
	}
}

// StoryDocuments lists the documents of one story, oldest first (by
// FirstSeen, then id), at most limit (0 means 100).
func (s *Store) StoryDocuments(ctx context.Context, storyID string, limit int) ([]news.Document, error) {
	if limit <= 0 {
		limit = 100
	}
	body := m{
		"size":             min(limit, maxListed),
		"query":            m{"bool": m{"filter": []any{m{"term": m{"story_id": storyID}}}}},
		"sort":             []any{m{"first_seen": m{"order": "asc", "missing": "_last"}}, m{"id": m{"order": "asc"}}},
		"track_total_hits": false,
	}
	var res searchResponse
	if err := s.do(ctx, http.MethodPost, "/"+pathEscape(s.names.read)+"/_search", nil, body, &res); err != nil {
		return nil, fmt.Errorf("elastic: story %s: %w", storyID, err)
	}
	out := make([]news.Document, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		out = append(out, h.Source.document())
	}
	return out, nil
}

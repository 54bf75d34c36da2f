package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// Highlight tags: private-use characters, which news text never holds, so
// splitting on them cannot be fooled by the text.
const (
	matchStart = "\uE000"
	matchEnd   = "\uE001"
	// snippetLen is the snippet's target length in characters.
	snippetLen = 240
	// snippetMax is the longest snippet passed on; a highlighter fragment
	// that runs past it (a very long sentence) is trimmed around its matches.
	snippetMax = 280
)

type searchResponse struct {
	Hits struct {
		Total struct {
			Value int `json:"value"`
		} `json:"total"`
		Hits []struct {
			Index     string              `json:"_index"`
			ID        string              `json:"_id"`
			Score     *float64            `json:"_score"`
			Source    source              `json:"_source"`
			Highlight map[string][]string `json:"highlight"`
			Sort      []json.RawMessage   `json:"sort"`
		} `json:"hits"`
	} `json:"hits"`
	Aggregations map[string]json.RawMessage `json:"aggregations"`
}

type termsAgg struct {
	Buckets []struct {
		Key      string `json:"key"`
		DocCount int    `json:"doc_count"`
	} `json:"buckets"`
}

type histogramAgg struct {
	Buckets []struct {
		Key       int64    `json:"key"`
		DocCount  int      `json:"doc_count"`
		Topics    termsAgg `json:"topics"`
		Countries termsAgg `json:"countries"`
	} `json:"buckets"`
}

// Search answers q from the read alias.
func (s *Store) Search(ctx context.Context, q index.Query) (index.Hits, error) {
	var hits index.Hits
	r, err := buildSearch(q)
	if err != nil {
		return hits, err
	}
	var res searchResponse
	if err := s.do(ctx, http.MethodPost, "/"+pathEscape(s.names.read)+"/_search", nil, r.body, &res); err != nil {
		if isStatus(err, http.StatusBadRequest) {
			// A query the cluster refuses (too many prefix expansions, a
			// bad search_after) is the analyst's to fix.
			return hits, fmt.Errorf("elastic: search: %w: %w", index.ErrBadQuery, err)
		}
		return hits, fmt.Errorf("elastic: search: %w", err)
	}
	hits.Total = res.Hits.Total.Value
	hits.Docs = make([]index.Hit, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		hit := index.Hit{Document: h.Source.document()}
		if h.Score != nil {
			hit.Score = *h.Score
		}
		if !q.NoSnippets {
			hit.Snippet = snippet(h.Highlight, h.Source)
		}
		hits.Docs = append(hits.Docs, hit)
	}
	if n := len(res.Hits.Hits); n == r.limit && n > 0 {
		hits.NextCursor = encodeCursor(r.fingerprint, res.Hits.Hits[n-1].Sort)
	}
	if q.Facets {
		hits.Facets = map[string][]index.FacetCount{}
		for name := range facetFields {
			var agg termsAgg
			if raw, ok := res.Aggregations["facet_"+name]; ok {
				if err := json.Unmarshal(raw, &agg); err != nil {
					return hits, fmt.Errorf("elastic: search: facet %s: %w", name, err)
				}
			}
			hits.Facets[name] = facetCounts(agg)
		}
	}
	if q.Histogram {
		var agg histogramAgg
		if raw, ok := res.Aggregations["histogram"]; ok {
			if err := json.Unmarshal(raw, &agg); err != nil {
				return hits, fmt.Errorf("elastic: search: histogram: %w", err)
			}
		}
		for _, b := range agg.Buckets {
			if b.DocCount == 0 {
				continue
			}
			dc := index.DayCount{Day: time.UnixMilli(b.Key).UTC(), Count: b.DocCount}
			for _, t := range b.Topics.Buckets {
				if dc.Topics == nil {
					dc.Topics = map[string]int{}
				}
				dc.Topics[t.Key] = t.DocCount
			}
			for _, c := range b.Countries.Buckets {
				if dc.Countries == nil {
					dc.Countries = map[string]int{}
				}
				dc.Countries[c.Key] = c.DocCount
			}
			hits.Histogram = append(hits.Histogram, dc)
		}
	}
	return hits, nil
}

// facetCounts orders buckets largest first, then by value, whatever order
// the server used.
func facetCounts(agg termsAgg) []index.FacetCount {
	out := make([]index.FacetCount, 0, len(agg.Buckets))
	for _, b := range agg.Buckets {
		out = append(out, index.FacetCount{Value: b.Key, Count: b.DocCount})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// snippet prefers the body's highlighted fragment, then the title's, then
// the start of the body.
func snippet(hl map[string][]string, src source) []index.Fragment {
	for _, f := range []string{fieldBody, fieldTitle} {
		if frags := hl[f]; len(frags) > 0 && strings.Contains(frags[0], matchStart) {
			return trimFragments(parseHighlight(frags[0]))
		}
	}
	body := strings.TrimSpace(src.Body)
	if body == "" {
		return nil
	}
	return []index.Fragment{{Text: cutAtWord(body, snippetLen)}}
}

// parseHighlight splits a highlighted fragment into pieces. A marked run of
// several words ("Cluster Munitions" of a phrase) becomes one piece per word,
// with the separators unmarked, as the disk backend marks them.
func parseHighlight(s string) []index.Fragment {
	var out []index.Fragment
	add := func(text string, match bool) {
		if text == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Match == match && !match {
			out[n-1].Text += text
			return
		}
		out = append(out, index.Fragment{Text: text, Match: match})
	}
	for s != "" {
		i := strings.Index(s, matchStart)
		if i < 0 {
			add(strings.ReplaceAll(s, matchEnd, ""), false)
			break
		}
		add(strings.ReplaceAll(s[:i], matchEnd, ""), false)
		s = s[i+len(matchStart):]
		j := strings.Index(s, matchEnd)
		if j < 0 {
			j = len(s)
		}
		marked := strings.ReplaceAll(s[:j], matchStart, "")
		for marked != "" {
			w := strings.IndexFunc(marked, isSeparator)
			if w < 0 {
				add(marked, true)
				break
			}
			add(marked[:w], true)
			rest := marked[w:]
			e := strings.IndexFunc(rest, func(r rune) bool { return !isSeparator(r) })
			if e < 0 {
				e = len(rest)
			}
			add(rest[:e], false)
			marked = rest[e:]
		}
		if j < len(s) {
			s = s[j+len(matchEnd):]
		} else {
			s = ""
		}
	}
	return out
}

// isSeparator is the complement of a word rune as textnorm tokenizes.
func isSeparator(r rune) bool {
	return r == 'ʼ' || !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
}

// trimFragments keeps a snippet within snippetMax characters, cutting
// around the first match.
func trimFragments(frags []index.Fragment) []index.Fragment {
	total := 0
	for _, f := range frags {
		total += utf8.RuneCountInString(f.Text)
	}
	if total <= snippetMax {
		return frags
	}
	first := 0
	for i, f := range frags {
		if f.Match {
			first = i
			break
		}
	}
	var out []index.Fragment
	budget := snippetLen
	if first > 0 {
		lead := []rune(frags[first-1].Text)
		if len(lead) > 60 {
			lead = lead[len(lead)-60:]
		}
		out = append(out, index.Fragment{Text: "…" + string(lead)})
		budget -= len(lead)
	}
	for _, f := range frags[first:] {
		n := utf8.RuneCountInString(f.Text)
		if n > budget {
			if !f.Match && budget > 0 {
				out = append(out, index.Fragment{Text: cutAtWord(f.Text, budget)})
			}
			break
		}
		out = append(out, f)
		budget -= n
	}
	return out
}

// cutAtWord returns at most n characters of s, ending after a whole word
// when one fits, with an ellipsis when something was cut.
func cutAtWord(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := len(r)
	for i := len(r) - 1; i > n/2; i-- {
		if isSeparator(r[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), unicode.IsSpace) + "…"
}

// Get returns one document by id from the read alias.
func (s *Store) Get(ctx context.Context, id string) (news.Document, error) {
	var res searchResponse
	body := m{"size": 1, "query": m{"ids": m{"values": []string{id}}}}
	if err := s.do(ctx, http.MethodPost, "/"+pathEscape(s.names.read)+"/_search", nil, body, &res); err != nil {
		return news.Document{}, fmt.Errorf("elastic: get %s: %w", id, err)
	}
	if len(res.Hits.Hits) == 0 {
		return news.Document{}, fmt.Errorf("elastic: get %s: %w", id, index.ErrNotFound)
	}
	return res.Hits.Hits[0].Source.document(), nil
}

// urlBatch is how many URLs one KnownURLs request asks about.
const urlBatch = 1000

// KnownURLs reports which urls are stored as an article's URL or canonical URL.
func (s *Store) KnownURLs(ctx context.Context, urls []string) (map[string]bool, error) {
	known := make(map[string]bool, len(urls))
	for start := 0; start < len(urls); start += urlBatch {
		batch := urls[start:min(start+urlBatch, len(urls))]
		body := m{
			// Each hit answers for at most two URLs, so twice the batch
			// covers every URL even when each is a different article's.
			"size":    2 * len(batch),
			"_source": []string{"url", "canonical_url"},
			"query": m{"bool": m{"should": []any{
				m{"terms": m{"url": batch}},
				m{"terms": m{"canonical_url": batch}},
			}, "minimum_should_match": 1}},
		}
		var res searchResponse
		if err := s.do(ctx, http.MethodPost, "/"+pathEscape(s.names.read)+"/_search", nil, body, &res); err != nil {
			return nil, fmt.Errorf("elastic: known urls: %w", err)
		}
		asked := make(map[string]bool, len(batch))
		for _, u := range batch {
			asked[u] = true
		}
		for _, h := range res.Hits.Hits {
			for _, u := range []string{h.Source.URL, h.Source.CanonicalURL} {
				if asked[u] {
					known[u] = true
				}
			}
		}
	}
	return known, nil
}

package estest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/minewatch/minewatch/classify/textnorm"
)

type searchReq struct {
	Query          map[string]any   `json:"query"`
	Size           *int             `json:"size"`
	From           int              `json:"from"`
	Sort           []any            `json:"sort"`
	SearchAfter    []any            `json:"search_after"`
	TrackTotalHits any              `json:"track_total_hits"`
	Source         any              `json:"_source"`
	Highlight      *highlightReq    `json:"highlight"`
	Aggs           map[string]agg   `json:"aggs"`
	Aggregations   map[string]agg   `json:"aggregations"`
	Collapse       map[string]any   `json:"collapse"`
	PostFilter     map[string]any   `json:"post_filter"`
	TrackScores    bool             `json:"track_scores"`
	SeqNoPrimary   bool             `json:"seq_no_primary_term"`
	Explain        bool             `json:"explain"`
	StoredFields   any              `json:"stored_fields"`
	DocvalueFields []map[string]any `json:"docvalue_fields"`
}

type highlightReq struct {
	PreTags           []string                  `json:"pre_tags"`
	PostTags          []string                  `json:"post_tags"`
	FragmentSize      *int                      `json:"fragment_size"`
	NumberOfFragments *int                      `json:"number_of_fragments"`
	Fields            map[string]highlightField `json:"fields"`
}

type highlightField struct {
	FragmentSize      *int `json:"fragment_size"`
	NumberOfFragments *int `json:"number_of_fragments"`
}

type agg struct {
	Terms *struct {
		Field string `json:"field"`
		Size  int    `json:"size"`
	} `json:"terms"`
	DateHistogram *struct {
		Field            string `json:"field"`
		CalendarInterval string `json:"calendar_interval"`
		MinDocCount      *int   `json:"min_doc_count"`
		TimeZone         string `json:"time_zone"`
	} `json:"date_histogram"`
	Aggs map[string]agg `json:"aggs"`
}

type sortKey struct {
	field   string
	desc    bool
	missing string // _last (default) or _first
}

type hit struct {
	index string
	d     *doc
	ix    *esIndex
	score float64
	sort  []any
}

func (s *Server) search(expr string, q url.Values, body []byte) (int, answer) {
	names, err := s.resolve(expr, q.Get("ignore_unavailable") == "true")
	if err != nil {
		return notFound(err.Error())
	}
	var req searchReq
	if len(body) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		if err := dec.Decode(&req); err != nil {
			return errorAnswer(http.StatusBadRequest, "x_content_parse_exception", err.Error())
		}
	}
	if req.Collapse != nil || req.PostFilter != nil {
		return errorAnswer(http.StatusBadRequest, "illegal_argument_exception", "collapse and post_filter are not recorded behaviour")
	}
	if req.Query == nil {
		req.Query = map[string]any{"match_all": map[string]any{}}
	}
	size := 10
	if req.Size != nil {
		size = *req.Size
	}
	if size < 0 || size+req.From > 10000 {
		return errorAnswer(http.StatusBadRequest, "illegal_argument_exception",
			fmt.Sprintf("Result window is too large, from + size must be less than or equal to: [10000] but was [%d].", size+req.From))
	}
	keys, err := sortKeys(req.Sort)
	if err != nil {
		return errorAnswer(http.StatusBadRequest, "parsing_exception", err.Error())
	}
	for _, k := range keys {
		if k.field == "_id" {
			return errorAnswer(http.StatusBadRequest, "illegal_argument_exception",
				"Fielddata access on the _id field is disallowed, you can re-enable it by updating the dynamic cluster setting: indices.id_field_data.enabled")
		}
	}
	if req.SearchAfter != nil && len(req.SearchAfter) != len(keys) {
		return errorAnswer(http.StatusBadRequest, "illegal_argument_exception",
			fmt.Sprintf("search_after has %d value(s) but sort has %d.", len(req.SearchAfter), len(keys)))
	}
	var hits []hit
	for _, name := range names {
		ix := s.indices[name]
		for _, id := range candidates(ix, req.Query) {
			d := ix.docs[id]
			if d == nil {
				continue
			}
			ok, score, err := ix.eval(req.Query, d)
			if err != nil {
				return errorAnswer(http.StatusBadRequest, "parsing_exception", err.Error())
			}
			if ok {
				hits = append(hits, hit{index: name, d: d, ix: ix, score: score})
			}
		}
	}
	for i := range hits {
		hits[i].sort = sortValues(&hits[i], keys)
	}
	sort.SliceStable(hits, func(i, j int) bool { return compareSort(hits[i].sort, hits[j].sort, keys) < 0 })
	total := len(hits)
	aggs := map[string]any{}
	aggReq := req.Aggs
	if aggReq == nil {
		aggReq = req.Aggregations
	}
	for name, a := range aggReq {
		res, err := runAgg(a, hits)
		if err != nil {
			return errorAnswer(http.StatusBadRequest, "parsing_exception", err.Error())
		}
		aggs[name] = res
	}
	page := hits
	if req.SearchAfter != nil {
		after := req.SearchAfter
		i := sort.Search(len(page), func(i int) bool { return compareSort(page[i].sort, after, keys) > 0 })
		page = page[i:]
	}
	page = page[min(req.From, len(page)):]
	page = page[:min(size, len(page))]

	terms := highlightTerms(req.Query)
	maxScore := 0.0
	out := make([]any, 0, len(page))
	for _, h := range page {
		maxScore = max(maxScore, h.score)
		hj := map[string]any{"_index": h.index, "_id": h.d.id, "_source": filterSource(h.d, req.Source)}
		if len(keys) == 0 || keys[0].field == "_score" || req.TrackScores {
			hj["_score"] = h.score
		} else {
			hj["_score"] = nil
		}
		if req.SeqNoPrimary {
			hj["_seq_no"], hj["_primary_term"] = h.d.seqNo, 1
		}
		if len(keys) > 0 && !(len(keys) == 1 && keys[0].field == "_score") {
			hj["sort"] = h.sort
		}
		if req.Highlight != nil {
			if hl := highlight(h.d, req.Highlight, terms); len(hl) > 0 {
				hj["highlight"] = hl
			}
		}
		out = append(out, hj)
	}
	res := map[string]any{
		"took": 2, "timed_out": false,
		"_shards": map[string]int{"total": len(names), "successful": len(names), "skipped": 0, "failed": 0},
		"hits": map[string]any{
			"total":     map[string]any{"value": total, "relation": "eq"},
			"max_score": maxScore,
			"hits":      out,
		},
	}
	if len(aggReq) > 0 {
		res["aggregations"] = aggs
	}
	return http.StatusOK, mustJSON(res)
}

// candidates are the ids a query can match: all of them, or, for a bare ids
// query (the backend's existence lookups and Get), just those, so lookups
// stay cheap however many documents the server holds.
func candidates(ix *esIndex, q map[string]any) []string {
	if b, ok := q["ids"].(map[string]any); ok && len(q) == 1 {
		vals, _ := b["values"].([]any)
		ids := make([]string, 0, len(vals))
		for _, v := range vals {
			if id, ok := v.(string); ok {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return slices.Compact(ids)
	}
	return ix.sortedIDs()
}

func sortKeys(spec []any) ([]sortKey, error) {
	var keys []sortKey
	for _, x := range spec {
		switch v := x.(type) {
		case string:
			keys = append(keys, sortKey{field: v, desc: v == "_score"})
		case map[string]any:
			for field, o := range v {
				k := sortKey{field: field, desc: field == "_score", missing: "_last"}
				switch ov := o.(type) {
				case string:
					k.desc = ov == "desc"
				case map[string]any:
					if ord, ok := ov["order"].(string); ok {
						k.desc = ord == "desc"
					}
					if miss, ok := ov["missing"].(string); ok {
						k.missing = miss
					}
				default:
					return nil, fmt.Errorf("[sort] malformed order for %s", field)
				}
				keys = append(keys, k)
			}
		default:
			return nil, fmt.Errorf("[sort] malformed")
		}
	}
	return keys, nil
}

// sortValues are a hit's sort values as Elasticsearch returns them: the
// score, epoch millis for dates (Long.MIN_VALUE when missing and sorted
// descending), strings for keywords.
func sortValues(h *hit, keys []sortKey) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		if k.field == "_score" {
			out[i] = h.score
			continue
		}
		vals := h.d.values(k.field)
		if h.ix.types[k.field] == "date" {
			var best int64
			found := false
			for _, v := range vals {
				if ms, ok := toMillis(v); ok && (!found || k.desc && ms > best || !k.desc && ms < best) {
					best, found = ms, true
				}
			}
			if !found {
				if k.desc == (k.missing != "_first") {
					best = missingLow
				} else {
					best = -missingLow - 1
				}
			}
			out[i] = best
			continue
		}
		var strs []string
		for _, v := range vals {
			strs = append(strs, fmt.Sprint(v))
		}
		if len(strs) == 0 {
			out[i] = nil
			continue
		}
		slices.Sort(strs)
		if k.desc {
			out[i] = strs[len(strs)-1]
		} else {
			out[i] = strs[0]
		}
	}
	return out
}

// compareSort orders two sort tuples by the keys; values from a request's
// search_after are JSON-decoded (float64, string).
func compareSort(a, b []any, keys []sortKey) int {
	for i, k := range keys {
		c := compareValue(a[i], b[i])
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func compareValue(a, b any) int {
	num := func(v any) (float64, bool) {
		switch x := v.(type) {
		case float64:
			return x, true
		case int64:
			return float64(x), true
		case int:
			return float64(x), true
		case json.Number:
			f, err := x.Float64()
			return f, err == nil
		}
		return 0, false
	}
	if x, ok := num(a); ok {
		if y, ok := num(b); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func filterSource(d *doc, spec any) any {
	var include []string
	switch v := spec.(type) {
	case bool:
		if !v {
			return nil
		}
	case string:
		include = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				include = append(include, s)
			}
		}
	}
	if include == nil {
		return d.raw
	}
	// Top-level fields only, decoded lazily: lookups ask for one small field
	// of large documents.
	var top map[string]json.RawMessage
	if d.src != nil {
		out := map[string]any{}
		for _, f := range include {
			if v, ok := d.src[f]; ok {
				out[f] = v
			}
		}
		return out
	}
	_ = json.Unmarshal(d.raw, &top)
	out := map[string]json.RawMessage{}
	for _, f := range include {
		if v, ok := top[f]; ok {
			out[f] = v
		}
	}
	return out
}

func runAgg(a agg, hits []hit) (map[string]any, error) {
	switch {
	case a.Terms != nil:
		counts := map[string]int{}
		for _, h := range hits {
			seen := map[string]bool{}
			for _, v := range h.d.values(a.Terms.Field) {
				k := fmt.Sprint(v)
				if !seen[k] {
					seen[k] = true
					counts[k]++
				}
			}
		}
		type kc struct {
			k string
			c int
		}
		var list []kc
		for k, c := range counts {
			list = append(list, kc{k, c})
		}
		sort.Slice(list, func(i, j int) bool {
			if list[i].c != list[j].c {
				return list[i].c > list[j].c
			}
			return list[i].k < list[j].k
		})
		size := a.Terms.Size
		if size <= 0 {
			size = 10
		}
		other := 0
		if len(list) > size {
			for _, x := range list[size:] {
				other += x.c
			}
			list = list[:size]
		}
		buckets := make([]any, 0, len(list))
		for _, x := range list {
			buckets = append(buckets, map[string]any{"key": x.k, "doc_count": x.c})
		}
		return map[string]any{"doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": buckets}, nil
	case a.DateHistogram != nil:
		dh := a.DateHistogram
		if dh.CalendarInterval != "1d" && dh.CalendarInterval != "day" {
			return nil, fmt.Errorf("[date_histogram] only calendar_interval 1d is recorded, got %q", dh.CalendarInterval)
		}
		if dh.TimeZone != "" && dh.TimeZone != "UTC" && dh.TimeZone != "Z" {
			return nil, fmt.Errorf("[date_histogram] only UTC is recorded")
		}
		byDay := map[int64][]hit{}
		for _, h := range hits {
			seen := map[int64]bool{}
			for _, v := range h.d.values(dh.Field) {
				ms, ok := toMillis(v)
				if !ok {
					continue
				}
				day := time.UnixMilli(ms).UTC().Truncate(24 * time.Hour).UnixMilli()
				if !seen[day] {
					seen[day] = true
					byDay[day] = append(byDay[day], h)
				}
			}
		}
		days := make([]int64, 0, len(byDay))
		for d := range byDay {
			days = append(days, d)
		}
		slices.Sort(days)
		minCount := 0
		if dh.MinDocCount != nil {
			minCount = *dh.MinDocCount
		}
		var buckets []any
		for i, day := range days {
			b := map[string]any{
				"key_as_string": time.UnixMilli(day).UTC().Format("2006-01-02T15:04:05.000Z"),
				"key":           day, "doc_count": len(byDay[day]),
			}
			for name, sub := range a.Aggs {
				r, err := runAgg(sub, byDay[day])
				if err != nil {
					return nil, err
				}
				b[name] = r
			}
			buckets = append(buckets, b)
			// Empty days between buckets when min_doc_count is 0.
			if minCount == 0 && i+1 < len(days) {
				for gap := day + 86400000; gap < days[i+1]; gap += 86400000 {
					e := map[string]any{"key_as_string": time.UnixMilli(gap).UTC().Format("2006-01-02T15:04:05.000Z"), "key": gap, "doc_count": 0}
					for name, sub := range a.Aggs {
						r, _ := runAgg(sub, nil)
						e[name] = r
					}
					buckets = append(buckets, e)
				}
			}
		}
		if buckets == nil {
			buckets = []any{}
		}
		return map[string]any{"buckets": buckets}, nil
	}
	return nil, fmt.Errorf("unsupported aggregation")
}

// hlTerm is a folded word, or prefix, a query looks for in a field.
type hlTerm struct {
	field  string
	word   string
	prefix bool
}

// highlightTerms collects the positive leaves of a query.
func highlightTerms(q map[string]any) []hlTerm {
	var out []hlTerm
	var walk func(q map[string]any)
	var rule func(field string, r map[string]any)
	rule = func(field string, r map[string]any) {
		for kind, body := range r {
			b, _ := body.(map[string]any)
			switch kind {
			case "match":
				text, _ := b["query"].(string)
				for _, w := range analyze(text) {
					out = append(out, hlTerm{field: field, word: w})
				}
			case "prefix":
				p, _ := b["prefix"].(string)
				out = append(out, hlTerm{field: field, word: textnorm.Fold(p), prefix: true})
			case "any_of", "all_of":
				rules, _ := b["intervals"].([]any)
				for _, x := range rules {
					if rm, ok := x.(map[string]any); ok {
						rule(field, rm)
					}
				}
			}
		}
	}
	walk = func(q map[string]any) {
		for kind, body := range q {
			b, _ := body.(map[string]any)
			switch kind {
			case "bool":
				for _, key := range []string{"must", "should", "filter"} {
					switch v := b[key].(type) {
					case []any:
						for _, x := range v {
							if m, ok := x.(map[string]any); ok {
								walk(m)
							}
						}
					case map[string]any:
						walk(v)
					}
				}
			case "match_phrase", "match_phrase_prefix", "match":
				field, arg, err := single(b)
				if err != nil {
					continue
				}
				opts, ok := arg.(map[string]any)
				if !ok {
					opts = map[string]any{"query": arg}
				}
				text, _ := opts["query"].(string)
				words := analyze(text)
				for i, w := range words {
					out = append(out, hlTerm{field: field, word: w, prefix: kind == "match_phrase_prefix" && i == len(words)-1})
				}
			case "prefix":
				field, arg, err := single(b)
				if err != nil {
					continue
				}
				opts, ok := arg.(map[string]any)
				if !ok {
					opts = map[string]any{"value": arg}
				}
				v, _ := opts["value"].(string)
				out = append(out, hlTerm{field: field, word: v, prefix: true})
			case "intervals":
				field, arg, err := single(b)
				if err != nil {
					continue
				}
				if r, ok := arg.(map[string]any); ok {
					rule(field, r)
				}
			}
		}
	}
	walk(q)
	return out
}

// highlight marks the query's words in the requested fields, in one
// fragment of about fragment_size characters around the first match
// (number_of_fragments 0: the whole field), like the unified highlighter.
func highlight(d *doc, req *highlightReq, terms []hlTerm) map[string][]string {
	pre, post := "<em>", "</em>"
	if len(req.PreTags) > 0 {
		pre = req.PreTags[0]
	}
	if len(req.PostTags) > 0 {
		post = req.PostTags[0]
	}
	out := map[string][]string{}
	for field, f := range req.Fields {
		size, frags := 100, 5
		if req.FragmentSize != nil {
			size = *req.FragmentSize
		}
		if req.NumberOfFragments != nil {
			frags = *req.NumberOfFragments
		}
		if f.FragmentSize != nil {
			size = *f.FragmentSize
		}
		if f.NumberOfFragments != nil {
			frags = *f.NumberOfFragments
		}
		text := d.text(field)
		toks := d.analyzed(field)
		var marked []textnorm.Token
		for _, t := range toks {
			for _, term := range terms {
				if term.field == field && (t.Text == term.word || term.prefix && strings.HasPrefix(t.Text, term.word)) {
					marked = append(marked, t)
					break
				}
			}
		}
		if len(marked) == 0 {
			continue
		}
		start, end := 0, len(text)
		if frags > 0 && len(text) > size {
			start = marked[0].Start
			// Back up to about a quarter of the fragment, at a word start.
			for _, t := range toks {
				if t.Start <= marked[0].Start && marked[0].Start-t.Start <= size/4 {
					start = t.Start
					break
				}
			}
			end = start
			for _, t := range toks {
				if t.Start >= start && len([]rune(text[start:t.End])) <= size {
					end = t.End
				}
			}
		}
		var b strings.Builder
		pos := start
		for _, t := range marked {
			if t.Start < start || t.End > end {
				continue
			}
			b.WriteString(text[pos:t.Start])
			b.WriteString(pre + text[t.Start:t.End] + post)
			pos = t.End
		}
		b.WriteString(text[pos:end])
		out[field] = []string{b.String()}
	}
	return out
}

package estest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/minewatch/minewatch/classify/textnorm"
)

// esIndex is one index: its mapped field types and its documents.
type esIndex struct {
	name     string
	mappings map[string]any
	types    map[string]string // field path → mapping type (multi-fields too)
	docs     map[string]*doc
}

// doc is a stored document; its parsed source and analysed fields are
// computed when a search first needs them.
type doc struct {
	id      string
	raw     json.RawMessage
	version int
	seqNo   int64
	src     map[string]any
	tokens  map[string][]textnorm.Token
}

func newESIndex(name string, mappings map[string]any) *esIndex {
	ix := &esIndex{name: name, mappings: mappings, types: map[string]string{}, docs: map[string]*doc{}}
	walkProps(mappings, "", func(field string, def map[string]any) {
		t, _ := def["type"].(string)
		if t == "" {
			if _, ok := def["properties"]; ok {
				t = "object"
			}
		}
		ix.types[field] = t
	})
	return ix
}

func (ix *esIndex) put(id string, raw []byte, seq int64) (*doc, bool) {
	old, exists := ix.docs[id]
	d := &doc{id: id, raw: raw, version: 1, seqNo: seq}
	if exists {
		d.version = old.version + 1
	}
	ix.docs[id] = d
	return d, !exists
}

func (ix *esIndex) sortedIDs() []string {
	ids := make([]string, 0, len(ix.docs))
	for id := range ix.docs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// checkSource reports a top-level source field the mappings do not know,
// or a value a date field cannot hold: what a strict mapping would refuse.
func (ix *esIndex) checkSource(raw []byte) string {
	if ix.mappings == nil {
		return "index has no mappings (was the template installed?)"
	}
	var src map[string]any
	if err := json.Unmarshal(raw, &src); err != nil {
		return "source is not a JSON object"
	}
	for k, v := range src {
		t, ok := ix.types[k]
		if !ok {
			return fmt.Sprintf("field %q is not in the mappings", k)
		}
		if t == "date" && v != nil {
			if _, ok := toMillis(v); !ok {
				return fmt.Sprintf("field %q: %v is not a date", k, v)
			}
		}
	}
	return ""
}

func (d *doc) source() map[string]any {
	if d.src == nil {
		d.src = decodeObject(d.raw)
	}
	return d.src
}

// values returns the values at a dotted path, flattening arrays of objects
// as Elasticsearch does for non-nested objects.
func (d *doc) values(path string) []any {
	var cur []any = []any{d.source()}
	for key := range strings.SplitSeq(path, ".") {
		var next []any
		for _, v := range cur {
			mp, ok := v.(map[string]any)
			if !ok {
				continue
			}
			switch x := mp[key].(type) {
			case nil:
			case []any:
				next = append(next, x...)
			default:
				next = append(next, x)
			}
		}
		cur = next
	}
	return cur
}

// text is the string value of a text field, array values joined.
func (d *doc) text(field string) string {
	var parts []string
	for _, v := range d.values(field) {
		if s, ok := v.(string); ok {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}

// analyzed tokenizes a text field as the template's folding analyzer does:
// textnorm's words, folded.
func (d *doc) analyzed(field string) []textnorm.Token {
	if d.tokens == nil {
		d.tokens = map[string][]textnorm.Token{}
	}
	toks, ok := d.tokens[field]
	if !ok {
		toks = textnorm.Tokenize(d.text(field))
		d.tokens[field] = toks
	}
	return toks
}

func analyze(s string) []string {
	toks := textnorm.Tokenize(s)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.Text
	}
	return out
}

// interval is a run of token positions [start, end].
type interval struct{ start, end int }

// eval reports whether d matches q and its score.
func (ix *esIndex) eval(q map[string]any, d *doc) (bool, float64, error) {
	if len(q) != 1 {
		return false, 0, fmt.Errorf("query must have exactly one key, has %d", len(q))
	}
	for kind, body := range q {
		b, _ := body.(map[string]any)
		switch kind {
		case "match_all":
			return true, boostOf(b, 1), nil
		case "match_none":
			return false, 0, nil
		case "bool":
			return ix.evalBool(b, d)
		case "ids":
			vals, _ := b["values"].([]any)
			for _, v := range vals {
				if v == d.id {
					return true, 1, nil
				}
			}
			return false, 0, nil
		case "term", "terms":
			field, arg, err := single(b)
			if err != nil {
				return false, 0, fmt.Errorf("[%s] %w", kind, err)
			}
			var want []any
			if kind == "term" {
				if m, ok := arg.(map[string]any); ok {
					arg = m["value"]
				}
				want = []any{arg}
			} else {
				want, _ = arg.([]any)
			}
			for _, have := range d.values(field) {
				for _, w := range want {
					if fmt.Sprint(have) == fmt.Sprint(w) {
						return true, 1, nil
					}
				}
			}
			return false, 0, nil
		case "range":
			field, arg, err := single(b)
			if err != nil {
				return false, 0, fmt.Errorf("[range] %w", err)
			}
			r, _ := arg.(map[string]any)
			for _, v := range d.values(field) {
				if inRange(v, r) {
					return true, 1, nil
				}
			}
			return false, 0, nil
		case "exists":
			f, _ := b["field"].(string)
			return len(d.values(f)) > 0, 1, nil
		case "match_phrase", "match_phrase_prefix", "match":
			field, arg, err := single(b)
			if err != nil {
				return false, 0, fmt.Errorf("[%s] %w", kind, err)
			}
			opts, ok := arg.(map[string]any)
			if !ok {
				opts = map[string]any{"query": arg}
			}
			text, _ := opts["query"].(string)
			words := analyze(text)
			if len(words) == 0 {
				return false, 0, nil
			}
			toks := d.analyzed(field)
			var n int
			switch kind {
			case "match":
				for _, w := range words {
					n += len(termPositions(toks, w, false))
				}
			default:
				n = len(phrasePositions(toks, words, kind == "match_phrase_prefix"))
			}
			return n > 0, textScore(boostOf(opts, 1), n, len(toks)), nil
		case "prefix", "wildcard":
			field, arg, err := single(b)
			if err != nil {
				return false, 0, fmt.Errorf("[%s] %w", kind, err)
			}
			opts, ok := arg.(map[string]any)
			if !ok {
				opts = map[string]any{"value": arg}
			}
			val, _ := opts["value"].(string)
			if kind == "wildcard" {
				if !strings.HasSuffix(val, "*") || strings.ContainsAny(strings.TrimSuffix(val, "*"), "*?") {
					return false, 0, fmt.Errorf("[wildcard] only trailing * is supported here, got %q", val)
				}
				val = strings.TrimSuffix(val, "*")
			}
			if ix.types[field] == "keyword" {
				for _, v := range d.values(field) {
					if s, ok := v.(string); ok && strings.HasPrefix(s, val) {
						return true, boostOf(opts, 1), nil
					}
				}
				return false, 0, nil
			}
			// Term-level queries are not analysed: the value must already be
			// in indexed form.
			if val != strings.ToLower(val) {
				return false, 0, nil
			}
			n := len(termPositions(d.analyzed(field), val, true))
			return n > 0, boostOf(opts, 1), nil
		case "intervals":
			field, arg, err := single(b)
			if err != nil {
				return false, 0, fmt.Errorf("[intervals] %w", err)
			}
			rule, _ := arg.(map[string]any)
			ivs, err := intervals(rule, d.analyzed(field))
			if err != nil {
				return false, 0, fmt.Errorf("[intervals] %w", err)
			}
			return len(ivs) > 0, textScore(boostOf(rule, 1), len(ivs), len(d.analyzed(field))), nil
		case "nested":
			path, _ := b["path"].(string)
			inner, _ := b["query"].(map[string]any)
			for _, obj := range d.values(path) {
				sub := &doc{id: d.id, src: prefixed(path, obj)}
				ok, sc, err := ix.eval(inner, sub)
				if err != nil || ok {
					return ok, sc, err
				}
			}
			return false, 0, nil
		default:
			return false, 0, fmt.Errorf("unknown query [%s]", kind)
		}
	}
	return false, 0, nil
}

// prefixed wraps a nested object so paths under the nested path resolve.
func prefixed(path string, obj any) map[string]any {
	keys := strings.Split(path, ".")
	var v any = obj
	for i := len(keys) - 1; i >= 0; i-- {
		v = map[string]any{keys[i]: v}
	}
	return v.(map[string]any)
}

func (ix *esIndex) evalBool(b map[string]any, d *doc) (bool, float64, error) {
	clauses := func(key string) []map[string]any {
		var out []map[string]any
		switch v := b[key].(type) {
		case map[string]any:
			out = append(out, v)
		case []any:
			for _, x := range v {
				if m, ok := x.(map[string]any); ok {
					out = append(out, m)
				}
			}
		}
		return out
	}
	score := 0.0
	for _, c := range clauses("must") {
		ok, sc, err := ix.eval(c, d)
		if err != nil || !ok {
			return false, 0, err
		}
		score += sc
	}
	for _, c := range clauses("filter") {
		ok, _, err := ix.eval(c, d)
		if err != nil || !ok {
			return false, 0, err
		}
	}
	for _, c := range clauses("must_not") {
		ok, _, err := ix.eval(c, d)
		if err != nil {
			return false, 0, err
		}
		if ok {
			return false, 0, nil
		}
	}
	should := clauses("should")
	matched := 0
	for _, c := range should {
		ok, sc, err := ix.eval(c, d)
		if err != nil {
			return false, 0, err
		}
		if ok {
			matched++
			score += sc
		}
	}
	// Elasticsearch's default: should clauses are optional when the bool has
	// must or filter clauses, otherwise at least one must match.
	minimum := 0
	if len(should) > 0 && len(clauses("must")) == 0 && len(clauses("filter")) == 0 {
		minimum = 1
	}
	if v, ok := b["minimum_should_match"].(float64); ok {
		minimum = int(v)
	}
	if matched < minimum {
		return false, 0, nil
	}
	return true, score, nil
}

// single returns the one field of a field-keyed query body.
func single(b map[string]any) (string, any, error) {
	var field string
	var arg any
	n := 0
	for k, v := range b {
		if k == "boost" || k == "_name" {
			continue
		}
		field, arg = k, v
		n++
	}
	if n != 1 {
		return "", nil, fmt.Errorf("query doesn't support multiple fields, found [%d]", n)
	}
	return field, arg, nil
}

func boostOf(b map[string]any, def float64) float64 {
	if v, ok := b["boost"].(float64); ok {
		return v
	}
	return def
}

// textScore is a BM25-shaped score: saturating in the number of matches and
// lower in long fields, which is all the ranking tests rely on.
func textScore(boost float64, freq, fieldLen int) float64 {
	if freq == 0 {
		return 0
	}
	const k1, b, avg = 1.2, 0.75, 40.0
	f := float64(freq)
	return boost * f * (k1 + 1) / (f + k1*(1-b+b*float64(fieldLen)/avg))
}

func termPositions(toks []textnorm.Token, word string, prefix bool) []interval {
	var out []interval
	for i, t := range toks {
		if t.Text == word || prefix && strings.HasPrefix(t.Text, word) {
			out = append(out, interval{i, i})
		}
	}
	return out
}

func phrasePositions(toks []textnorm.Token, words []string, lastPrefix bool) []interval {
	var out []interval
	for i := 0; i+len(words) <= len(toks); i++ {
		ok := true
		for j, w := range words {
			t := toks[i+j].Text
			if t != w && !(lastPrefix && j == len(words)-1 && strings.HasPrefix(t, w)) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, interval{i, i + len(words) - 1})
		}
	}
	return out
}

// intervals evaluates an intervals rule (match, prefix, wildcard, all_of,
// any_of) to the intervals it matches.
func intervals(rule map[string]any, toks []textnorm.Token) ([]interval, error) {
	for kind, body := range rule {
		if kind == "boost" || kind == "_name" {
			continue
		}
		b, _ := body.(map[string]any)
		switch kind {
		case "match":
			text, _ := b["query"].(string)
			words := analyze(text)
			if len(words) == 0 {
				return nil, nil
			}
			gaps := -1
			if v, ok := b["max_gaps"].(float64); ok {
				gaps = int(v)
			}
			ordered, _ := b["ordered"].(bool)
			if len(words) == 1 {
				return termPositions(toks, words[0], false), nil
			}
			subs := make([][]interval, len(words))
			for i, w := range words {
				subs[i] = termPositions(toks, w, false)
			}
			return combine(subs, gaps, ordered), nil
		case "prefix":
			p, _ := b["prefix"].(string)
			return termPositions(toks, textnorm.Fold(p), true), nil
		case "wildcard":
			p, _ := b["pattern"].(string)
			if !strings.HasSuffix(p, "*") {
				return nil, fmt.Errorf("only trailing * wildcards are supported here")
			}
			return termPositions(toks, textnorm.Fold(strings.TrimSuffix(p, "*")), true), nil
		case "any_of":
			rules, _ := b["intervals"].([]any)
			var out []interval
			for _, r := range rules {
				rm, _ := r.(map[string]any)
				ivs, err := intervals(rm, toks)
				if err != nil {
					return nil, err
				}
				out = append(out, ivs...)
			}
			return out, nil
		case "all_of":
			rules, _ := b["intervals"].([]any)
			gaps := -1
			if v, ok := b["max_gaps"].(float64); ok {
				gaps = int(v)
			}
			ordered, _ := b["ordered"].(bool)
			subs := make([][]interval, len(rules))
			for i, r := range rules {
				rm, _ := r.(map[string]any)
				ivs, err := intervals(rm, toks)
				if err != nil {
					return nil, err
				}
				subs[i] = ivs
			}
			return combine(subs, gaps, ordered), nil
		default:
			return nil, fmt.Errorf("unknown interval type [%s]", kind)
		}
	}
	return nil, fmt.Errorf("empty intervals rule")
}

// combine returns the spans made of one interval from each list that do not
// overlap, in order when ordered, with at most gaps positions not covered
// by a sub-interval (gaps < 0: unlimited).
func combine(subs [][]interval, gaps int, ordered bool) []interval {
	var out []interval
	var pick func(i int, chosen []interval)
	pick = func(i int, chosen []interval) {
		if i == len(subs) {
			if span, ok := spanOf(chosen, gaps, ordered); ok {
				out = append(out, span)
			}
			return
		}
		for _, iv := range subs[i] {
			pick(i+1, append(chosen, iv))
		}
	}
	if len(subs) > 0 {
		pick(0, nil)
	}
	return out
}

func spanOf(chosen []interval, gaps int, ordered bool) (interval, bool) {
	ivs := append([]interval(nil), chosen...)
	if ordered {
		for i := 1; i < len(ivs); i++ {
			if ivs[i].start <= ivs[i-1].end {
				return interval{}, false
			}
		}
	} else {
		sort.Slice(ivs, func(i, j int) bool { return ivs[i].start < ivs[j].start })
		for i := 1; i < len(ivs); i++ {
			if ivs[i].start <= ivs[i-1].end {
				return interval{}, false
			}
		}
	}
	span := interval{ivs[0].start, ivs[len(ivs)-1].end}
	covered := 0
	for _, iv := range ivs {
		covered += iv.end - iv.start + 1
	}
	if gaps >= 0 && span.end-span.start+1-covered > gaps {
		return interval{}, false
	}
	return span, true
}

func inRange(v any, r map[string]any) bool {
	x, ok := toMillis(v)
	if !ok {
		return false
	}
	for op, bound := range r {
		b, ok := toMillis(bound)
		if !ok {
			continue
		}
		switch op {
		case "gte":
			ok = x >= b
		case "gt":
			ok = x > b
		case "lte":
			ok = x <= b
		case "lt":
			ok = x < b
		default:
			ok = true
		}
		if !ok {
			return false
		}
	}
	return true
}

// toMillis reads a date as Elasticsearch stores it: epoch milliseconds.
func toMillis(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), true
	case json.Number:
		f, err := x.Float64()
		return int64(f), err == nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return 0, false
		}
		return t.UnixMilli(), true
	}
	return 0, false
}

// missingLow is the sort value Elasticsearch reports for a document that
// lacks a numeric sort field sorted descending with missing: _last.
const missingLow = math.MinInt64

// decodeObject parses a JSON object keeping numbers exact (json.Number), as
// Elasticsearch keeps _source: a 64-bit hash must not pass through float64.
func decodeObject(raw []byte) map[string]any {
	out := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}

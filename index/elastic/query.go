package elastic

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/classify/textnorm"
	"github.com/minewatch/minewatch/index"
)

// Searched fields. A term without a scope is looked for in both; the title
// weighs more, as in the disk backend.
const (
	fieldTitle = "title"
	fieldBody  = "body"
	titleBoost = 2.0
)

// sentenceGaps approximates NEAR/s: Elasticsearch has no sentence positions,
// so "same sentence" becomes "at most 30 words apart".
const sentenceGaps = 30

// maxExpansions bounds a phrase's last-word prefix (match_phrase_prefix).
const maxExpansions = 200

// type m keeps the query DSL literals short.
type m = map[string]any

// translate turns a parsed query into the query DSL.
func translate(n query.Node) (m, error) {
	switch n := n.(type) {
	case *query.Term:
		return termQuery(n), nil
	case *query.And:
		var must, mustNot []any
		for _, c := range n.Children {
			if not, ok := c.(*query.Not); ok {
				q, err := translate(not.Child)
				if err != nil {
					return nil, err
				}
				mustNot = append(mustNot, q)
				continue
			}
			q, err := translate(c)
			if err != nil {
				return nil, err
			}
			must = append(must, q)
		}
		b := m{}
		if len(must) > 0 {
			b["must"] = must
		}
		if len(mustNot) > 0 {
			b["must_not"] = mustNot
		}
		return m{"bool": b}, nil
	case *query.Or:
		should := make([]any, 0, len(n.Children))
		for _, c := range n.Children {
			q, err := translate(c)
			if err != nil {
				return nil, err
			}
			should = append(should, q)
		}
		return m{"bool": m{"should": should, "minimum_should_match": 1}}, nil
	case *query.Not:
		q, err := translate(n.Child)
		if err != nil {
			return nil, err
		}
		return m{"bool": m{"must_not": []any{q}}}, nil
	case *query.Near:
		return nearQuery(n)
	}
	return nil, fmt.Errorf("%w: unsupported query node %T", index.ErrBadQuery, n)
}

// fieldsOf maps a term's scope to the searched fields.
func fieldsOf(scope string) []string {
	switch scope {
	case "title":
		return []string{fieldTitle}
	case "text":
		return []string{fieldBody}
	}
	return []string{fieldTitle, fieldBody}
}

func boost(field string) float64 {
	if field == fieldTitle {
		return titleBoost
	}
	return 1
}

// anyField ORs one clause per field, or returns the only one.
func anyField(clauses []any) m {
	if len(clauses) == 1 {
		return clauses[0].(m)
	}
	return m{"bool": m{"should": clauses, "minimum_should_match": 1}}
}

// termQuery: a word or phrase is a match_phrase (the field's analyzer folds
// it); a prefix is folded here, since prefix queries are not analysed; a
// phrase ending in a prefix is a match_phrase_prefix.
func termQuery(t *query.Term) m {
	fields := fieldsOf(t.Field)
	clauses := make([]any, 0, len(fields))
	text := strings.Join(t.Words, " ")
	for _, f := range fields {
		var q m
		switch {
		case t.Prefix && len(t.Words) == 1:
			q = m{"prefix": m{f: m{"value": textnorm.Fold(t.Words[0]), "boost": boost(f)}}}
		case t.Prefix:
			q = m{"match_phrase_prefix": m{f: m{"query": text, "max_expansions": maxExpansions, "boost": boost(f)}}}
		default:
			q = m{"match_phrase": m{f: m{"query": text, "boost": boost(f)}}}
		}
		clauses = append(clauses, q)
	}
	return anyField(clauses)
}

// nearQuery is an intervals query per field: both operands unordered with at
// most n−1 words between them.
func nearQuery(n *query.Near) (m, error) {
	scope := ""
	for _, t := range nearTerms(n) {
		if t.Field != "" {
			scope = t.Field
		}
	}
	gaps := n.Distance - 1
	if n.Sentence {
		gaps = sentenceGaps
	}
	left, err := intervalRule(n.Left)
	if err != nil {
		return nil, err
	}
	right, err := intervalRule(n.Right)
	if err != nil {
		return nil, err
	}
	fields := fieldsOf(scope)
	clauses := make([]any, 0, len(fields))
	for _, f := range fields {
		clauses = append(clauses, m{"intervals": m{f: m{
			"all_of": m{"ordered": false, "max_gaps": gaps, "intervals": []any{left, right}},
			"boost":  boost(f),
		}}})
	}
	return anyField(clauses), nil
}

func nearTerms(n query.Node) []*query.Term {
	switch n := n.(type) {
	case *query.Term:
		return []*query.Term{n}
	case *query.Or:
		var out []*query.Term
		for _, c := range n.Children {
			out = append(out, nearTerms(c)...)
		}
		return out
	case *query.Near:
		return append(nearTerms(n.Left), nearTerms(n.Right)...)
	}
	return nil
}

// intervalRule is a NEAR operand as an intervals rule.
func intervalRule(n query.Node) (m, error) {
	switch n := n.(type) {
	case *query.Term:
		words := n.Words
		if n.Prefix {
			words = words[:len(words)-1]
		}
		var rules []any
		if len(words) > 0 {
			rules = append(rules, m{"match": m{"query": strings.Join(words, " "), "max_gaps": 0, "ordered": true}})
		}
		if n.Prefix {
			rules = append(rules, m{"prefix": m{"prefix": textnorm.Fold(n.Words[len(n.Words)-1])}})
		}
		if len(rules) == 1 {
			return rules[0].(m), nil
		}
		return m{"all_of": m{"ordered": true, "max_gaps": 0, "intervals": rules}}, nil
	case *query.Or:
		rules := make([]any, 0, len(n.Children))
		for _, c := range n.Children {
			r, err := intervalRule(c)
			if err != nil {
				return nil, err
			}
			rules = append(rules, r)
		}
		return m{"any_of": m{"intervals": rules}}, nil
	}
	return nil, fmt.Errorf("%w: NEAR operand %s", index.ErrBadQuery, n)
}

// request is a search translated: the body to send and what reading the
// answer needs.
type request struct {
	body        m
	limit       int
	fingerprint uint64
	relevance   bool
}

// buildSearch translates an index.Query into a search body.
func buildSearch(q index.Query) (request, error) {
	var r request
	var must any = m{"match_all": m{}}
	if strings.TrimSpace(q.Text) != "" {
		node, err := query.Parse(q.Text)
		if err != nil {
			return r, fmt.Errorf("%w: %w", index.ErrBadQuery, err)
		}
		tq, err := translate(node)
		if err != nil {
			return r, err
		}
		must = tq
	}
	switch q.Sort {
	case "":
		r.relevance = strings.TrimSpace(q.Text) != ""
	case index.SortRelevance:
		r.relevance = true
	case index.SortDate:
	default:
		return r, fmt.Errorf("%w: unknown sort %q", index.ErrBadQuery, q.Sort)
	}
	r.limit = q.Limit
	if r.limit <= 0 {
		r.limit = 20
	}
	r.limit = min(r.limit, 1000)

	filter := filters(q)
	sort := []any{m{"date": m{"order": "desc", "missing": "_last"}}, m{"id": m{"order": "asc"}}}
	if r.relevance {
		sort = append([]any{m{"_score": m{"order": "desc"}}}, sort...)
	}
	r.fingerprint = fingerprint(q, r.relevance)
	body := m{
		"query":            m{"bool": m{"must": []any{must}, "filter": filter}},
		"size":             r.limit,
		"sort":             sort,
		"track_total_hits": true,
	}
	if !q.NoSnippets {
		body["highlight"] = m{
			"type":                "unified",
			"pre_tags":            []string{matchStart},
			"post_tags":           []string{matchEnd},
			"fragment_size":       snippetLen,
			"number_of_fragments": 1,
			"fields":              m{fieldBody: m{}, fieldTitle: m{"number_of_fragments": 0}},
		}
	}
	if q.Cursor != "" {
		after, err := decodeCursor(q.Cursor, r.fingerprint)
		if err != nil {
			return r, err
		}
		body["search_after"] = after
	}
	aggs := m{}
	if q.Facets {
		for name, field := range facetFields {
			aggs["facet_"+name] = m{"terms": m{"field": field, "size": facetSize}}
		}
	}
	if q.Histogram {
		aggs["histogram"] = m{
			"date_histogram": m{"field": "date", "calendar_interval": "1d", "min_doc_count": 1, "time_zone": "UTC"},
			"aggs": m{
				"topics":    m{"terms": m{"field": "topics.topic", "size": facetSize}},
				"countries": m{"terms": m{"field": "countries", "size": facetSize}},
			},
		}
	}
	if len(aggs) > 0 {
		body["aggs"] = aggs
	}
	r.body = body
	return r, nil
}

// facetFields maps facet names to the keyword fields counted.
var facetFields = map[string]string{
	index.FacetTopic:    "topics.topic",
	index.FacetCountry:  "countries",
	index.FacetAction:   "actions",
	index.FacetTreaty:   "treaties",
	index.FacetSource:   "source_id",
	index.FacetLanguage: "language",
}

// facetSize is how many values a facet lists: every country of the world fits.
const facetSize = 250

func filters(q index.Query) []any {
	out := []any{}
	terms := func(field string, values []string) {
		if len(values) > 0 {
			out = append(out, m{"terms": m{field: values}})
		}
	}
	terms("topics.topic", q.Topics)
	terms("countries", q.Countries)
	terms("actions", stringsOf(q.Actions))
	terms("treaties", stringsOf(q.Treaties))
	terms("source_id", q.Sources)
	terms("language", q.Languages)
	if !q.Since.IsZero() || !q.Until.IsZero() {
		r := m{}
		if !q.Since.IsZero() {
			r["gte"] = q.Since.UTC().Format(timeFormat)
		}
		if !q.Until.IsZero() {
			r["lt"] = q.Until.UTC().Format(timeFormat)
		}
		out = append(out, m{"range": m{"date": r}})
	}
	if q.RelevantOnly {
		out = append(out, m{"term": m{"relevant": true}})
	}
	return out
}

// timeFormat is how times go into queries: millisecond precision is all a
// date field keeps.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func stringsOf[T ~string](vs []T) []string {
	if len(vs) == 0 {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// fingerprint identifies what a query selects and how it sorts, so a cursor
// is refused by any other query.
func fingerprint(q index.Query, relevance bool) uint64 {
	h := fnv.New64a()
	norm := func(v []string) []string {
		v = slices.Clone(v)
		slices.Sort(v)
		return v
	}
	data, _ := json.Marshal([]any{
		q.Text, norm(q.Topics), norm(q.Countries), norm(stringsOf(q.Actions)), norm(stringsOf(q.Treaties)),
		norm(q.Sources), norm(q.Languages), q.Since.UnixNano(), q.Until.UnixNano(), q.RelevantOnly, relevance,
	})
	h.Write(data)
	return h.Sum64()
}

// cursor is Hits.NextCursor: the last hit's sort values, and the fingerprint
// of the query it belongs to.
type cursor struct {
	FP    uint64            `json:"f"`
	After []json.RawMessage `json:"a"`
}

var errCursor = errors.New("malformed cursor")

func encodeCursor(fp uint64, after []json.RawMessage) string {
	data, _ := json.Marshal(cursor{FP: fp, After: after})
	return base64.RawURLEncoding.EncodeToString(data)
}

// decodeCursor checks a cursor and returns its search_after values.
func decodeCursor(s string, fp uint64) ([]json.RawMessage, error) {
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", index.ErrBadQuery, errCursor)
	}
	var c cursor
	if err := json.Unmarshal(data, &c); err != nil || len(c.After) == 0 || len(c.After) > 3 {
		return nil, fmt.Errorf("%w: %w", index.ErrBadQuery, errCursor)
	}
	for _, v := range c.After {
		// Only scalars: a cursor must not smuggle query DSL.
		var x any
		if json.Unmarshal(v, &x) != nil {
			return nil, fmt.Errorf("%w: %w", index.ErrBadQuery, errCursor)
		}
		switch x.(type) {
		case string, float64, nil:
		default:
			return nil, fmt.Errorf("%w: %w", index.ErrBadQuery, errCursor)
		}
	}
	if c.FP != fp {
		return nil, fmt.Errorf("%w: cursor belongs to another query", index.ErrBadQuery)
	}
	return c.After, nil
}

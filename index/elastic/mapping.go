package elastic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// FoldedAnalyzer is the analyzer of the searchable text fields. It tokenizes
// and folds like classify/textnorm (words are runs of letters, digits and
// marks; U+02BC and all punctuation split; lower case; diacritics and ł, ø, ß
// ... folded), so a rule tried on the archive matches what the classifier
// matched. Everything it uses ships with Elasticsearch, no plugin.
const FoldedAnalyzer = "minewatch_folded"

// languageAnalyzers are the per-language sub-fields of title and body: the
// built-in stemming analyzers for the languages minewatch reads. Polish and
// Ukrainian need plugins (stempel, ukrainian) and get none.
var languageAnalyzers = map[string]string{
	"en": "english", "de": "german", "fr": "french", "fi": "finnish", "et": "estonian",
	"lv": "latvian", "lt": "lithuanian", "no": "norwegian", "ru": "russian",
}

// textField is a folded text field with the language sub-fields, and
// offsets stored so highlighting does not re-analyse long bodies.
func textField() map[string]any {
	fields := map[string]any{}
	for lang, an := range languageAnalyzers {
		fields[lang] = map[string]any{"type": "text", "analyzer": an}
	}
	return map[string]any{
		"type": "text", "analyzer": FoldedAnalyzer,
		"index_options": "offsets",
		"fields":        fields,
	}
}

var (
	keyword  = map[string]any{"type": "keyword"}
	date     = map[string]any{"type": "date", "format": "strict_date_optional_time||epoch_millis"}
	disabled = map[string]any{"type": "object", "enabled": false}
)

// analysis is the index settings' analysis section.
func analysis() map[string]any {
	return map[string]any{
		"char_filter": map[string]any{
			// Cyrillic letters textnorm folds and asciifolding does not.
			"minewatch_cyrillic": map[string]any{
				"type":     "mapping",
				"mappings": []string{"ё => е", "Ё => Е", "ї => і", "Ї => І", "й => и", "Й => И"},
			},
		},
		"tokenizer": map[string]any{
			"minewatch_words": map[string]any{
				"type": "pattern",
				// Separators: anything but letters, decimal digits and marks,
				// and U+02BC, an apostrophe in Ukrainian.
				"pattern": `(?:[^\p{L}\p{Nd}\p{M}]|\x{02BC})+`,
			},
		},
		"filter": map[string]any{
			"minewatch_fold": map[string]any{"type": "asciifolding", "preserve_original": false},
		},
		"analyzer": map[string]any{
			FoldedAnalyzer: map[string]any{
				"type":        "custom",
				"char_filter": []string{"minewatch_cyrillic"},
				"tokenizer":   "minewatch_words",
				"filter":      []string{"lowercase", "minewatch_fold"},
			},
		},
	}
}

// articleMappings are the explicit mappings of the articles indices. Dynamic
// mapping is off: an unexpected field is kept in _source but not indexed, so
// a newer writer never breaks an older index.
func articleMappings() map[string]any {
	return map[string]any{
		"dynamic": false,
		"properties": map[string]any{
			"id":             keyword,
			"source_id":      keyword,
			"url":            keyword,
			"canonical_url":  keyword,
			"title":          textField(),
			"summary":        map[string]any{"type": "text", "analyzer": FoldedAnalyzer},
			"text":           map[string]any{"type": "text", "index": false},
			"body":           textField(),
			"language":       keyword,
			"authors":        keyword,
			"site_name":      keyword,
			"published":      date,
			"published_from": keyword,
			"first_seen":     date,
			"date":           date,
			"story_id":       keyword,
			"simhash":        map[string]any{"type": "unsigned_long"},
			"simhash_bands":  keyword,
			"relevant":       map[string]any{"type": "boolean"},
			"score":          map[string]any{"type": "float"},
			"rules_version":  keyword,
			"topics": map[string]any{
				"properties": map[string]any{
					"topic":   keyword,
					"score":   map[string]any{"type": "float"},
					"matches": disabled,
				},
			},
			"entities": map[string]any{
				"type": "nested",
				"properties": map[string]any{
					"country":      keyword,
					"country_name": keyword,
					"action":       keyword,
					"treaty":       keyword,
					"evidence":     map[string]any{"type": "text", "analyzer": FoldedAnalyzer},
					"evidence_at":  disabled,
				},
			},
			// Flat copies of the entities' values: filters and facets count
			// articles, and Kibana charts them without nested aggregations.
			"countries": keyword,
			"actions":   keyword,
			"treaties":  keyword,
		},
	}
}

// articleTemplate is the index template every <prefix>-articles-* index gets.
func (s *Store) articleTemplate() map[string]any {
	return map[string]any{
		"index_patterns": []string{s.names.pattern},
		"priority":       200,
		"template": map[string]any{
			"settings": map[string]any{
				"number_of_shards": 1,
				"analysis":         analysis(),
			},
			"mappings": articleMappings(),
		},
		"_meta": map[string]any{"managed_by": "minewatch", "version": mappingVersion},
	}
}

// mappingVersion changes whenever articleMappings does; Reindex brings old
// indices up to it.
const mappingVersion = 1

// stored is a field kept in _source but not indexed: the state, events and
// searches indices are read whole, never searched by these.
var stored = map[string]any{"type": "keyword", "index": false, "doc_values": false}

func stateMappings() map[string]any {
	return map[string]any{"dynamic": false, "properties": map[string]any{
		"source_id": keyword, "url": stored, "etag": stored, "last_modified": stored,
		"next_check": date, "last_attempt": date, "last_success": date,
		"last_error": map[string]any{"type": "text", "index": false}, "last_error_class": keyword,
		"consecutive_failures": map[string]any{"type": "integer"}, "items_seen": map[string]any{"type": "integer"},
		"articles_total": map[string]any{"type": "long"},
	}}
}

func eventMappings() map[string]any {
	return map[string]any{"dynamic": false, "properties": map[string]any{
		"key": keyword, "country": keyword, "action": keyword, "treaty": keyword,
		"first_seen": date, "effective_date": date, "articles": map[string]any{"type": "integer"},
		"first_article_id": keyword, "first_source_id": keyword,
		"evidence": map[string]any{"type": "text", "analyzer": FoldedAnalyzer},
		"outbox":   disabled, "pending_outbox": map[string]any{"type": "boolean"},
	}}
}

func outboxMappings() map[string]any {
	return map[string]any{"dynamic": false, "properties": map[string]any{
		"id": keyword, "kind": keyword, "rule_id": keyword, "channel": keyword, "subscriber": keyword,
		"period": keyword, "event": disabled, "state": keyword, "attempts": map[string]any{"type": "integer"},
		"next_attempt": date, "created": date, "delivered": date,
		"last_error": map[string]any{"type": "text", "index": false},
	}}
}

func searchMappings() map[string]any {
	return map[string]any{"dynamic": false, "properties": map[string]any{
		"id": keyword, "name": keyword, "created": date, "query": disabled,
	}}
}

// Init creates, when missing, the articles template, this month's index with
// the write and read aliases, and the state, events and searches indices. It
// is idempotent: running it on an initialised cluster changes nothing but the
// template (so a new version's mappings apply to the next monthly index).
func (s *Store) Init(ctx context.Context) error {
	if err := s.do(ctx, http.MethodPut, "/_index_template/"+s.names.template, nil, s.articleTemplate(), nil); err != nil {
		return fmt.Errorf("elastic: init: template: %w", err)
	}
	for _, ix := range []struct {
		name     string
		mappings map[string]any
	}{
		{s.names.state, stateMappings()},
		{s.names.events, eventMappings()},
		{s.names.searches, searchMappings()},
		{s.names.outbox, outboxMappings()},
	} {
		if err := s.createIndex(ctx, ix.name, map[string]any{
			"settings": map[string]any{"number_of_shards": 1, "analysis": analysis()},
			"mappings": ix.mappings,
		}); err != nil {
			return fmt.Errorf("elastic: init: %w", err)
		}
	}
	targets, err := s.aliasTargets(ctx, s.names.write)
	if err != nil {
		return fmt.Errorf("elastic: init: %w", err)
	}
	if len(targets) > 0 {
		return s.ensureMonth(ctx)
	}
	first := s.names.monthly(s.now())
	err = s.createIndex(ctx, first, map[string]any{"aliases": map[string]any{
		s.names.write: map[string]any{"is_write_index": true},
		s.names.read:  map[string]any{},
	}})
	if err != nil {
		return fmt.Errorf("elastic: init: %w", err)
	}
	// The index may have existed without aliases (an interrupted init).
	if err := s.updateAliases(ctx, []map[string]any{
		{"add": map[string]any{"index": first, "alias": s.names.write, "is_write_index": true}},
		{"add": map[string]any{"index": first, "alias": s.names.read}},
	}); err != nil {
		return err
	}
	s.monthMu.Lock()
	s.month = s.now().UTC().Format("2006.01")
	s.monthMu.Unlock()
	return nil
}

// createIndex creates an index unless it exists.
func (s *Store) createIndex(ctx context.Context, name string, body map[string]any) error {
	err := s.do(ctx, http.MethodPut, "/"+pathEscape(name), nil, body, nil)
	if err != nil && !isType(err, "resource_already_exists_exception") {
		return fmt.Errorf("create index %s: %w", name, err)
	}
	return nil
}

// aliasTargets lists the indices an alias points at; none when it is missing.
func (s *Store) aliasTargets(ctx context.Context, alias string) (map[string]aliasInfo, error) {
	var out map[string]struct {
		Aliases map[string]struct {
			IsWriteIndex *bool `json:"is_write_index"`
		} `json:"aliases"`
	}
	err := s.do(ctx, http.MethodGet, "/_alias/"+pathEscape(alias), nil, nil, &out)
	if isStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alias %s: %w", alias, err)
	}
	targets := map[string]aliasInfo{}
	for index, a := range out {
		info := aliasInfo{}
		if v, ok := a.Aliases[alias]; ok && v.IsWriteIndex != nil {
			info.write = *v.IsWriteIndex
		}
		targets[index] = info
	}
	return targets, nil
}

type aliasInfo struct{ write bool }

func (s *Store) updateAliases(ctx context.Context, actions []map[string]any) error {
	if err := s.do(ctx, http.MethodPost, "/_aliases", nil, map[string]any{"actions": actions}, nil); err != nil {
		return fmt.Errorf("elastic: update aliases: %w", err)
	}
	return nil
}

// ensureMonth moves the write alias to this month's index when the month has
// turned, creating the index (the template gives it the mappings) and adding
// it to the read alias in the same atomic alias update.
func (s *Store) ensureMonth(ctx context.Context) error {
	month := s.now().UTC().Format("2006.01")
	s.monthMu.Lock()
	defer s.monthMu.Unlock()
	if s.month == month {
		return nil
	}
	targets, err := s.aliasTargets(ctx, s.names.write)
	if err != nil {
		return fmt.Errorf("elastic: %w", err)
	}
	if len(targets) == 0 {
		return ErrNotInitialized
	}
	want := s.names.monthly(s.now())
	for name := range targets {
		// A reindexed index of this month (want-<n>) counts as this month's.
		if name == want || strings.HasPrefix(name, want+"-") {
			s.month = month
			return nil
		}
	}
	if err := s.createIndex(ctx, want, map[string]any{}); err != nil {
		return fmt.Errorf("elastic: %w", err)
	}
	actions := []map[string]any{
		{"add": map[string]any{"index": want, "alias": s.names.write, "is_write_index": true}},
		{"add": map[string]any{"index": want, "alias": s.names.read}},
	}
	for name := range targets {
		actions = append(actions, map[string]any{"remove": map[string]any{"index": name, "alias": s.names.write}})
	}
	if err := s.updateAliases(ctx, actions); err != nil {
		// Another worker may have switched the month in the meantime (its
		// remove of the old write index makes ours fail): that is success.
		now, terr := s.aliasTargets(ctx, s.names.write)
		info, ok := now[want]
		if terr != nil || !ok || !info.write && len(now) > 1 {
			return err
		}
	}
	s.log.Info("elastic: new monthly index", "index", want)
	s.month = month
	return nil
}

// Reindex rebuilds every article into a new index with the current template
// and swaps the aliases to it without downtime: the write alias moves first,
// so new articles land in the new index while the copy runs; the copy does
// not overwrite them (op_type create); then the read alias moves in one
// atomic update. The old indices are kept; Stats lists them, and an operator
// deletes them once satisfied.
func (s *Store) Reindex(ctx context.Context) error {
	if err := s.do(ctx, http.MethodPut, "/_index_template/"+s.names.template, nil, s.articleTemplate(), nil); err != nil {
		return fmt.Errorf("elastic: reindex: template: %w", err)
	}
	old, err := s.aliasTargets(ctx, s.names.read)
	if err != nil {
		return fmt.Errorf("elastic: reindex: %w", err)
	}
	if len(old) == 0 {
		return fmt.Errorf("elastic: reindex: %w", ErrNotInitialized)
	}
	writers, err := s.aliasTargets(ctx, s.names.write)
	if err != nil {
		return fmt.Errorf("elastic: reindex: %w", err)
	}
	target := fmt.Sprintf("%s-%d", s.names.monthly(s.now()), s.now().Unix())
	if _, exists := old[target]; exists {
		return fmt.Errorf("elastic: reindex: index %s already exists", target)
	}
	if err := s.createIndex(ctx, target, map[string]any{}); err != nil {
		return fmt.Errorf("elastic: reindex: %w", err)
	}
	actions := []map[string]any{{"add": map[string]any{"index": target, "alias": s.names.write, "is_write_index": true}}}
	for name := range writers {
		actions = append(actions, map[string]any{"remove": map[string]any{"index": name, "alias": s.names.write}})
	}
	if err := s.updateAliases(ctx, actions); err != nil {
		return fmt.Errorf("elastic: reindex: %w", err)
	}
	sources := make([]string, 0, len(old))
	for name := range old {
		sources = append(sources, name)
	}
	sort.Strings(sources)
	var res struct {
		Total    int   `json:"total"`
		Created  int   `json:"created"`
		Failures []any `json:"failures"`
	}
	body := map[string]any{
		"conflicts": "proceed",
		"source":    map[string]any{"index": sources},
		"dest":      map[string]any{"index": target, "op_type": "create"},
	}
	q := url.Values{"wait_for_completion": {"true"}, "refresh": {"true"}}
	if err := s.do(ctx, http.MethodPost, "/_reindex", q, body, &res); err != nil {
		return fmt.Errorf("elastic: reindex into %s: %w", target, err)
	}
	if len(res.Failures) > 0 {
		return fmt.Errorf("elastic: reindex into %s: %d failures, aliases of the read side unchanged", target, len(res.Failures))
	}
	actions = []map[string]any{{"add": map[string]any{"index": target, "alias": s.names.read}}}
	for _, name := range sources {
		actions = append(actions, map[string]any{"remove": map[string]any{"index": name, "alias": s.names.read}})
	}
	if err := s.updateAliases(ctx, actions); err != nil {
		return fmt.Errorf("elastic: reindex: %w", err)
	}
	s.monthMu.Lock()
	s.month = s.now().UTC().Format("2006.01")
	s.monthMu.Unlock()
	s.log.Info("elastic: reindexed", "into", target, "from", sources, "docs", res.Total, "created", res.Created)
	return nil
}

// Stats describes the cluster side of the store.
type Stats struct {
	Articles int64        // documents behind the read alias
	Indices  []IndexStats // the articles indices, by name
	Sources  int64        // source states kept
	Events   int64
	Searches int64 // saved searches
	Messages int64 // in the outbox, delivered or not
	// Bulk counts this process's bulk items since Open.
	Bulk BulkStats
}

// IndexStats is one articles index.
type IndexStats struct {
	Name      string
	Docs      int64
	SizeBytes int64
	Read      bool // behind the read alias
	Write     bool // the write alias points at it
}

// Stats reports document counts and sizes.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	var res struct {
		Indices map[string]struct {
			Primaries struct {
				Docs struct {
					Count int64 `json:"count"`
				} `json:"docs"`
				Store struct {
					Size int64 `json:"size_in_bytes"`
				} `json:"store"`
			} `json:"primaries"`
		} `json:"indices"`
	}
	if err := s.do(ctx, http.MethodGet, "/"+pathEscape(s.names.pattern)+"/_stats/docs,store", nil, nil, &res); err != nil {
		return st, fmt.Errorf("elastic: stats: %w", err)
	}
	readers, err := s.aliasTargets(ctx, s.names.read)
	if err != nil {
		return st, fmt.Errorf("elastic: stats: %w", err)
	}
	writers, err := s.aliasTargets(ctx, s.names.write)
	if err != nil {
		return st, fmt.Errorf("elastic: stats: %w", err)
	}
	for name, ix := range res.Indices {
		_, read := readers[name]
		_, write := writers[name]
		st.Indices = append(st.Indices, IndexStats{Name: name, Docs: ix.Primaries.Docs.Count,
			SizeBytes: ix.Primaries.Store.Size, Read: read, Write: write})
		if read {
			st.Articles += ix.Primaries.Docs.Count
		}
	}
	sort.Slice(st.Indices, func(i, j int) bool { return st.Indices[i].Name < st.Indices[j].Name })
	for _, c := range []struct {
		index string
		n     *int64
	}{{s.names.state, &st.Sources}, {s.names.events, &st.Events}, {s.names.searches, &st.Searches}, {s.names.outbox, &st.Messages}} {
		n, err := s.count(ctx, c.index)
		if err != nil {
			return st, fmt.Errorf("elastic: stats: %w", err)
		}
		*c.n = n
	}
	st.Bulk = s.BulkStats()
	return st, nil
}

func (s *Store) count(ctx context.Context, index string) (int64, error) {
	var res struct {
		Count int64 `json:"count"`
	}
	err := s.do(ctx, http.MethodGet, "/"+pathEscape(index)+"/_count", nil, nil, &res)
	if isType(err, "index_not_found_exception") {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", index, err)
	}
	return res.Count, nil
}

// DeleteAll removes every index, alias and the template of this prefix. Tests
// against a live cluster use it to clean up; nothing else should.
func (s *Store) DeleteAll(ctx context.Context) error {
	var errs []error
	for _, p := range []string{
		"/" + pathEscape(s.names.pattern),
		"/" + pathEscape(s.names.state), "/" + pathEscape(s.names.events), "/" + pathEscape(s.names.searches),
		"/" + pathEscape(s.names.outbox),
	} {
		err := s.do(ctx, http.MethodDelete, p, url.Values{"ignore_unavailable": {"true"}}, nil, nil)
		if err != nil && !isStatus(err, http.StatusNotFound) {
			errs = append(errs, err)
		}
	}
	err := s.do(ctx, http.MethodDelete, "/_index_template/"+s.names.template, nil, nil, nil)
	if err != nil && !isStatus(err, http.StatusNotFound) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("elastic: delete all: %w", err)
	}
	return nil
}

// tsOrNil renders a time for a document, omitting the zero time.
func tsOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

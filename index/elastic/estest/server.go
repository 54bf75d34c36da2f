// Package estest is a recorded-behaviour Elasticsearch 8: an httptest server that
// stores documents, evaluates the backend's query DSL, and checks and records requests.
//
// It answers the REST calls the elastic backend makes (GET /, index templates,
// index create/delete, aliases, _bulk, _doc/_create/_update, _search, _count,
// _stats, _reindex) with bodies shaped like Elasticsearch 8.19's, taken from
// the reference documentation's examples, and the X-Elastic-Product header the
// Go client requires. Searches are really evaluated: bool, match_all, ids,
// term(s), range, exists, match/match_phrase(_prefix), prefix, wildcard
// (trailing *), intervals (match, prefix, all_of, any_of with max_gaps and
// ordered), nested; sort with search_after; terms and date_histogram
// aggregations; highlighting. Text fields are analysed like the backend's
// folding analyzer (classify/textnorm), so the contract suite runs unchanged.
// Scores are BM25-shaped, not Lucene's: tests may rely on order, not values.
//
// Violations lists what a real cluster would refuse or what breaks the
// backend's own rules (a source field the mappings lack, a bulk line without
// an id, an analyzer that needs a plugin); FailItem injects per-item bulk
// failures (429, mapping errors).
package estest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Request is one request the server received.
type Request struct {
	Method      string
	Path        string // unescaped
	Query       url.Values
	ContentType string
	Body        []byte // decompressed; nil when Options.NoBodies
	BodyLen     int
}

// Options configure New.
type Options struct {
	// NoBodies records requests without their bodies and trusts bulk source
	// lines (no JSON or mapping check), so a benchmark measures the client,
	// not the fake.
	NoBodies bool
}

// Server is the fake cluster. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	opts Options

	mu         sync.Mutex
	templates  map[string]*template
	indices    map[string]*esIndex
	aliases    map[string]map[string]bool // alias → index → is write index
	requests   []Request
	violations []string
	faults     []*fault
	seqNo      int64

	nRequests atomic.Int64
}

type template struct {
	Patterns []string
	Settings map[string]any
	Mappings map[string]any
}

// New starts a server on 127.0.0.1 and closes it when the test ends.
func New(tb testing.TB, opts Options) *Server {
	s := &Server{
		opts:      opts,
		templates: map[string]*template{},
		indices:   map[string]*esIndex{},
		aliases:   map[string]map[string]bool{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Requests returns what the server received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestCount is the number of requests received.
func (s *Server) RequestCount() int64 { return s.nRequests.Load() }

// ResetRequests forgets the recorded requests and the count.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
	s.nRequests.Store(0)
}

// Violations lists the requests that a real cluster would reject or that
// break the backend's own contract (a bulk source field the mappings lack,
// an action line without an id, a wrong content type ...). Tests assert it
// is empty.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

func (s *Server) violate(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

// fault makes bulk items for an id fail.
type fault struct {
	id     string
	status int
	typ    string
	reason string
	times  int // remaining; <0 forever
}

// FailItem makes the next times bulk items for id fail with status and the
// error type (times < 0: always). Real reasons are used for the common types.
func (s *Server) FailItem(id string, status int, errType string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reason := "injected failure"
	switch errType {
	case "es_rejected_execution_exception":
		reason = "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=104857600, max_coordinating_and_primary_bytes=104857600]"
	case "document_parsing_exception":
		reason = fmt.Sprintf("[1:42] failed to parse field [published] of type [date] in document with id '%s'. Preview of field's value: 'yesterday'", id)
	}
	s.faults = append(s.faults, &fault{id: id, status: status, typ: errType, reason: reason, times: times})
}

// takeFault returns the fault for id, consuming one use.
func (s *Server) takeFault(id string) *fault {
	for i, f := range s.faults {
		if f.id == id && f.times != 0 {
			if f.times > 0 {
				f.times--
			}
			if f.times == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f
		}
	}
	return nil
}

// DocCount is the number of documents in the indices an expression names.
func (s *Server) DocCount(expr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, _ := s.resolve(expr, true)
	n := 0
	for _, name := range names {
		n += len(s.indices[name].docs)
	}
	return n
}

// Source returns the stored _source of a document, searched in the indices
// expr names.
func (s *Server) Source(expr, id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, _ := s.resolve(expr, true)
	for _, name := range names {
		if d, ok := s.indices[name].docs[id]; ok {
			return d.raw, true
		}
	}
	return nil, false
}

// Indices lists the index names.
func (s *Server) Indices() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name := range s.indices {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// AliasTargets returns the indices of an alias and whether each is the write index.
func (s *Server) AliasTargets(alias string) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for k, v := range s.aliases[alias] {
		out[k] = v
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.nRequests.Add(1)
	// The client refuses any answer without this header.
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	body, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parse_exception", err.Error())
		return
	}
	segs := splitPath(r.URL.EscapedPath())
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := Request{Method: r.Method, Path: "/" + strings.Join(segs, "/"), Query: r.URL.Query(),
		ContentType: r.Header.Get("Content-Type"), BodyLen: len(body)}
	if !s.opts.NoBodies {
		rec.Body = body
	}
	s.requests = append(s.requests, rec)
	if len(body) > 0 && !strings.Contains(rec.ContentType, "json") {
		s.violate("%s %s: content type %q", r.Method, rec.Path, rec.ContentType)
	}
	status, resp := s.route(r.Method, segs, r.URL.Query(), body)
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(resp)
}

func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		rd = zr
	}
	return io.ReadAll(rd)
}

func splitPath(escaped string) []string {
	var out []string
	for seg := range strings.SplitSeq(strings.Trim(escaped, "/"), "/") {
		if seg == "" {
			continue
		}
		u, err := url.PathUnescape(seg)
		if err != nil {
			u = seg
		}
		out = append(out, u)
	}
	return out
}

type answer = []byte

func (s *Server) route(method string, segs []string, q url.Values, body []byte) (int, answer) {
	if len(segs) == 0 {
		return http.StatusOK, infoBody
	}
	switch segs[0] {
	case "_index_template":
		if len(segs) == 2 {
			return s.putTemplate(method, segs[1], body)
		}
	case "_aliases":
		if method == http.MethodPost {
			return s.updateAliases(body)
		}
	case "_alias":
		if len(segs) == 2 && method == http.MethodGet {
			return s.getAlias(segs[1])
		}
	case "_bulk":
		return s.bulk("", q, body)
	case "_reindex":
		return s.reindex(body)
	}
	if strings.HasPrefix(segs[0], "_") {
		return errorAnswer(http.StatusBadRequest, "illegal_argument_exception", "unsupported endpoint /"+strings.Join(segs, "/"))
	}
	idx := segs[0]
	if len(segs) == 1 {
		switch method {
		case http.MethodPut:
			return s.createIndex(idx, body)
		case http.MethodDelete:
			return s.deleteIndex(idx, q)
		case http.MethodHead, http.MethodGet:
			if names, err := s.resolve(idx, false); err != nil || len(names) == 0 {
				return notFound(idx)
			}
			return http.StatusOK, []byte("{}")
		}
	}
	switch segs[1] {
	case "_bulk":
		return s.bulk(idx, q, body)
	case "_search":
		return s.search(idx, q, body)
	case "_count":
		return s.count(idx, body)
	case "_stats":
		return s.stats(idx)
	case "_refresh":
		return http.StatusOK, []byte(`{"_shards":{"total":1,"successful":1,"failed":0}}`)
	}
	if len(segs) == 3 {
		id := segs[2]
		switch {
		case segs[1] == "_doc" && method == http.MethodGet:
			return s.getDoc(idx, id)
		case segs[1] == "_doc" && method == http.MethodDelete:
			return s.deleteDoc(idx, id)
		case segs[1] == "_doc" && (method == http.MethodPut || method == http.MethodPost):
			return s.indexDoc(idx, id, q.Get("op_type") == "create", q, body)
		case segs[1] == "_create" && (method == http.MethodPut || method == http.MethodPost):
			return s.indexDoc(idx, id, true, q, body)
		case segs[1] == "_update" && method == http.MethodPost:
			return s.updateDoc(idx, id, body)
		}
	}
	return errorAnswer(http.StatusBadRequest, "illegal_argument_exception", "unsupported endpoint "+method+" /"+strings.Join(segs, "/"))
}

// resolve expands an index expression (comma list, wildcards, aliases) to
// index names. Missing concrete names are an error unless lenient.
func (s *Server) resolve(expr string, lenient bool) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for part := range strings.SplitSeq(expr, ",") {
		if strings.Contains(part, "*") {
			for name := range s.indices {
				if ok, _ := path.Match(part, name); ok {
					add(name)
				}
			}
			continue
		}
		if _, ok := s.indices[part]; ok {
			add(part)
			continue
		}
		if targets, ok := s.aliases[part]; ok && len(targets) > 0 {
			for name := range targets {
				add(name)
			}
			continue
		}
		if !lenient {
			return nil, fmt.Errorf("%s", part)
		}
	}
	sort.Strings(out)
	return out, nil
}

// writeTarget is the index a write to name goes to: the index itself, an
// alias's write index, or a new index when a template matches.
func (s *Server) writeTarget(name string) (string, int, answer) {
	if _, ok := s.indices[name]; ok {
		return name, 0, nil
	}
	if targets, ok := s.aliases[name]; ok {
		if len(targets) == 1 {
			for n := range targets {
				return n, 0, nil
			}
		}
		for n, w := range targets {
			if w {
				return n, 0, nil
			}
		}
		st, a := errorAnswer(http.StatusBadRequest, "illegal_argument_exception",
			fmt.Sprintf("no write index is defined for alias [%s]. The write index may be explicitly disabled using is_write_index=false or the alias points to multiple indices without one being designated as a write index", name))
		return "", st, a
	}
	// Auto-create, as a cluster with action.auto_create_index does.
	s.newIndex(name, nil)
	return name, 0, nil
}

func (s *Server) putTemplate(method, name string, body []byte) (int, answer) {
	switch method {
	case http.MethodDelete:
		if _, ok := s.templates[name]; !ok {
			return errorAnswer(http.StatusNotFound, "resource_not_found_exception", "index template matching ["+name+"] not found")
		}
		delete(s.templates, name)
		return http.StatusOK, ack
	case http.MethodGet:
		if _, ok := s.templates[name]; !ok {
			return errorAnswer(http.StatusNotFound, "resource_not_found_exception", "index template matching ["+name+"] not found")
		}
		return http.StatusOK, ack
	}
	var t struct {
		IndexPatterns []string `json:"index_patterns"`
		Template      struct {
			Settings map[string]any `json:"settings"`
			Mappings map[string]any `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return errorAnswer(http.StatusBadRequest, "x_content_parse_exception", err.Error())
	}
	if len(t.IndexPatterns) == 0 {
		s.violate("template %s: no index_patterns", name)
		return errorAnswer(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
	}
	if t.Template.Mappings == nil {
		s.violate("template %s: no mappings", name)
	}
	if msg := checkAnalyzers(t.Template.Settings, t.Template.Mappings); msg != "" {
		s.violate("template %s: %s", name, msg)
		return errorAnswer(http.StatusBadRequest, "illegal_argument_exception", msg)
	}
	s.templates[name] = &template{Patterns: t.IndexPatterns, Settings: t.Template.Settings, Mappings: t.Template.Mappings}
	return http.StatusOK, ack
}

// builtinAnalyzers are the analyzers a plain Elasticsearch 8 has.
var builtinAnalyzers = map[string]bool{
	"standard": true, "simple": true, "whitespace": true, "stop": true, "keyword": true, "pattern": true,
	"fingerprint": true, "arabic": true, "armenian": true, "basque": true, "bengali": true, "brazilian": true,
	"bulgarian": true, "catalan": true, "cjk": true, "czech": true, "danish": true, "dutch": true, "english": true,
	"estonian": true, "finnish": true, "french": true, "galician": true, "german": true, "greek": true, "hindi": true,
	"hungarian": true, "indonesian": true, "irish": true, "italian": true, "latvian": true, "lithuanian": true,
	"norwegian": true, "persian": true, "portuguese": true, "romanian": true, "russian": true, "serbian": true,
	"sorani": true, "spanish": true, "swedish": true, "turkish": true, "thai": true,
}

// checkAnalyzers reports an analyzer a mapping uses that neither the
// settings define nor Elasticsearch ships (a plugin's, say).
func checkAnalyzers(settings, mappings map[string]any) string {
	defined := map[string]bool{}
	if an, ok := dig(settings, "analysis", "analyzer").(map[string]any); ok {
		for name := range an {
			defined[name] = true
		}
	}
	var bad string
	walkProps(mappings, "", func(field string, def map[string]any) {
		if a, ok := def["analyzer"].(string); ok && !defined[a] && !builtinAnalyzers[a] && bad == "" {
			bad = fmt.Sprintf("analyzer [%s] has not been configured in mappings (field %s)", a, field)
		}
	})
	return bad
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		mp, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mp[k]
	}
	return v
}

// walkProps visits every field definition of a mappings object, multi-fields included.
func walkProps(mappings map[string]any, prefix string, fn func(field string, def map[string]any)) {
	props, _ := mappings["properties"].(map[string]any)
	for name, d := range props {
		def, ok := d.(map[string]any)
		if !ok {
			continue
		}
		full := prefix + name
		fn(full, def)
		if sub, ok := def["fields"].(map[string]any); ok {
			for sn, sd := range sub {
				if sdef, ok := sd.(map[string]any); ok {
					fn(full+"."+sn, sdef)
				}
			}
		}
		if _, ok := def["properties"]; ok {
			walkProps(def, full+".", fn)
		}
	}
}

func (s *Server) createIndex(name string, body []byte) (int, answer) {
	if _, ok := s.indices[name]; ok {
		return errorAnswer(http.StatusBadRequest, "resource_already_exists_exception",
			fmt.Sprintf("index [%s/%s] already exists", name, uuidFor(name)))
	}
	var req struct {
		Settings map[string]any `json:"settings"`
		Mappings map[string]any `json:"mappings"`
		Aliases  map[string]struct {
			IsWriteIndex *bool `json:"is_write_index"`
		} `json:"aliases"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return errorAnswer(http.StatusBadRequest, "x_content_parse_exception", err.Error())
		}
	}
	if msg := checkAnalyzers(req.Settings, req.Mappings); msg != "" {
		s.violate("create index %s: %s", name, msg)
		return errorAnswer(http.StatusBadRequest, "mapper_parsing_exception", "Failed to parse mapping: "+msg)
	}
	s.newIndex(name, req.Mappings)
	for alias, a := range req.Aliases {
		s.setAlias(alias, name, a.IsWriteIndex != nil && *a.IsWriteIndex)
	}
	return http.StatusOK, mustJSON(map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name})
}

// newIndex creates an index with its own mappings, or those of the
// matching template with the highest priority.
func (s *Server) newIndex(name string, mappings map[string]any) {
	if mappings == nil {
		for _, t := range s.templates {
			for _, p := range t.Patterns {
				if ok, _ := path.Match(p, name); ok {
					mappings = t.Mappings
				}
			}
		}
	}
	s.indices[name] = newESIndex(name, mappings)
}

func (s *Server) deleteIndex(expr string, q url.Values) (int, answer) {
	names, err := s.resolve(expr, q.Get("ignore_unavailable") == "true")
	if err != nil {
		return notFound(err.Error())
	}
	for _, name := range names {
		delete(s.indices, name)
		for alias, targets := range s.aliases {
			delete(targets, name)
			if len(targets) == 0 {
				delete(s.aliases, alias)
			}
		}
	}
	return http.StatusOK, ack
}

func (s *Server) setAlias(alias, index string, write bool) {
	if s.aliases[alias] == nil {
		s.aliases[alias] = map[string]bool{}
	}
	if write {
		for n := range s.aliases[alias] {
			s.aliases[alias][n] = false
		}
	}
	s.aliases[alias][index] = write
}

func (s *Server) updateAliases(body []byte) (int, answer) {
	var req struct {
		Actions []map[string]struct {
			Index        string `json:"index"`
			Alias        string `json:"alias"`
			IsWriteIndex *bool  `json:"is_write_index"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorAnswer(http.StatusBadRequest, "x_content_parse_exception", err.Error())
	}
	// All actions apply or none: check first.
	for _, a := range req.Actions {
		for op, v := range a {
			if _, ok := s.indices[v.Index]; !ok {
				return notFound(v.Index)
			}
			if op == "remove" && !s.aliases[v.Alias][v.Index] {
				if _, ok := s.aliases[v.Alias][v.Index]; !ok {
					return errorAnswer(http.StatusNotFound, "aliases_not_found_exception", "aliases ["+v.Alias+"] missing")
				}
			}
			if op != "add" && op != "remove" {
				return errorAnswer(http.StatusBadRequest, "illegal_argument_exception", "unsupported alias action ["+op+"]")
			}
		}
	}
	for _, a := range req.Actions {
		for op, v := range a {
			switch op {
			case "add":
				s.setAlias(v.Alias, v.Index, v.IsWriteIndex != nil && *v.IsWriteIndex)
			case "remove":
				delete(s.aliases[v.Alias], v.Index)
				if len(s.aliases[v.Alias]) == 0 {
					delete(s.aliases, v.Alias)
				}
			}
		}
	}
	return http.StatusOK, []byte(`{"acknowledged":true,"errors":false}`)
}

func (s *Server) getAlias(alias string) (int, answer) {
	targets := s.aliases[alias]
	if len(targets) == 0 {
		return http.StatusNotFound, mustJSON(map[string]any{"error": "alias [" + alias + "] missing", "status": 404})
	}
	out := map[string]any{}
	for name, w := range targets {
		a := map[string]any{}
		if w || len(targets) > 1 {
			a["is_write_index"] = w
		}
		out[name] = map[string]any{"aliases": map[string]any{alias: a}}
	}
	return http.StatusOK, mustJSON(out)
}

// bulk applies an NDJSON bulk request: an action line, then (except for
// delete) a source line.
func (s *Server) bulk(defaultIndex string, q url.Values, body []byte) (int, answer) {
	var items []bulkEntry
	errors := false
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	line := 0
	if len(body) == 0 || body[len(body)-1] != '\n' {
		s.violate("bulk: body does not end with a newline")
		return errorAnswer(http.StatusBadRequest, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
	}
	for sc.Scan() {
		line++
		actionLine := sc.Bytes()
		if len(bytes.TrimSpace(actionLine)) == 0 {
			continue
		}
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(actionLine, &action); err != nil || len(action) != 1 {
			s.violate("bulk line %d: malformed action %q", line, actionLine)
			return errorAnswer(http.StatusBadRequest, "illegal_argument_exception", fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]", line))
		}
		var op, target, id string
		for k, v := range action {
			op, target, id = k, v.Index, v.ID
		}
		if target == "" {
			target = defaultIndex
		}
		var src []byte
		if op != "delete" {
			if !sc.Scan() {
				s.violate("bulk line %d: %s without a source line", line, op)
				return errorAnswer(http.StatusBadRequest, "illegal_argument_exception", "Validation Failed: 1: no requests added;")
			}
			line++
			src = slices.Clone(sc.Bytes())
		}
		if id == "" {
			s.violate("bulk line %d: %s without _id", line, op)
		}
		if target == "" {
			s.violate("bulk line %d: %s without _index", line, op)
		}
		item, failed := s.bulkItem(op, target, id, src)
		errors = errors || failed
		items = append(items, bulkEntry{op: op, item: item})
	}
	if len(items) == 0 {
		return errorAnswer(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	return http.StatusOK, mustJSON(map[string]any{"took": 3, "errors": errors, "items": items})
}

// bulkEntry is one item of a bulk response: {"<op>": {...}}.
type bulkEntry struct {
	op   string
	item any
}

func (e bulkEntry) MarshalJSON() ([]byte, error) {
	data, err := json.Marshal(e.item)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(data)+len(e.op)+5)
	out = append(out, '{')
	out = strconv.AppendQuote(out, e.op)
	out = append(out, ':')
	out = append(out, data...)
	return append(out, '}'), nil
}

// writeOK is a successful write item, in the field order Elasticsearch uses.
type writeOK struct {
	Index       string         `json:"_index"`
	ID          string         `json:"_id"`
	Version     int            `json:"_version"`
	Result      string         `json:"result"`
	Shards      map[string]int `json:"_shards"`
	SeqNo       int64          `json:"_seq_no"`
	PrimaryTerm int            `json:"_primary_term"`
	Status      int            `json:"status"`
}

func (s *Server) bulkItem(op, target, id string, src []byte) (any, bool) {
	fail := func(status int, typ, reason string) (any, bool) {
		return map[string]any{"_index": target, "_id": id, "status": status,
			"error": map[string]any{"type": typ, "reason": reason, "index_uuid": uuidFor(target), "shard": "0", "index": target}}, true
	}
	if f := s.takeFault(id); f != nil {
		return fail(f.status, f.typ, f.reason)
	}
	name, st, _ := s.writeTarget(target)
	if st != 0 {
		return fail(st, "illegal_argument_exception", "no write index is defined for alias ["+target+"]")
	}
	ix := s.indices[name]
	switch op {
	case "index", "create":
		if !s.opts.NoBodies && !json.Valid(src) {
			return fail(http.StatusBadRequest, "document_parsing_exception", "[1:1] failed to parse: source is not valid JSON")
		}
		if !s.opts.NoBodies {
			if msg := ix.checkSource(src); msg != "" {
				s.violate("bulk %s %s/%s: %s", op, name, id, msg)
			}
		}
		if _, exists := ix.docs[id]; exists && op == "create" {
			return fail(http.StatusConflict, "version_conflict_engine_exception",
				fmt.Sprintf("[%s]: version conflict, document already exists (current version [%d])", id, ix.docs[id].version))
		}
		d, created := ix.put(id, src, s.nextSeq())
		res := writeOK{Index: name, ID: id, Version: d.version, Result: "updated", Shards: shards,
			SeqNo: d.seqNo, PrimaryTerm: 1, Status: http.StatusOK}
		if created {
			res.Result, res.Status = "created", http.StatusCreated
		}
		return res, false
	case "delete":
		d, ok := ix.docs[id]
		if !ok {
			return map[string]any{"_index": name, "_id": id, "_version": 1, "result": "not_found", "status": 404,
				"_shards": shards, "_seq_no": s.nextSeq(), "_primary_term": 1}, false
		}
		delete(ix.docs, id)
		return map[string]any{"_index": name, "_id": id, "_version": d.version + 1, "result": "deleted", "status": 200,
			"_shards": shards, "_seq_no": s.nextSeq(), "_primary_term": 1}, false
	}
	return fail(http.StatusBadRequest, "illegal_argument_exception", "unsupported bulk action ["+op+"]")
}

func (s *Server) nextSeq() int64 {
	s.seqNo++
	return s.seqNo
}

var shards = map[string]int{"total": 2, "successful": 1, "failed": 0}

func writeResult(index string, d *doc, created bool, okStatus int) map[string]any {
	result, status := "updated", okStatus
	if created {
		result, status = "created", http.StatusCreated
	}
	return map[string]any{"_index": index, "_id": d.id, "_version": d.version, "result": result,
		"_shards": shards, "_seq_no": d.seqNo, "_primary_term": 1, "status": status}
}

func (s *Server) indexDoc(target, id string, create bool, q url.Values, body []byte) (int, answer) {
	if !json.Valid(body) {
		return errorAnswer(http.StatusBadRequest, "document_parsing_exception", "[1:1] failed to parse")
	}
	name, st, a := s.writeTarget(target)
	if st != 0 {
		return st, a
	}
	ix := s.indices[name]
	if msg := ix.checkSource(body); msg != "" {
		s.violate("index %s/%s: %s", name, id, msg)
	}
	if d, ok := ix.docs[id]; ok && create {
		return errorAnswer(http.StatusConflict, "version_conflict_engine_exception",
			fmt.Sprintf("[%s]: version conflict, document already exists (current version [%d])", id, d.version))
	}
	if seq := q.Get("if_seq_no"); seq != "" {
		// Optimistic concurrency: the write applies only to the version read.
		cur, ok := ix.docs[id]
		if !ok || strconv.FormatInt(cur.seqNo, 10) != seq || q.Get("if_primary_term") != "1" {
			current := "none"
			if ok {
				current = strconv.FormatInt(cur.seqNo, 10)
			}
			return errorAnswer(http.StatusConflict, "version_conflict_engine_exception",
				fmt.Sprintf("[%s]: version conflict, required seqNo [%s], primary term [%s]. current document has seqNo [%s] and primary term [1]", id, seq, q.Get("if_primary_term"), current))
		}
	}
	d, created := ix.put(id, body, s.nextSeq())
	res := writeResult(name, d, created, http.StatusOK)
	status := res["status"].(int)
	delete(res, "status")
	return status, mustJSON(res)
}

func (s *Server) getDoc(expr, id string) (int, answer) {
	names, err := s.resolve(expr, false)
	if err != nil {
		return notFound(err.Error())
	}
	if len(names) > 1 {
		return errorAnswer(http.StatusBadRequest, "illegal_argument_exception",
			fmt.Sprintf("alias [%s] has more than one index associated with it [%s], can't execute a single index op", expr, strings.Join(names, ", ")))
	}
	d, ok := s.indices[names[0]].docs[id]
	if !ok {
		return http.StatusNotFound, mustJSON(map[string]any{"_index": names[0], "_id": id, "found": false})
	}
	return http.StatusOK, mustJSON(map[string]any{"_index": names[0], "_id": id, "_version": d.version,
		"_seq_no": d.seqNo, "_primary_term": 1, "found": true, "_source": d.raw})
}

func (s *Server) deleteDoc(expr, id string) (int, answer) {
	names, err := s.resolve(expr, false)
	if err != nil {
		return notFound(err.Error())
	}
	for _, name := range names {
		if d, ok := s.indices[name].docs[id]; ok {
			delete(s.indices[name].docs, id)
			return http.StatusOK, mustJSON(map[string]any{"_index": name, "_id": id, "_version": d.version + 1,
				"result": "deleted", "_shards": shards, "_seq_no": s.nextSeq(), "_primary_term": 1})
		}
	}
	return http.StatusNotFound, mustJSON(map[string]any{"_index": names[0], "_id": id, "_version": 1,
		"result": "not_found", "_shards": shards, "_seq_no": s.nextSeq(), "_primary_term": 1})
}

// updateDoc supports the scripted updates the backend sends: increments of
// a numeric field (ctx._source.F += N), and partial documents.
func (s *Server) updateDoc(expr, id string, body []byte) (int, answer) {
	names, err := s.resolve(expr, false)
	if err != nil {
		return notFound(err.Error())
	}
	var req struct {
		Script *struct {
			Source string `json:"source"`
		} `json:"script"`
		Doc map[string]any `json:"doc"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorAnswer(http.StatusBadRequest, "x_content_parse_exception", err.Error())
	}
	ix := s.indices[names[0]]
	d, ok := ix.docs[id]
	if !ok {
		return errorAnswer(http.StatusNotFound, "document_missing_exception", fmt.Sprintf("[%s]: document missing", id))
	}
	src := decodeObject(d.raw)
	switch {
	case req.Script != nil:
		field, n, ok := parseIncrement(req.Script.Source)
		if !ok {
			s.violate("update %s: unsupported script %q", id, req.Script.Source)
			return errorAnswer(http.StatusBadRequest, "illegal_argument_exception", "failed to execute script")
		}
		cur := 0.0
		if num, ok := src[field].(json.Number); ok {
			cur, _ = num.Float64()
		}
		src[field] = cur + n
	case req.Doc != nil:
		maps.Copy(src, req.Doc)
	default:
		return errorAnswer(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: script or doc is missing;")
	}
	d, _ = ix.put(id, mustJSON(src), s.nextSeq())
	return http.StatusOK, mustJSON(map[string]any{"_index": ix.name, "_id": id, "_version": d.version,
		"result": "updated", "_shards": shards, "_seq_no": d.seqNo, "_primary_term": 1})
}

// parseIncrement reads "ctx._source.FIELD += N".
func parseIncrement(script string) (string, float64, bool) {
	lhs, rhs, ok := strings.Cut(strings.ReplaceAll(script, " ", ""), "+=")
	field, isSource := strings.CutPrefix(lhs, "ctx._source.")
	if !ok || !isSource || field == "" {
		return "", 0, false
	}
	n, err := strconv.ParseFloat(strings.TrimSuffix(rhs, ";"), 64)
	return field, n, err == nil
}

func (s *Server) reindex(body []byte) (int, answer) {
	var req struct {
		Conflicts string `json:"conflicts"`
		Source    struct {
			Index any `json:"index"`
		} `json:"source"`
		Dest struct {
			Index  string `json:"index"`
			OpType string `json:"op_type"`
		} `json:"dest"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorAnswer(http.StatusBadRequest, "x_content_parse_exception", err.Error())
	}
	var exprs []string
	switch v := req.Source.Index.(type) {
	case string:
		exprs = []string{v}
	case []any:
		for _, x := range v {
			if str, ok := x.(string); ok {
				exprs = append(exprs, str)
			}
		}
	}
	names, err := s.resolve(strings.Join(exprs, ","), false)
	if err != nil {
		return notFound(err.Error())
	}
	dest, st, a := s.writeTarget(req.Dest.Index)
	if st != 0 {
		return st, a
	}
	dx := s.indices[dest]
	created, conflicts := 0, 0
	total := 0
	for _, name := range names {
		for _, id := range s.indices[name].sortedIDs() {
			total++
			d := s.indices[name].docs[id]
			if _, exists := dx.docs[id]; exists && req.Dest.OpType == "create" {
				conflicts++
				continue
			}
			dx.put(id, d.raw, s.nextSeq())
			created++
		}
	}
	if conflicts > 0 && req.Conflicts != "proceed" {
		return errorAnswer(http.StatusConflict, "version_conflict_engine_exception", "version conflict, document already exists")
	}
	return http.StatusOK, mustJSON(map[string]any{"took": 147, "timed_out": false, "total": total, "updated": 0,
		"created": created, "deleted": 0, "batches": 1, "version_conflicts": conflicts, "noops": 0,
		"retries": map[string]int{"bulk": 0, "search": 0}, "throttled_millis": 0, "requests_per_second": -1.0,
		"throttled_until_millis": 0, "failures": []any{}})
}

func (s *Server) count(expr string, body []byte) (int, answer) {
	names, err := s.resolve(expr, false)
	if err != nil {
		return notFound(err.Error())
	}
	var req struct {
		Query map[string]any `json:"query"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return errorAnswer(http.StatusBadRequest, "x_content_parse_exception", err.Error())
		}
	}
	n := 0
	for _, name := range names {
		ix := s.indices[name]
		for _, d := range ix.docs {
			if req.Query == nil {
				n++
				continue
			}
			ok, _, err := ix.eval(req.Query, d)
			if err != nil {
				return errorAnswer(http.StatusBadRequest, "parsing_exception", err.Error())
			}
			if ok {
				n++
			}
		}
	}
	return http.StatusOK, mustJSON(map[string]any{"count": n, "_shards": map[string]int{"total": len(names), "successful": len(names), "skipped": 0, "failed": 0}})
}

func (s *Server) stats(expr string) (int, answer) {
	names, err := s.resolve(expr, strings.Contains(expr, "*"))
	if err != nil {
		return notFound(err.Error())
	}
	indices := map[string]any{}
	for _, name := range names {
		ix := s.indices[name]
		size := 0
		for _, d := range ix.docs {
			size += len(d.raw)
		}
		prim := map[string]any{"docs": map[string]int{"count": len(ix.docs), "deleted": 0},
			"store": map[string]int{"size_in_bytes": size, "total_data_set_size_in_bytes": size, "reserved_in_bytes": 0}}
		indices[name] = map[string]any{"uuid": uuidFor(name), "health": "green", "status": "open", "primaries": prim, "total": prim}
	}
	return http.StatusOK, mustJSON(map[string]any{"_shards": map[string]int{"total": len(names), "successful": len(names), "failed": 0}, "indices": indices})
}

var ack = []byte(`{"acknowledged":true}`)

// infoBody is GET / of Elasticsearch 8.19.
var infoBody = []byte(`{
  "name" : "es01",
  "cluster_name" : "docker-cluster",
  "cluster_uuid" : "Kk5qz9yGRuOLxX0PJjpKlw",
  "version" : {
    "number" : "8.19.7",
    "build_flavor" : "default",
    "build_type" : "docker",
    "build_hash" : "8b9f41bb7d5b2e0e0a2a1a9d4f5b7a2e1f0c3d4e",
    "build_date" : "2025-11-04T10:21:31.987123456Z",
    "build_snapshot" : false,
    "lucene_version" : "9.12.2",
    "minimum_wire_compatibility_version" : "7.17.0",
    "minimum_index_compatibility_version" : "7.0.0"
  },
  "tagline" : "You Know, for Search"
}`)

func uuidFor(name string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var h uint64 = 1469598103934665603
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	b := make([]byte, 22)
	for i := range b {
		b[i] = alphabet[h%62]
		h = h*6364136223846793005 + 1442695040888963407
	}
	return string(b)
}

// errorAnswer is an Elasticsearch error body with its root cause.
func errorAnswer(status int, typ, reason string) (int, answer) {
	cause := map[string]any{"type": typ, "reason": reason}
	return status, mustJSON(map[string]any{
		"error":  map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason},
		"status": status,
	})
}

func notFound(name string) (int, answer) {
	cause := map[string]any{"type": "index_not_found_exception", "reason": "no such index [" + name + "]",
		"resource.type": "index_or_alias", "resource.id": name, "index_uuid": "_na_", "index": name}
	return http.StatusNotFound, mustJSON(map[string]any{
		"error": map[string]any{"root_cause": []any{cause}, "type": "index_not_found_exception",
			"reason": "no such index [" + name + "]", "resource.type": "index_or_alias", "resource.id": name,
			"index_uuid": "_na_", "index": name},
		"status": 404,
	})
}

func writeError(w http.ResponseWriter, status int, typ, reason string) {
	st, body := errorAnswer(status, typ, reason)
	w.WriteHeader(st)
	_, _ = w.Write(body)
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

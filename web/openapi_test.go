package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// schemaChecker validates JSON values against the subset of JSON Schema the
// OpenAPI document uses: $ref, type (string or list), properties, required,
// additionalProperties, items, enum, allOf, oneOf, pattern-free strings.
type schemaChecker struct {
	schemas map[string]any
}

func (c schemaChecker) check(path string, schema map[string]any, v any) []string {
	if ref, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		s, ok := c.schemas[name].(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: unresolved $ref %s", path, ref)}
		}
		return c.check(path, s, v)
	}
	var errs []string
	if all, ok := schema["allOf"].([]any); ok {
		for _, s := range all {
			errs = append(errs, c.check(path, s.(map[string]any), v)...)
		}
	}
	if one, ok := schema["oneOf"].([]any); ok {
		matched := 0
		for _, s := range one {
			if len(c.check(path, s.(map[string]any), v)) == 0 {
				matched++
			}
		}
		if matched != 1 {
			errs = append(errs, fmt.Sprintf("%s: matches %d of oneOf, want 1", path, matched))
		}
	}
	if t, ok := schema["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		if !slices.Contains(types, jsonType(v)) && !(jsonType(v) == "integer" && slices.Contains(types, "number")) {
			return append(errs, fmt.Sprintf("%s: %s, want %v", path, jsonType(v), types))
		}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v not in enum %v", path, v, enum))
	}
	if s, ok := v.(string); ok && schema["format"] == "date-time" {
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %q is not a date-time", path, s))
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				if _, ok := v[r.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s: required property %q missing", path, r))
				}
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, c.check(path+"."+k, ps, v[k])...)
			} else if ap, ok := schema["additionalProperties"].(map[string]any); ok {
				errs = append(errs, c.check(path+"."+k, ap, v[k])...)
			} else if props != nil && schema["allOf"] == nil {
				errs = append(errs, fmt.Sprintf("%s: property %q not in the schema", path, k))
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, x := range v {
				errs = append(errs, c.check(path+"["+strconv.Itoa(i)+"]", items, x)...)
			}
		}
	}
	return errs
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

type openAPIDocument struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		Parameters []struct {
			Name     string `json:"name"`
			In       string `json:"in"`
			Required bool   `json:"required"`
		} `json:"parameters"`
		Responses map[string]struct {
			Content map[string]struct {
				Schema map[string]any `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]any `json:"schemas"`
	} `json:"components"`
}

// TestOpenAPI walks every route in the document, calls it on a server with
// every optional part configured, and checks each response against its
// schema; then the error responses against problem+json.
func TestOpenAPI(t *testing.T) {
	fe := &fakeEvents{evs: testEvents()}
	saver := &fakeSaver{}
	_ = saver.SaveSearch(t.Context(), index.SavedSearch{ID: "s1", Name: "Poland", Query: index.Query{Text: "ottawa", Countries: []string{"PL"}, RelevantOnly: true}, Created: testNow})
	ts := newTestServer(t, func(o *Options) { o.Events = fe; o.Saved = saver })
	ts.search.hits.Histogram = []index.DayCount{{Day: testNow.Truncate(24 * time.Hour), Count: 2, Topics: map[string]int{news.TopicTreatyWithdrawal: 2}}}
	// One page: /api/export would otherwise walk the fake's endless cursor to the cap.
	ts.search.hits.NextCursor = ""

	var doc openAPIDocument
	r := ts.get(t, "/api/openapi.json")
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	chk := schemaChecker{schemas: doc.Components.Schemas}
	pathArgs := map[string]string{"id": "a1b2c3", "country": "PL"}
	// Every API route the server has must be documented.
	for _, route := range []string{"/api/search", "/api/articles/{id}", "/api/sources", "/api/events", "/api/events/{country}", "/api/saved", "/api/export", "/api/openapi.json"} {
		if _, ok := doc.Paths[route]; !ok {
			t.Errorf("%s is not in the OpenAPI document", route)
		}
	}
	call := func(t *testing.T, route, target string, wantStatus int) {
		r := ts.get(t, target)
		if r.status != wantStatus {
			t.Fatalf("GET %s: status %d, want %d: %s", target, r.status, wantStatus, r.body)
		}
		resp, ok := doc.Paths[route]["get"].Responses[strconv.Itoa(r.status)]
		if !ok {
			t.Fatalf("status %d of %s is not documented", r.status, route)
		}
		ct, _, _ := strings.Cut(r.header.Get("Content-Type"), ";")
		media, ok := resp.Content[ct]
		if !ok {
			t.Fatalf("content type %s of %s %d is not documented", ct, route, r.status)
		}
		var v any
		if err := json.Unmarshal([]byte(r.body), &v); err != nil {
			t.Fatalf("body is not JSON: %v", err)
		}
		for _, e := range chk.check("$", media.Schema, v) {
			t.Error(e)
		}
	}
	for route, ops := range doc.Paths {
		if _, ok := ops["get"]; !ok {
			t.Errorf("%s has no GET", route)
			continue
		}
		target := route
		for _, p := range ops["get"].Parameters {
			if p.In == "path" {
				target = strings.ReplaceAll(target, "{"+p.Name+"}", pathArgs[p.Name])
			}
		}
		if route == "/api/search" {
			target += "?q=ottawa&country=PL&histogram=1"
		}
		t.Run(route, func(t *testing.T) { call(t, route, target, http.StatusOK) })
	}
	errorCases := []struct {
		route, target string
		status        int
	}{
		{"/api/search", "/api/search?country=Poland", 400},
		{"/api/articles/{id}", "/api/articles/nope", 404},
		{"/api/events/{country}", "/api/events/QQ", 404},
		{"/api/export", "/api/export?sort=sideways", 400},
	}
	for _, tt := range errorCases {
		t.Run(tt.target, func(t *testing.T) { call(t, tt.route, tt.target, tt.status) })
	}
}

// TestSchemaCheckerCatchesMismatches keeps the checker honest: a checker that
// accepts everything would make TestOpenAPI pass for any response.
func TestSchemaCheckerCatchesMismatches(t *testing.T) {
	chk := schemaChecker{schemas: map[string]any{
		"P": map[string]any{"type": "object", "required": []any{"a"}, "properties": map[string]any{
			"a": map[string]any{"type": "string", "enum": []any{"x", "y"}},
			"b": map[string]any{"type": []any{"string", "null"}, "format": "date-time"},
			"c": map[string]any{"type": "array", "items": map[string]any{"type": "integer"}},
		}},
	}}
	ref := map[string]any{"$ref": "#/components/schemas/P"}
	tests := []struct {
		name string
		json string
		ok   bool
	}{
		{"valid", `{"a":"x","b":null,"c":[1,2]}`, true},
		{"missing required", `{"b":null}`, false},
		{"enum", `{"a":"z"}`, false},
		{"wrong type", `{"a":1}`, false},
		{"bad date", `{"a":"x","b":"yesterday"}`, false},
		{"item type", `{"a":"x","c":[1.5]}`, false},
		{"unknown property", `{"a":"x","d":1}`, false},
		{"not an object", `[]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tt.json), &v); err != nil {
				t.Fatal(err)
			}
			errs := chk.check("$", ref, v)
			if (len(errs) == 0) != tt.ok {
				t.Errorf("errors %v, want ok=%v", errs, tt.ok)
			}
		})
	}
}

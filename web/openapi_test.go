package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	OpenAPI  string                `json:"openapi"`
	Security []map[string][]string `json:"security"`
	Paths    map[string]map[string]struct {
		Parameters []struct {
			Name     string `json:"name"`
			In       string `json:"in"`
			Required bool   `json:"required"`
		} `json:"parameters"`
		Security    []map[string][]string `json:"security"`
		RequestBody *struct {
			Content map[string]struct {
				Schema map[string]any `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
		Responses map[string]openAPIResponse `json:"responses"`
	} `json:"paths"`
	Components struct {
		Schemas         map[string]any             `json:"schemas"`
		Responses       map[string]openAPIResponse `json:"responses"`
		SecuritySchemes map[string]struct {
			Type   string `json:"type"`
			Scheme string `json:"scheme"`
			In     string `json:"in"`
			Name   string `json:"name"`
		} `json:"securitySchemes"`
	} `json:"components"`
}

type openAPIResponse struct {
	Ref     string         `json:"$ref"`
	Headers map[string]any `json:"headers"`
	Content map[string]struct {
		Schema map[string]any `json:"schema"`
	} `json:"content"`
}

// response returns the documented response of method on route for status,
// with a $ref to components/responses resolved.
func (doc openAPIDocument) response(route, method string, status int) (openAPIResponse, bool) {
	r, ok := doc.Paths[route][method].Responses[strconv.Itoa(status)]
	if !ok {
		return r, false
	}
	if r.Ref != "" {
		r, ok = doc.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
	}
	return r, ok
}

// checkResponse checks that the status and content type of an answer are
// documented for method on route and that its JSON body fits the schema.
func (doc openAPIDocument) checkResponse(t *testing.T, route, method string, status int, header http.Header, body string) {
	t.Helper()
	resp, ok := doc.response(route, method, status)
	if !ok {
		t.Fatalf("status %d of %s %s is not documented", status, strings.ToUpper(method), route)
	}
	for name := range resp.Headers {
		if header.Get(name) == "" {
			t.Errorf("%s %s %d: documented header %s missing", strings.ToUpper(method), route, status, name)
		}
	}
	ct, _, _ := strings.Cut(header.Get("Content-Type"), ";")
	media, ok := resp.Content[ct]
	if !ok {
		t.Fatalf("content type %s of %s %s %d is not documented", ct, strings.ToUpper(method), route, status)
	}
	if ct == "text/html" {
		return
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	for _, e := range (schemaChecker{schemas: doc.Components.Schemas}).check("$", media.Schema, v) {
		t.Error(e)
	}
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
	pathArgs := map[string]string{"id": "a1b2c3", "country": "PL"}
	// Every API route the server has must be documented.
	for _, route := range []string{"/api/search", "/api/articles/{id}", "/api/sources", "/api/events", "/api/events/{country}", "/api/saved", "/api/export", "/api/openapi.json",
		"/api/admin/sources/{id}/fetch", "/api/admin/rules/test", "/api/admin/reclassify", "/api/admin/alerts/{rule}/test"} {
		if _, ok := doc.Paths[route]; !ok {
			t.Errorf("%s is not in the OpenAPI document", route)
		}
	}
	call := func(t *testing.T, route, target string, wantStatus int) {
		r := ts.get(t, target)
		if r.status != wantStatus {
			t.Fatalf("GET %s: status %d, want %d: %s", target, r.status, wantStatus, r.body)
		}
		doc.checkResponse(t, route, "get", r.status, r.header, r.body)
	}
	for route, ops := range doc.Paths {
		if strings.HasPrefix(route, "/api/admin/") || route == "/login" {
			continue // TestOpenAPIAccess calls them, with credentials
		}
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

// TestOpenAPIAccess calls, with logins on, every admin route as an admin
// (documented answers and bodies), as a viewer (403) and anonymously (401),
// every read route anonymously (401), and the login form until it is rate
// limited (429): each answer must be documented, with its headers.
func TestOpenAPIAccess(t *testing.T) {
	a := newAuthServer(t, true, nil)
	var doc openAPIDocument
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	for name, want := range map[string]string{"bearerAuth": "http/bearer", "basicAuth": "http/basic", "sessionCookie": "apiKey/cookie"} {
		s, ok := doc.Components.SecuritySchemes[name]
		if got := s.Type + "/" + s.Scheme + s.In; !ok || got != want {
			t.Errorf("security scheme %s = %q, want %s", name, got, want)
		}
	}
	if s, ok := doc.Components.SecuritySchemes["sessionCookie"]; ok && s.Name != sessionCookie {
		t.Errorf("sessionCookie scheme names cookie %q, the server uses %q", s.Name, sessionCookie)
	}
	if len(doc.Security) == 0 {
		t.Error("the document requires no security")
	}

	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	viewer := map[string]string{"Authorization": "Bearer " + viewerToken}
	jsonBody := map[string]string{"Content-Type": "application/json"}
	with := func(a, b map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name, method, route, target, body string
		hdr                               map[string]string
		status                            int
	}{
		{"fetch", "post", "/api/admin/sources/{id}/fetch", "/api/admin/sources/gn-pl/fetch", "", admin, 200},
		{"fetch unknown", "post", "/api/admin/sources/{id}/fetch", "/api/admin/sources/nope/fetch", "", admin, 404},
		{"rule test", "post", "/api/admin/rules/test", "/api/admin/rules/test", `{"query":"Ottawa","title":"t","text":"Ottawa treaty"}`, with(admin, jsonBody), 200},
		{"rule test bad query", "post", "/api/admin/rules/test", "/api/admin/rules/test", `{"query":"((","text":"x"}`, with(admin, jsonBody), 400},
		{"rule test no text", "post", "/api/admin/rules/test", "/api/admin/rules/test", `{"query":"x"}`, with(admin, jsonBody), 400},
		{"reclassify status", "get", "/api/admin/reclassify", "/api/admin/reclassify", "", admin, 200},
		{"reclassify", "post", "/api/admin/reclassify", "/api/admin/reclassify?all=true", "", admin, 202},
		{"alert test", "post", "/api/admin/alerts/{rule}/test", "/api/admin/alerts/baltic/test?channel=webhook", "", admin, 200},
		{"alert test unknown rule", "post", "/api/admin/alerts/{rule}/test", "/api/admin/alerts/nope/test", "", admin, 404},
		{"viewer refused", "post", "/api/admin/reclassify", "/api/admin/reclassify", "", viewer, 403},
		{"viewer refused status", "get", "/api/admin/reclassify", "/api/admin/reclassify", "", viewer, 403},
		{"bad token", "post", "/api/admin/sources/{id}/fetch", "/api/admin/sources/gn-pl/fetch", "", map[string]string{"Authorization": "Bearer wrong"}, 401},
	}
	// Every route, admin or not, answers 401 without a credential.
	for route, ops := range doc.Paths {
		if route == "/login" {
			continue
		}
		for method := range ops {
			target := strings.NewReplacer("{id}", "a1b2c3", "{country}", "PL", "{rule}", "baltic").Replace(route)
			tests = append(tests, struct {
				name, method, route, target, body string
				hdr                               map[string]string
				status                            int
			}{"anonymous " + method + " " + route, method, route, target, "", nil, 401})
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := a.do(strings.ToUpper(tc.method), tc.target, tc.body, nil, tc.hdr)
			if rec.Code != tc.status {
				t.Fatalf("%s %s: %d, want %d\n%s", strings.ToUpper(tc.method), tc.target, rec.Code, tc.status, rec.Body)
			}
			doc.checkResponse(t, tc.route, tc.method, rec.Code, rec.Header(), rec.Body.String())
		})
	}
	for route, ops := range doc.Paths {
		for method, op := range ops {
			if strings.HasPrefix(route, "/api/admin/") {
				if _, ok := op.Responses["403"]; !ok {
					t.Errorf("%s %s does not document 403 for viewers", method, route)
				}
				if len(op.Security) == 0 || slices.ContainsFunc(op.Security, func(m map[string][]string) bool { return len(m) == 0 }) {
					t.Errorf("%s %s must require a credential (no anonymous {} alternative)", method, route)
				}
			}
		}
	}

	t.Run("login rate limit", func(t *testing.T) {
		b := newAuthServer(t, true, nil)
		var rec *httptest.ResponseRecorder
		for range loginBurst + 1 {
			rec = b.tryLogin(t, "vera", "wrong")
			if rec.Code != http.StatusUnauthorized {
				break
			}
			doc.checkResponse(t, "/login", "post", rec.Code, rec.Header(), rec.Body.String())
		}
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("after %d failures: %d, want 429", loginBurst+1, rec.Code)
		}
		doc.checkResponse(t, "/login", "post", rec.Code, rec.Header(), rec.Body.String())
		if ok := b.tryLogin(t, "vera", "wrong"); ok.Code != http.StatusTooManyRequests {
			t.Errorf("still limited: %d", ok.Code)
		}
	})
}

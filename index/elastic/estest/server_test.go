package estest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// call sends one request and decodes the JSON answer.
func call(t *testing.T, s *Server, method, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Errorf("%s %s: no X-Elastic-Product header", method, path)
	}
	data, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return res.StatusCode, out
}

const ndjson = "application/x-ndjson"

func TestServer(t *testing.T) {
	s := New(t, Options{})
	call(t, s, "PUT", "/_index_template/t", "application/json",
		`{"index_patterns":["docs-*"],"template":{"mappings":{"properties":{"title":{"type":"text"},"n":{"type":"integer"},"when":{"type":"date"}}}}}`)
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		check                           func(t *testing.T, out map[string]any)
	}{
		{"info", "GET", "/", "", "", 200, func(t *testing.T, out map[string]any) {
			if v, _ := out["version"].(map[string]any); v["number"] != "8.19.7" {
				t.Errorf("version %v", out["version"])
			}
		}},
		{"create index", "PUT", "/docs-1", "application/json", `{"aliases":{"docs":{"is_write_index":true}}}`, 200, nil},
		{"create again", "PUT", "/docs-1", "application/json", `{}`, 400, func(t *testing.T, out map[string]any) {
			if e, _ := out["error"].(map[string]any); e["type"] != "resource_already_exists_exception" {
				t.Errorf("error %v", out["error"])
			}
		}},
		{"bulk", "POST", "/_bulk", ndjson, `{"index":{"_index":"docs","_id":"1"}}` + "\n" + `{"title":"Ottawa Convention","n":1}` + "\n" +
			`{"create":{"_index":"docs","_id":"1"}}` + "\n" + `{"title":"again"}` + "\n", 200, func(t *testing.T, out map[string]any) {
			items, _ := out["items"].([]any)
			if out["errors"] != true || len(items) != 2 {
				t.Fatalf("bulk answer %v", out)
			}
			first := items[0].(map[string]any)["index"].(map[string]any)
			second := items[1].(map[string]any)["create"].(map[string]any)
			if first["status"] != 201.0 || first["result"] != "created" || first["_index"] != "docs-1" {
				t.Errorf("first item %v", first)
			}
			if e, _ := second["error"].(map[string]any); second["status"] != 409.0 || e["type"] != "version_conflict_engine_exception" {
				t.Errorf("second item %v", second)
			}
		}},
		{"bulk without final newline", "POST", "/_bulk", ndjson, `{"index":{"_index":"docs","_id":"2"}}` + "\n" + `{}`, 400, nil},
		{"create conflict", "PUT", "/docs/_create/1", "application/json", `{"title":"x"}`, 409, nil},
		{"search phrase", "POST", "/docs/_search", "application/json",
			`{"query":{"match_phrase":{"title":{"query":"ottawa convention"}}},"highlight":{"pre_tags":["["],"post_tags":["]"],"fields":{"title":{}}}}`, 200,
			func(t *testing.T, out map[string]any) {
				hits := out["hits"].(map[string]any)["hits"].([]any)
				if len(hits) != 1 {
					t.Fatalf("hits %v", hits)
				}
				hl := hits[0].(map[string]any)["highlight"].(map[string]any)["title"].([]any)
				if hl[0] != "[Ottawa] [Convention]" {
					t.Errorf("highlight %v", hl)
				}
			}},
		{"unknown query", "POST", "/docs/_search", "application/json", `{"query":{"fuzzy":{"title":"x"}}}`, 400, nil},
		{"missing index", "POST", "/nope/_search", "application/json", `{}`, 404, nil},
		{"sort on _id refused", "POST", "/docs/_search", "application/json", `{"sort":[{"_id":"asc"}]}`, 400, nil},
		{"count", "GET", "/docs/_count", "", "", 200, func(t *testing.T, out map[string]any) {
			if out["count"] != 1.0 {
				t.Errorf("count %v", out["count"])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, out := call(t, s, tc.method, tc.path, tc.ctype, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, out)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
	// A source field outside the mappings and a malformed bulk are violations.
	call(t, s, "POST", "/_bulk", ndjson, `{"index":{"_index":"docs","_id":"3"}}`+"\n"+`{"surprise":true}`+"\n")
	v := s.Violations()
	if len(v) != 2 || !strings.Contains(v[0], "newline") || !strings.Contains(v[1], `"surprise"`) {
		t.Errorf("violations %q", v)
	}
	if n := len(s.Requests()); n < len(tests) {
		t.Errorf("%d requests recorded", n)
	}
}

// FuzzBulk: any body to _bulk gets an answer, never a crash.
func FuzzBulk(f *testing.F) {
	f.Add(`{"index":{"_index":"d","_id":"1"}}` + "\n" + `{"a":1}` + "\n")
	f.Add(`{"delete":{"_index":"d","_id":"1"}}` + "\n")
	f.Add("\n\n")
	f.Add(`{"index":{}}` + "\n")
	s := New(f, Options{})
	f.Fuzz(func(t *testing.T, body string) {
		s.mu.Lock()
		status, _ := s.route("POST", []string{"_bulk"}, nil, []byte(body))
		s.mu.Unlock()
		if status != 200 && status != 400 {
			t.Fatalf("status %d", status)
		}
	})
}

package main

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestSearchSmall runs the search benchmark on a small index: every scenario
// must report a row, the second run must reuse the index, and every request
// must have succeeded (a failed request fails the benchmark).
func TestSearchSmall(t *testing.T) {
	dir := t.TempDir()
	for run, wantFirst := range []string{"indexed 400 articles", "reusing the index of 400 articles"} {
		var out bytes.Buffer
		if err := benchSearch(t.Context(), []string{"-docs", "400", "-requests", "30", "-c", "3", "-dir", dir}, &out); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		report := out.String()
		t.Log("\n" + report)
		if !strings.Contains(report, wantFirst) {
			t.Errorf("run %d: report lacks %q", run, wantFirst)
		}
		for _, sc := range benchScenarios() {
			row := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(sc.name) + `\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+ms\s+\d+\s+[\d.]+ms\s+(met|NOT met)$`)
			if !row.MatchString(report) {
				t.Errorf("run %d: no result row for %q", run, sc.name)
			}
		}
		if !strings.Contains(report, "3 concurrent clients") {
			t.Errorf("run %d: concurrency not stated", run)
		}
	}
}

// TestSearchScenarios checks that the scenarios send what they are named
// for: the date scenarios a date filter and their sort, the first the topic.
func TestSearchScenarios(t *testing.T) {
	tests := []struct {
		name               string
		wantTopic, wantDay bool
		wantSort           string
	}{
		{"query+country+topic+facets, relevance", true, false, ""},
		{"query+country+date+facets, relevance", false, true, "relevance"},
		{"query+country+date+facets, date", false, true, "date"},
	}
	scenarios := map[string]searchScenario{}
	for _, sc := range benchScenarios() {
		scenarios[sc.name] = sc
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, ok := scenarios[tt.name]
			if !ok {
				t.Fatalf("no scenario %q", tt.name)
			}
			distinct := map[string]bool{}
			for i := range 40 {
				v := sc.values(i)
				distinct[v.Encode()] = true
				if v.Get("q") == "" || v.Get("country") == "" {
					t.Errorf("request %d: %v lacks a query or a country", i, v)
				}
				if got := v.Get("topic") != ""; got != tt.wantTopic {
					t.Errorf("request %d: topic %q", i, v.Get("topic"))
				}
				if got := hasDate(v); got != tt.wantDay {
					t.Errorf("request %d: date filter %v in %v", i, got, v)
				}
				if v.Get("sort") != tt.wantSort {
					t.Errorf("request %d: sort %q, want %q", i, v.Get("sort"), tt.wantSort)
				}
			}
			if len(distinct) != len(benchQueries)*len(benchCountryFilters) {
				t.Errorf("%d distinct requests, want %d", len(distinct), len(benchQueries)*len(benchCountryFilters))
			}
		})
	}
}

func hasDate(v url.Values) bool {
	return v.Get("preset") != "" || v.Get("since") != "" || v.Get("until") != ""
}

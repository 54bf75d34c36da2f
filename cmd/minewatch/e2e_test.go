package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/demo"
	"github.com/minewatch/minewatch/index/elastic/estest"
	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/news"
)

type apiResult struct {
	ID           string            `json:"id"`
	URL          string            `json:"url"`
	CanonicalURL string            `json:"canonical_url"`
	Title        string            `json:"title"`
	Topics       []news.TopicScore `json:"topics"`
	Entities     []news.Entity     `json:"entities"`
	Snippet      []struct {
		Text  string `json:"text"`
		Match bool   `json:"match"`
	} `json:"snippet"`
}

type apiResponse struct {
	Total   int         `json:"total"`
	Results []apiResult `json:"results"`
}

// TestEndToEnd serves the demo site on 127.0.0.1, runs one fetch cycle into a
// temporary embedded index, and checks what the search API returns: topics,
// countries, actions and highlights.
func TestEndToEnd(t *testing.T) {
	cfg := config.Default()
	cfg.Index.Dir = t.TempDir()
	endToEnd(t, cfg)
}

// TestEndToEndElasticsearch runs the same pipeline and the same checks with
// Elasticsearch as the index: against ELASTICSEARCH_URL when it is set, else
// against the recorded-behaviour server (index/elastic/estest).
func TestEndToEndElasticsearch(t *testing.T) {
	cfg := config.Default()
	cfg.Index.Backend = config.BackendElasticsearch
	cfg.Index.Elasticsearch.IndexPrefix = fmt.Sprintf("minewatch-e2e-%d", time.Now().UnixNano())
	if u := os.Getenv("ELASTICSEARCH_URL"); u != "" {
		cfg.Index.Elasticsearch.URLs = []string{u}
	} else {
		cfg.Index.Elasticsearch.URLs = []string{estest.New(t, estest.Options{}).URL}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := openElastic(t.Context(), cfg, log, os.Getenv, true) // what `minewatch index init` does
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if os.Getenv("ELASTICSEARCH_URL") != "" {
			_ = st.DeleteAll(context.Background())
		}
		st.Close()
	})
	endToEnd(t, cfg)
}

func endToEnd(t *testing.T, cfg *config.Config) {
	site := httptest.NewServer(demo.Handler())
	defer site.Close()
	cfg.Fetch.AllowPrivate = []string{"127.0.0.0/8"}
	cfg.Fetch.PerHostDelay = config.Duration{Duration: -1}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := build(t.Context(), cfg, log, buildOptions{sources: demo.Sources(site.URL), withMonitor: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	outs, err := a.monitor.RunOnce(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil {
			t.Errorf("source %s failed: %v", o.SourceID, o.Err)
		}
		for _, ie := range o.ItemErrors {
			// The demo's listing links one page robots.txt forbids; only that may fail.
			if fetch.Class(ie) != "robots" {
				t.Errorf("source %s item: %v", o.SourceID, ie)
			}
		}
	}

	h, err := a.webServer()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	search := func(params url.Values) apiResponse {
		t.Helper()
		resp, err := http.Get(srv.URL + "/api/search?" + params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(resp.Body)
			t.Fatalf("GET /api/search?%s: %s %s", params.Encode(), resp.Status, body)
		}
		var r apiResponse
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}

	// Every demo article is indexed once, relevant or not.
	all := search(url.Values{"relevant": {"false"}, "limit": {"200"}})
	byPath := map[string]apiResult{}
	for _, r := range all.Results {
		u, err := url.Parse(r.CanonicalURL)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := byPath[u.Path]; dup {
			t.Errorf("%s indexed twice", u.Path)
		}
		byPath[u.Path] = r
	}

	var agree, total, wantEnt, gotEnt int
	for _, exp := range demo.Expected() {
		r, ok := byPath[exp.Path]
		if !ok {
			t.Errorf("%s: not in the index", exp.Path)
			continue
		}
		total++
		if (len(r.Topics) > 0) == exp.Relevant {
			agree++
		} else {
			t.Logf("%s: relevant=%v, want %v (%q)", exp.Path, len(r.Topics) > 0, exp.Relevant, r.Title)
		}
		for _, e := range exp.Entities {
			wantEnt++
			found := false
			for _, g := range r.Entities {
				if g.Country == e.Country && g.Action == e.Action && g.Treaty == e.Treaty {
					found = true
					if g.Evidence == "" {
						t.Errorf("%s: entity %s/%s has no evidence sentence", exp.Path, g.Country, g.Action)
					}
				}
			}
			if found {
				gotEnt++
			} else {
				t.Logf("%s: missing entity %s %s %s; got %+v", exp.Path, e.Country, e.Action, e.Treaty, r.Entities)
			}
		}
	}
	if total == 0 {
		t.Fatal("demo.Expected() is empty")
	}
	if acc := float64(agree) / float64(total); acc < 0.9 {
		t.Errorf("relevance agrees on %d of %d demo articles (%.2f), want ≥ 0.90", agree, total, acc)
	}
	if rec := float64(gotEnt) / float64(max(wantEnt, 1)); rec < 0.7 {
		t.Errorf("found %d of %d expected (country, action, treaty) entities (%.2f), want ≥ 0.70", gotEnt, wantEnt, rec)
	}

	// The withdrawal stories are found by query, with their country and action,
	// and the snippet highlights the matched word.
	lt := search(url.Values{"q": {"withdraw* OR pasitrauk* OR denounc*"}, "country": {"LT"}})
	if lt.Total == 0 {
		t.Fatal("no Lithuanian withdrawal story found")
	}
	r := lt.Results[0]
	hasLT := false
	for _, e := range r.Entities {
		hasLT = hasLT || (e.Country == "LT" && strings.HasPrefix(string(e.Action), "withdraw_"))
	}
	if !hasLT {
		t.Errorf("top LT result %q has entities %+v, want an LT withdraw_* entity", r.Title, r.Entities)
	}
	marked := false
	for _, f := range r.Snippet {
		marked = marked || f.Match
	}
	if !marked {
		t.Errorf("snippet of %q highlights nothing: %+v", r.Title, r.Snippet)
	}

	// Topic filter and facets agree with the entities.
	wd := search(url.Values{"topic": {news.TopicTreatyWithdrawal}, "limit": {"100"}})
	if wd.Total < 5 {
		t.Errorf("treaty_withdrawal has %d articles, want the demo's withdrawal stories (≥ 5)", wd.Total)
	}
	for _, r := range wd.Results {
		if !hasTopic(r.Topics, news.TopicTreatyWithdrawal) {
			t.Errorf("%q in topic filter results without the topic: %v", r.Title, r.Topics)
		}
	}

	// A second cycle finds nothing new: conditional GET and known URLs.
	outs, err = a.monitor.RunOnce(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil || o.New != 0 {
			t.Errorf("second cycle, source %s: new=%d err=%v; want nothing new", o.SourceID, o.New, o.Err)
		}
	}
	again := search(url.Values{"relevant": {"false"}, "limit": {"200"}})
	if again.Total != all.Total {
		t.Errorf("after a second cycle the index has %d articles, want %d (no duplicates)", again.Total, all.Total)
	}
}

func hasTopic(list []news.TopicScore, topic string) bool {
	for _, x := range list {
		if x.Topic == topic {
			return true
		}
	}
	return false
}

package monitor

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/news"
)

func TestInterleaveHosts(t *testing.T) {
	src := func(id, u string) news.Source { return news.Source{ID: id, URL: u} }
	tests := []struct {
		name string
		in   []news.Source
		want string
	}{
		{"empty", nil, ""},
		{"one host keeps its order", []news.Source{src("a1", "http://a/1"), src("a2", "http://a/2")}, "a1 a2"},
		{"grouped outlets are interleaved", []news.Source{
			src("a1", "http://a/1"), src("a2", "http://a/2"), src("a3", "http://a/3"),
			src("b1", "http://B/1"), src("b2", "http://b/2"), src("c1", "https://c/1"),
		}, "a1 b1 c1 a2 b2 a3"},
		{"host includes the port", []news.Source{
			src("x1", "http://x:8080/1"), src("x2", "http://x:8080/2"), src("y1", "http://x:9090/1"),
		}, "x1 y1 x2"},
		{"unparsable URLs share a group", []news.Source{
			src("bad1", "http://[::1"), src("bad2", "%zz"), src("ok", "http://ok/"),
		}, "bad1 ok bad2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := interleaveHosts(len(tt.in), func(i int) string { return tt.in[i].URL })
			var ids []string
			for _, i := range got {
				ids = append(ids, tt.in[i].ID)
			}
			if strings.Join(ids, " ") != tt.want {
				t.Errorf("order %q, want %q", strings.Join(ids, " "), tt.want)
			}
		})
	}
}

// orderCollector records the order sources are collected in.
type orderCollector struct {
	mu  sync.Mutex
	ids []string
}

func (c *orderCollector) Collect(_ context.Context, src news.Source, _ news.SourceState, _ index.URLChecker) (ingest.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = append(c.ids, src.ID)
	return ingest.Result{NotModified: true}, nil
}

func TestRunOnceInterleavesHostsAndFollowsRedirects(t *testing.T) {
	st := newMemStore()
	// b2 was permanently redirected to host c: it goes with host c now.
	st.states["b2"] = news.SourceState{SourceID: "b2", URL: "http://c/moved"}
	srcs := []news.Source{
		{ID: "a1", URL: "http://a/1", Schedule: "@every 15m"},
		{ID: "a2", URL: "http://a/2", Schedule: "@every 15m"},
		{ID: "b1", URL: "http://b/1", Schedule: "@every 15m"},
		{ID: "b2", URL: "http://b/2", Schedule: "@every 15m"},
		{ID: "c1", URL: "http://c/1", Schedule: "@every 15m"},
	}
	col := &orderCollector{}
	mon, err := New(Options{Sources: srcs, Collector: col, Classifier: keywordClassifier{}, Store: st, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := mon.RunOnce(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(col.ids, " "), "a1 b1 b2 a2 c1"; got != want {
		t.Errorf("collected in order %q, want %q", got, want)
	}
	// The outcomes stay in the order of the sources asked for.
	for i, o := range outs {
		if o.SourceID != srcs[i].ID {
			t.Errorf("outcome %d is %s, want %s", i, o.SourceID, srcs[i].ID)
		}
	}
}

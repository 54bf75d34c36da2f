package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/minewatch/minewatch/ingest/feed"
)

// TestFeedFarmSmall runs both cycles over a tiny farm: the steady cycle must
// be answered mostly by 304s and must not index any article twice.
func TestFeedFarmSmall(t *testing.T) {
	var out bytes.Buffer
	args := []string{"-feeds", "20", "-items", "5", "-hosts", "4", "-steady-changed", "0.25",
		"-farm", "inprocess", "-per-host-delay", "-1ns", "-dir", t.TempDir()}
	if err := benchFeedFarm(t.Context(), args, &out); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	t.Log("\n" + report)

	rows := map[string][]int{}
	rowRe := regexp.MustCompile(`(?m)^\s*((?:first|steady) cycle, (?:bare loop|pipeline))\s+\S+\s+\S+\s+\S+ MB\*?\s+\S+ MB\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$`)
	for _, m := range rowRe.FindAllStringSubmatch(report, -1) {
		var nums []int
		for _, s := range m[2:] {
			n, _ := strconv.Atoi(s)
			nums = append(nums, n)
		}
		rows[m[1]] = nums // 200, 304, articles/items, errors
	}
	if len(rows) != 4 {
		t.Fatalf("want 4 phase rows, got %d:\n%s", len(rows), report)
	}
	changed := farmChanged(20, 0.25)
	tests := []struct {
		phase                      string
		ok, notModified, art, errs int
	}{
		{"first cycle, bare loop", 20, 0, 100, 0},
		{"first cycle, pipeline", 20, 0, 100, 0},
		{"steady cycle, bare loop", changed, 20 - changed, changed * 5, 0},
		{"steady cycle, pipeline", changed, 20 - changed, changed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.phase, func(t *testing.T) {
			got := rows[tt.phase]
			want := []int{tt.ok, tt.notModified, tt.art, tt.errs}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("200/304/articles/errors = %v, want %v", got, want)
				}
			}
		})
	}
	if changed == 0 || changed == 20 {
		t.Fatalf("the farm changed %d of 20 feeds; the test needs some of each", changed)
	}
	// Every article once: 100 from the first cycle, one more per changed feed.
	if want := fmt.Sprintf("index after both cycles: %d documents", 100+changed); !strings.Contains(report, want) {
		t.Errorf("report lacks %q (duplicate or lost articles)", want)
	}
}

// farmChanged counts the feeds the farm changes in cycle 1.
func farmChanged(feeds int, share float64) int {
	f := &farm{opts: farmOptions{feeds: feeds, items: 1, hosts: 1, changed: share}}
	f.cycle.Store(1)
	n := 0
	for id := range feeds {
		n += f.version(id)
	}
	return n
}

func TestFarmServesValidFeedsAndValidators(t *testing.T) {
	f, stop, err := startFarm(t.Context(), farmOptions{feeds: 3, items: 4, hosts: 2, changed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	get := func(url string, h http.Header) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	u := f.feedURL(1)
	if !strings.Contains(u, "127.0.0.2:") {
		t.Errorf("feed 1 of 2 hosts at %s, want host 127.0.0.2", u)
	}
	first := get(u, nil)
	body, _ := io.ReadAll(first.Body)
	parsed, err := feed.Parse(body, u)
	if err != nil {
		t.Fatalf("farm feed does not parse: %v\n%s", err, body)
	}
	if len(parsed.Items) != 4 {
		t.Errorf("items = %d, want 4", len(parsed.Items))
	}
	etag, lm := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	tests := []struct {
		name   string
		cycle  int64
		header http.Header
		want   int
	}{
		{"etag matches", 0, http.Header{"If-None-Match": {etag}}, http.StatusNotModified},
		{"last-modified matches", 0, http.Header{"If-Modified-Since": {lm}}, http.StatusNotModified},
		{"no validators", 0, nil, http.StatusOK},
		{"etag stale after a change", 1, http.Header{"If-None-Match": {etag}}, http.StatusOK},
		{"last-modified stale after a change", 1, http.Header{"If-Modified-Since": {lm}}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.cycle.Store(tt.cycle)
			if got := get(u, tt.header).StatusCode; got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
	if got := get(fmt.Sprintf("http://%s:%d/robots.txt", hostAddr(0), f.port), nil).StatusCode; got != http.StatusOK {
		t.Errorf("robots.txt status = %d", got)
	}
}

func TestWriteFeedShiftsOneItem(t *testing.T) {
	links := func(v int) []string {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		writeFeed(w, "h", 7, v, 3)
		w.Flush()
		f, err := feed.Parse(b.Bytes(), "http://h/feed/7")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range f.Items {
			out = append(out, it.URL)
		}
		return out
	}
	v0, v1 := links(0), links(1)
	if len(v0) != 3 || len(v1) != 3 {
		t.Fatalf("items %d and %d, want 3", len(v0), len(v1))
	}
	if v1[0] != "http://h/a/7/3" || v1[1] != v0[0] || v1[2] != v0[1] {
		t.Errorf("version 1 should add one item on top: %v then %v", v0, v1)
	}
}

func BenchmarkFarmFeed(b *testing.B) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	for b.Loop() {
		buf.Reset()
		writeFeed(w, "127.0.0.1:1", 42, 1, 20)
		w.Flush()
	}
}

package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestLoadSmall runs the load benchmark tiny, server and farm in this
// process: no request may fail, and the server must have ingested the
// farm's whole first cycle (-min-cycles 1) while it served.
func TestLoadSmall(t *testing.T) {
	var out bytes.Buffer
	args := []string{"-docs", "300", "-clients", "4", "-duration", "1s", "-feeds", "6", "-items", "3", "-hosts", "2",
		"-farm", "inprocess", "-server", "inprocess", "-per-host-delay", "-1ns", "-min-cycles", "1", "-dir", t.TempDir()}
	if err := benchLoad(t.Context(), args, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	report := out.String()
	t.Log("\n" + report)

	total := regexp.MustCompile(`(?m)^\| (\d+) \| [\d.]+ \| [^|]+ \| [^|]+ \| [^|]+ \| (\d+) \|$`).FindStringSubmatch(report)
	if total == nil {
		t.Fatalf("no totals row:\n%s", report)
	}
	if n, _ := strconv.Atoi(total[1]); n == 0 {
		t.Error("no request was made")
	}
	if total[2] != "0" {
		t.Errorf("%s failed requests, want 0", total[2])
	}
	ing := regexp.MustCompile(`(\d+) articles ingested in (\d+) fetch cycle\(s\), (\d+) source errors`).FindStringSubmatch(report)
	if ing == nil {
		t.Fatalf("no ingest line:\n%s", report)
	}
	if n, _ := strconv.Atoi(ing[1]); n < 6*3 {
		t.Errorf("%s articles ingested, want at least the first cycle's 18", ing[1])
	}
	if ing[3] != "0" {
		t.Errorf("%s source errors, want 0", ing[3])
	}
	for _, k := range loadKinds {
		if !strings.Contains(report, "| "+k.name+" | ") {
			t.Errorf("no row for %q", k.name)
		}
	}
}

func TestLoadRejectsBadFlags(t *testing.T) {
	tests := map[string][]string{
		"no clients":     {"-clients", "0"},
		"no duration":    {"-duration", "0s"},
		"unknown server": {"-server", "cloud", "-docs", "1"},
		"serve alone":    {"-serve"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			if err := benchLoad(t.Context(), args, io.Discard); err == nil {
				t.Errorf("benchLoad(%v) succeeded", args)
			}
		})
	}
}

// TestLoadMix checks the request mix: every kind is drawn, in roughly its
// share, and each targets the right endpoint.
func TestLoadMix(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 20000
	counts := make([]int, len(loadKinds))
	prefixes := []string{"/api/search?", "/api/search?", "/api/search?", "/api/articles/", "/articles/", "/?"}
	for range n {
		k, u := loadTarget(r, "http://h", 1000)
		counts[k]++
		if !strings.HasPrefix(u, "http://h"+prefixes[k]) {
			t.Fatalf("kind %q targets %s", loadKinds[k].name, u)
		}
		if k == 1 && !strings.Contains(u, "sort=date") || k == 2 && strings.Contains(u, "q=") {
			t.Fatalf("kind %q targets %s", loadKinds[k].name, u)
		}
	}
	for k, lk := range loadKinds {
		t.Run(lk.name, func(t *testing.T) {
			want := n * lk.share / 100
			if d := counts[k] - want; d < -want/5 || d > want/5 {
				t.Errorf("%d of %d requests, want about %d", counts[k], n, want)
			}
		})
	}
}

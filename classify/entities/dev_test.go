package entities

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// sharedDir finds ../shared beside the repository root, or skips.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the package directory")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(filepath.Join(shared, "eval", "dev.jsonl")); err != nil {
		t.Skipf("shared eval set not found at %s (it lives beside the repository): %v", shared, err)
	}
	return shared
}

type devItem struct {
	ID       string   `json:"id"`
	Language string   `json:"language"`
	Title    string   `json:"title"`
	Text     string   `json:"text"`
	Relevant bool     `json:"relevant"`
	Topics   []string `json:"topics"`
	Entities []struct {
		Country string `json:"country"`
		Action  string `json:"action"`
		Treaty  string `json:"treaty"`
	} `json:"entities"`
}

func readDev(t testing.TB) []devItem {
	f, err := os.Open(filepath.Join(sharedDir(t), "eval", "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var items []devItem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var it devItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("dev.jsonl: %v", err)
		}
		items = append(items, it)
	}
	return items
}

// TestDevSetWithGoldTopics measures the extractor alone: it gets the labelled
// topics, so its errors are its own and not the rules'.
func TestDevSetWithGoldTopics(t *testing.T) {
	items := readDev(t)
	x, err := New(WithNow(func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }))
	if err != nil {
		t.Fatal(err)
	}
	var tp, fp, fn, tpT, fpT, fnT int
	for _, it := range items {
		gold := map[string]bool{}
		goldT := map[string]bool{}
		for _, e := range it.Entities {
			code, ok := x.CountryCode(e.Country)
			if !ok {
				t.Fatalf("%s: country %q not in the gazetteer", it.ID, e.Country)
			}
			gold[code+"/"+e.Action] = true
			goldT[code+"/"+e.Action+"/"+e.Treaty] = true
		}
		topics := it.Topics
		if topics == nil {
			topics = []string{}
		}
		got := map[string]bool{}
		gotT := map[string]bool{}
		for _, e := range x.Extract(it.Title, it.Text, it.Language, topics) {
			got[e.Country+"/"+string(e.Action)] = true
			gotT[e.Key()] = true
		}
		var miss, extra []string
		for k := range gold {
			if got[k] {
				tp++
			} else {
				fn++
				miss = append(miss, k)
			}
		}
		for k := range got {
			if !gold[k] {
				fp++
				extra = append(extra, k)
			}
		}
		for k := range goldT {
			if gotT[k] {
				tpT++
			} else {
				fnT++
			}
		}
		for k := range gotT {
			if !goldT[k] {
				fpT++
			}
		}
		if len(miss)+len(extra) > 0 && testing.Verbose() {
			sort.Strings(miss)
			sort.Strings(extra)
			t.Logf("%s %s missing %v extra %v", it.ID, it.Language, miss, extra)
		}
	}
	p, r, f1 := prf(tp, fp, fn)
	pt, rt, f1t := prf(tpT, fpT, fnT)
	t.Logf("(country, action): P %.3f R %.3f F1 %.3f (tp %d fp %d fn %d)", p, r, f1, tp, fp, fn)
	t.Logf("(country, action, treaty): P %.3f R %.3f F1 %.3f", pt, rt, f1t)
	if f1 < 0.95 {
		t.Errorf("(country, action) F1 %.3f below the 0.95 floor", f1)
	}
}

func prf(tp, fp, fn int) (p, r, f1 float64) {
	if tp+fp > 0 {
		p = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r = float64(tp) / float64(tp+fn)
	}
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return
}

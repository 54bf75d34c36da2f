package classify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minewatch/minewatch/news"
)

// sharedDir finds ../shared beside the repository root, or skips the test.
func sharedDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("go.mod not found above the package directory")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(shared); err != nil {
		tb.Skipf("shared data directory %s is absent; skipping", shared)
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
}

func loadDev(tb testing.TB) []devItem {
	tb.Helper()
	f, err := os.Open(filepath.Join(sharedDir(tb), "eval", "dev.jsonl"))
	if err != nil {
		tb.Skipf("dev set unavailable: %v", err)
	}
	defer f.Close()
	var items []devItem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var it devItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			tb.Fatalf("dev.jsonl: %v", err)
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return items
}

// loadRules reads testdata/rules.tsv: topic, language ("-" for any) and query,
// tab-separated; it is a realistic multilingual rule set of about 200 rules.
func loadRules(tb testing.TB) Options {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "rules.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	topics := map[string]bool{}
	var opts Options
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			tb.Fatalf("rules.tsv:%d: want topic, language and query", i+1)
		}
		lang := parts[1]
		if lang == "-" {
			lang = ""
		}
		if !topics[parts[0]] {
			topics[parts[0]] = true
			opts.Topics = append(opts.Topics, TopicDef{ID: parts[0]})
		}
		opts.Rules = append(opts.Rules, RuleText{
			ID: fmt.Sprintf("r%03d", i+1), Topic: parts[0], Language: lang, Query: parts[2],
			File: "testdata/rules.tsv", Line: i + 1, Col: len(parts[0]) + len(parts[1]) + 3,
		})
	}
	return opts
}

func TestBenchRulesCompile(t *testing.T) {
	opts := loadRules(t)
	if len(opts.Rules) < 150 {
		t.Fatalf("only %d rules in testdata/rules.tsv", len(opts.Rules))
	}
	if _, err := New(opts); err != nil {
		t.Fatal(err)
	}
}

// TestDevSet runs the benchmark rules over the dev set. The rules are a
// realistic load, not the production rule set, so the bar is modest: they must
// find most relevant items and reject most irrelevant ones.
func TestDevSet(t *testing.T) {
	items := loadDev(t)
	c, err := New(loadRules(t))
	if err != nil {
		t.Fatal(err)
	}
	var tp, fp, fn, tn int
	for _, it := range items {
		got := c.Classify(news.Article{Title: it.Title, Text: it.Text, Language: it.Language})
		switch {
		case got.Relevant && it.Relevant:
			tp++
		case got.Relevant:
			fp++
			t.Logf("false positive %s: %s %v", it.ID, it.Title, got.TopicIDs())
		case it.Relevant:
			fn++
			t.Logf("false negative %s: %s", it.ID, it.Title)
		default:
			tn++
		}
	}
	t.Logf("dev set: tp=%d fp=%d fn=%d tn=%d", tp, fp, fn, tn)
	if tp+fn > 0 && float64(tp)/float64(tp+fn) < 0.6 {
		t.Errorf("recall %d/%d below 0.6", tp, tp+fn)
	}
}

func benchArticles(b *testing.B) ([]news.Article, int64) {
	items := loadDev(b)
	arts := make([]news.Article, len(items))
	var n int64
	for i, it := range items {
		arts[i] = news.Article{Title: it.Title, Text: it.Text, Language: it.Language}
		n += int64(len(it.Title) + len(it.Text))
	}
	return arts, n
}

func BenchmarkClassify(b *testing.B) {
	arts, size := benchArticles(b)
	c, err := New(loadRules(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range arts {
			c.Classify(a)
		}
	}
}

package extract

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// sharedDir finds ../shared next to the repository root (the directory holding
// go.mod), skipping the test when it is absent.
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
			t.Skip("go.mod not found above the package; cannot locate ../shared")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("shared data directory %s is absent: %v", shared, err)
	}
	return shared
}

type benchPage struct {
	id, url string
	html    []byte
	gold    string
}

func loadBenchmark(t testing.TB) []benchPage {
	t.Helper()
	dir := filepath.Join(sharedDir(t), "bench", "scrapinghub-article-extraction-benchmark")
	raw, err := os.ReadFile(filepath.Join(dir, "ground-truth.json"))
	if err != nil {
		t.Skipf("extraction benchmark not available: %v", err)
	}
	var truth map[string]struct {
		ArticleBody string `json:"articleBody"`
		URL         string `json:"url"`
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatalf("ground-truth.json: %v", err)
	}
	var pages []benchPage
	for id, g := range truth {
		f, err := os.Open(filepath.Join(dir, "html", id+".html.gz"))
		if err != nil {
			t.Fatalf("page %s: %v", id, err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("page %s: %v", id, err)
		}
		b, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatalf("page %s: %v", id, err)
		}
		pages = append(pages, benchPage{id: id, url: g.URL, html: b, gold: g.ArticleBody})
	}
	sort.Slice(pages, func(i, j int) bool { return pages[i].id < pages[j].id })
	return pages
}

// The scoring below re-implements the benchmark's evaluate.py: \w+ tokens,
// multisets of 4-token shingles, per-page tp/fp/fn scaled to sum to 1,
// precision and recall averaged over pages, F1 of the two averages.

var wordRe = regexp.MustCompile(`[\p{L}\p{N}_]+`)

func shingles(text string, n int) map[string]int {
	toks := wordRe.FindAllString(text, -1)
	out := map[string]int{}
	for i := 0; i < max(1, len(toks)-n+1); i++ {
		end := min(i+n, len(toks))
		if end <= i {
			break
		}
		out[strings.Join(toks[i:end], "\x00")]++
	}
	return out
}

func shingleMatch(gold, pred string) (tp, fp, fn float64) {
	g, p := shingles(gold, 4), shingles(pred, 4)
	for k, gc := range g {
		pc := p[k]
		tp += float64(min(gc, pc))
		fn += float64(max(0, gc-pc))
	}
	for k, pc := range p {
		fp += float64(max(0, pc-g[k]))
	}
	if s := tp + fp + fn; s > 0 {
		tp, fp, fn = tp/s, fp/s, fn/s
	}
	return tp, fp, fn
}

type prf struct{ tp, fp, fn float64 }

func scores(ms []prf) (precision, recall, f1 float64) {
	var ps, rs []float64
	for _, m := range ms {
		if m.tp+m.fp > 0 {
			switch {
			case m.fp == 0 && m.fn == 0:
				ps = append(ps, 1)
			default:
				ps = append(ps, m.tp/(m.tp+m.fp))
			}
		}
		if m.tp+m.fn > 0 {
			switch {
			case m.fp == 0 && m.fn == 0:
				rs = append(rs, 1)
			default:
				rs = append(rs, m.tp/(m.tp+m.fn))
			}
		}
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	precision, recall = mean(ps), mean(rs)
	return precision, recall, 2 * precision * recall / (precision + recall)
}

func TestShingleScoring(t *testing.T) {
	tests := []struct {
		name, gold, pred string
		wantP, wantR     float64
	}{
		{"exact", "one two three four five", "one two three four five", 1, 1},
		{"empty prediction", "one two three four five", "", 0, 0},
		{"half extra", "a b c d", "a b c d e f g", 0.25, 1},
		{"short texts", "a b", "a b", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, fp, fn := shingleMatch(tt.gold, tt.pred)
			p, r, _ := scores([]prf{{tp, fp, fn}})
			if tt.pred == "" {
				// An empty prediction only counts against recall.
				if r != 0 || tp+fp != 0 {
					t.Errorf("empty: recall %v tp+fp %v", r, tp+fp)
				}
				return
			}
			if abs(p-tt.wantP) > 1e-9 || abs(r-tt.wantR) > 1e-9 {
				t.Errorf("P/R = %v/%v, want %v/%v", p, r, tt.wantP, tt.wantR)
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// f1Floor is a little under the measured F1 (see the package report), so a
// regression in extraction fails the test while noise does not.
const f1Floor = 0.95

func TestExtractionBenchmark(t *testing.T) {
	pages := loadBenchmark(t)
	var ms []prf
	var bytesIn int
	exact := 0
	dateFrom := map[string]int{}
	urlDated, urlAgree := 0, 0
	start := time.Now()
	for _, pg := range pages {
		p, err := Extract(pg.html, pg.url, Options{})
		if err != nil {
			t.Errorf("%s: %v", pg.id, err)
			ms = append(ms, prf{fn: 1})
			continue
		}
		bytesIn += len(pg.html)
		dateFrom[p.PublishedFrom]++
		// Pages whose URL carries a date give a weak ground truth for the
		// other sources: the day should match, give or take a time zone.
		if ud, ok := dateFromURL(pg.url); ok && p.PublishedFrom != "url" && p.PublishedFrom != "" {
			urlDated++
			if d := p.Published.Sub(ud); d > -36*time.Hour && d < 48*time.Hour {
				urlAgree++
			}
		}
		tp, fp, fn := shingleMatch(pg.gold, p.Text)
		ms = append(ms, prf{tp, fp, fn})
		if strings.Join(wordRe.FindAllString(pg.gold, -1), " ") == strings.Join(wordRe.FindAllString(p.Text, -1), " ") {
			exact++
		}
	}
	elapsed := time.Since(start)
	precision, recall, f1 := scores(ms)
	t.Logf("scrapinghub benchmark: %d pages, precision %.3f recall %.3f F1 %.3f accuracy %.3f; %.1f pages/s, %.1f MB/s",
		len(pages), precision, recall, f1, float64(exact)/float64(len(pages)),
		float64(len(pages))/elapsed.Seconds(), float64(bytesIn)/1e6/elapsed.Seconds())
	// The ground truth has no dates, so only coverage can be reported.
	t.Logf("publication date found on %d of %d pages; by source: %v", len(pages)-dateFrom[""], len(pages), dateFrom)
	t.Logf("publication date agrees with the date in the URL on %d of %d pages that have one", urlAgree, urlDated)
	if urlDated > 0 && urlAgree*10 < urlDated*9 {
		t.Errorf("publication date agrees with the URL date on only %d of %d pages", urlAgree, urlDated)
	}
	if f1 < f1Floor {
		t.Errorf("F1 %.3f is below the floor %.3f", f1, f1Floor)
	}
}

func BenchmarkExtract(b *testing.B) {
	pages := loadBenchmark(b)
	var total int
	for _, p := range pages {
		total += len(p.html)
	}
	b.SetBytes(int64(total / len(pages)))
	i := 0
	for b.Loop() {
		pg := pages[i%len(pages)]
		if _, err := Extract(pg.html, pg.url, Options{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

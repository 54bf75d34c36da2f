package classify_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/minewatch/minewatch/classify"
	"github.com/minewatch/minewatch/classify/entities"
	"github.com/minewatch/minewatch/news"
)

// TestMemoryFlat classifies 10,000 articles with the default pack and the
// entity extractor and checks that the live heap does not grow with the count
// (issue #4): pooled buffers and bounded caches must reach a steady state, and
// nothing may keep an article after Classify returns.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("classifies 10,000 articles")
	}
	items := append(readChallenge(t), readEvalItems(t)...)
	c, _ := newEvalClassifier(t)
	classifyN := func(n int) int {
		relevant := 0
		for i := range n {
			it := items[i%len(items)]
			// A fresh copy of the text, as a feed delivers it, so an article
			// kept by mistake shows up as heap growth.
			a := news.Article{Title: it.Title, Text: string([]byte(it.Text)), Language: it.Language}
			if c.Classify(a).Relevant {
				relevant++
			}
		}
		return relevant
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	classifyN(2 * len(items)) // fill the caches of the vocabulary
	before := heap()
	if got := classifyN(10_000); got == 0 {
		t.Fatal("no article was relevant: the test would not exercise the extractor")
	}
	after := heap()
	const limit = 2 << 20
	if after > before && after-before > limit {
		t.Errorf("live heap grew by %d bytes over 10,000 articles (from %d to %d); want under %d", after-before, before, after, limit)
	}
	t.Logf("live heap before %d, after 10,000 articles %d", before, after)
}

// BenchmarkClassifyPerArticle reports allocations and bytes per article
// over growing article counts: flat figures mean an article costs the same
// memory however many went before.
func BenchmarkClassifyPerArticle(b *testing.B) {
	items := append(readChallenge(b), readEvalItems(b)...)
	c, _ := newEvalClassifier(b)
	for _, n := range []int{100, 1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			runs := 0
			for b.Loop() {
				for i := range n {
					it := items[i%len(items)]
					c.Classify(news.Article{Title: it.Title, Text: it.Text, Language: it.Language})
				}
				runs++
			}
			runtime.ReadMemStats(&after)
			articles := float64(runs * n)
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/articles, "allocs/article")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/articles, "B/article")
		})
	}
}

// BenchmarkNewDefaultPack measures compiling the default rule pack, and
// loading the entity extractor's gazetteer and cues (issue #4: under a second).
func BenchmarkNewDefaultPack(b *testing.B) {
	opts := loadRulePack(b)
	b.Run("rules", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := classify.New(opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("entities", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := entities.New(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package disk

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
)

// BenchmarkSearchSorts100k is what the search page sends most: a word
// query, a country, a date window and facets, over 100,000 articles, sorted
// by relevance and by date. Each iteration runs every query once; the
// metrics are per search. Run it only when asked (-bench
// BenchmarkSearchSorts100k); MINEWATCH_BENCH_DIR keeps the filled index.
func BenchmarkSearchSorts100k(b *testing.B) {
	s := benchStore(b, 100000)
	ctx := context.Background()
	// benchDocs spans about five years from 2025-01-01; these windows are
	// the page's presets and a custom quarter, inside it.
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	windows := [][2]time.Time{
		{end.AddDate(0, 0, -30), {}},
		{end.AddDate(0, 0, -7), {}},
		{end.AddDate(0, -3, 0), end},
	}
	texts := []string{`ottawa OR landmine*`, `"anti-personnel mines"`, `withdraw* NEAR/5 convention`, `mines NOT cluster`, `cluster OR ottawa`}
	for _, sort := range []index.Sort{index.SortRelevance, index.SortDate} {
		b.Run(string(sort), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var took, cpu []time.Duration
			i := 0
			for b.Loop() {
				for range len(texts) * len(windows) {
					w := windows[i%len(windows)]
					q := index.Query{Text: texts[i%len(texts)], Countries: []string{benchCountries[i%len(benchCountries)]},
						Since: w[0], Until: w[1], RelevantOnly: true, Facets: true, Sort: sort}
					i++
					start := time.Now()
					cpu0, cpuOK := threadCPU()
					if _, err := s.Search(ctx, q); err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(start))
					if cpu1, ok := threadCPU(); ok && cpuOK {
						cpu = append(cpu, cpu1-cpu0)
					}
				}
			}
			reportPercentiles(b, took, "ms")
			reportPercentiles(b, cpu, "cpu-ms")
		})
	}
}

// reportPercentiles reports the median and the 99th percentile of d in
// milliseconds.
func reportPercentiles(b *testing.B, d []time.Duration, unit string) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	pct := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-"+unit)
	b.ReportMetric(pct(0.99), "p99-"+unit)
}

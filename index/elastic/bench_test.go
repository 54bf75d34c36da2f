package elastic_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/index/elastic"
	"github.com/minewatch/minewatch/index/elastic/estest"
	"github.com/minewatch/minewatch/news"
)

var benchTerms = strings.Fields(`mine mines landmine landmines anti-personnel Ottawa Convention treaty withdrawal
withdraw parliament vote minister defence border Poland Finland Estonia Latvia Lithuania Ukraine Norway
cluster munitions demining clearance funding casualties stockpile production Russia Belarus army`)

// benchDocs generates n realistic documents (a 9-word title, four 60-word
// paragraphs, one topic, one entity), deterministically.
func benchDocs(n int) []news.Document {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		if r.IntN(100) < 8 {
			return benchTerms[r.IntN(len(benchTerms))]
		}
		return fmt.Sprintf("w%x", int(2000*r.Float64()*r.Float64()*r.Float64()))
	}
	words := func(k int) string {
		w := make([]string, k)
		for j := range w {
			w[j] = word()
		}
		return strings.Join(w, " ")
	}
	countries := []string{"PL", "FI", "EE", "LV", "LT", "UA", "NO", "US"}
	langs := []string{"en", "pl", "lt", "lv", "et", "fi", "uk", "de"}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := make([]news.Document, n)
	for i := range docs {
		url := fmt.Sprintf("https://bench.example/%d", i)
		paras := []string{words(60) + ".", words(60) + ".", words(60) + ".", words(60) + "."}
		d := news.Document{Article: news.Article{
			ID: news.ArticleID(url), URL: url, CanonicalURL: url, SourceID: fmt.Sprintf("source-%d", i%40),
			Title: words(9), Text: strings.Join(paras, "\n\n"), Language: langs[i%len(langs)],
			Published: start.Add(time.Duration(i) * 37 * time.Minute), FirstSeen: start.Add(time.Duration(i)*37*time.Minute + time.Minute),
		}}
		d.Classification = news.Classification{Relevant: true, Score: 2,
			Topics: []news.TopicScore{{Topic: news.TopicTreatyWithdrawal, Score: 2}},
			Entities: []news.Entity{{Country: countries[i%len(countries)], Action: news.ActionWithdrawVote, Treaty: news.TreatyOttawa,
				Evidence: paras[0]}}}
		d.StoryID = d.ID
		docs[i] = d
	}
	return docs
}

// batch is the Put size of the benchmark: what one monitor tick of a busy
// source set hands the index.
const batch = 1000

// BenchmarkBulkPut measures client-side bulk indexing into the recorded-
// behaviour server (which skips evaluation and recording bodies) next to the
// disk backend on the same documents. Metrics: docs/s, MB/s of request
// bodies, allocs/doc and requests per 1,000 articles.
func BenchmarkBulkPut(b *testing.B) {
	b.Run("elastic", func(b *testing.B) {
		docs := benchDocs(batch)
		srv := estest.New(b, estest.Options{NoBodies: true})
		s := openFake(b, srv, func(o *elastic.Options) { o.Refresh = elastic.RefreshNone; o.Workers = 2 })
		benchPut(b, s, docs, func() (int64, int64) {
			var n int64
			reqs := srv.Requests()
			for _, r := range reqs {
				n += int64(r.BodyLen)
			}
			return int64(len(reqs)), n
		}, srv.ResetRequests)
	})
	b.Run("disk", func(b *testing.B) {
		docs := benchDocs(batch)
		s, err := disk.Open(context.Background(), disk.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		benchPut(b, s, docs, nil, nil)
	})
}

func benchPut(b *testing.B, s index.Store, docs []news.Document, requests func() (count, bytes int64), reset func()) {
	ctx := context.Background()
	// Warm up (template, aliases, connection) outside the measurement.
	if _, err := s.Put(ctx, docs...); err != nil {
		b.Fatal(err)
	}
	if reset != nil {
		reset()
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	ids := make([]string, len(docs))
	for i := range docs {
		ids[i] = docs[i].ID
	}
	for b.Loop() {
		// Fresh ids each round: ingest mostly adds articles, and a store
		// that grows is the honest measure.
		n++
		for i := range docs {
			docs[i].ID = ids[i] + "-" + strconv.Itoa(n)
		}
		res, err := s.Put(ctx, docs...)
		if err != nil || res.Indexed != len(docs) {
			b.Fatalf("Put: %+v, %v", res, err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	total := float64(n * len(docs))
	b.ReportMetric(total/elapsed.Seconds(), "docs/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/doc")
	if requests != nil {
		count, bytes := requests()
		b.ReportMetric(float64(count)*1000/total, "req/1000docs")
		b.ReportMetric(float64(bytes)/elapsed.Seconds()/1e6, "MB/s")
	}
}

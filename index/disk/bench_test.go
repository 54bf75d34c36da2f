package disk

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// benchTerms are the treaty vocabulary; benchWord draws mostly filler words,
// so a query term hits a realistic fraction (a few to 30%) of documents.
var benchTerms = strings.Fields(`mine mines landmine landmines anti-personnel Ottawa Convention treaty withdrawal
withdraw parliament vote minister defence border Poland Finland Estonia Latvia Lithuania Ukraine Norway
cluster munitions demining clearance funding casualties stockpile production Russia Belarus army`)

func benchWord(r *rand.Rand) string {
	if r.IntN(100) < 8 {
		return benchTerms[r.IntN(len(benchTerms))]
	}
	// 2,000 filler words, the common ones far more frequent (roughly Zipf).
	n := int(2000 * r.Float64() * r.Float64() * r.Float64())
	return fmt.Sprintf("w%x", n)
}

var (
	benchCountries = []string{"PL", "FI", "EE", "LV", "LT", "UA", "NO", "US"}
	benchTopics    = []string{news.TopicTreatyWithdrawal, news.TopicProduction, news.TopicDeminingFunding, news.TopicClusterMunitions}
	benchLangs     = []string{"en", "pl", "lt", "lv", "et", "fi", "uk", "de"}
)

// benchDocs generates n documents deterministically.
func benchDocs(n int) []news.Document {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := make([]news.Document, n)
	for i := range docs {
		words := func(k int) string {
			w := make([]string, k)
			for j := range w {
				w[j] = benchWord(r)
			}
			return strings.Join(w, " ")
		}
		var paras []string
		for range 4 {
			paras = append(paras, words(60)+".")
		}
		url := fmt.Sprintf("https://bench.example/%d", i)
		d := news.Document{Article: news.Article{
			ID: news.ArticleID(url), URL: url, CanonicalURL: url,
			SourceID: fmt.Sprintf("source-%d", i%40), Title: words(9), Text: strings.Join(paras, "\n\n"),
			Language: benchLangs[i%len(benchLangs)], Published: start.Add(time.Duration(i) * 37 * time.Minute),
		}}
		d.FirstSeen = d.Published
		if i%3 != 0 {
			d.Classification.Relevant = true
			d.Classification.Topics = []news.TopicScore{{Topic: benchTopics[i%len(benchTopics)], Score: 1}}
			d.Classification.Entities = []news.Entity{{Country: benchCountries[i%len(benchCountries)],
				Action: news.Actions[i%len(news.Actions)], Treaty: news.TreatyOttawa}}
		}
		docs[i] = d
	}
	return docs
}

func BenchmarkSearch(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	docs := benchDocs(10000)
	for i := 0; i < len(docs); i += 500 {
		if _, err := s.Put(ctx, docs[i:min(i+500, len(docs))]...); err != nil {
			b.Fatal(err)
		}
	}
	queries := []struct {
		name string
		q    index.Query
	}{
		{"word+filters+facets", index.Query{Text: "withdrawal", Topics: []string{news.TopicTreatyWithdrawal}, Languages: []string{"en", "pl"}, Facets: true}},
		{"near+filters+facets", index.Query{Text: "withdraw* NEAR/5 (Ottawa OR treaty)", Countries: []string{"PL", "FI"}, RelevantOnly: true, Facets: true}},
		{"not+filters+facets", index.Query{Text: "NOT cluster AND mine*", Sources: []string{"source-1", "source-2"}, Since: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Facets: true}},
		{"date sort, no text", index.Query{Topics: []string{news.TopicProduction}, Languages: []string{"uk"}, Facets: true}},
	}
	for _, bq := range queries {
		b.Run(bq.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Search(ctx, bq.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPut(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	docs := benchDocs(2000)
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			i := 0
			for b.Loop() {
				chunk := make([]news.Document, batch)
				for j := range chunk {
					chunk[j] = docs[(i+j)%len(docs)]
				}
				i += batch
				if _, err := s.Put(ctx, chunk...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/doc")
		})
	}
}

package disk_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/news"
)

func ExampleStore_Search() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "minewatch-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := disk.Open(ctx, disk.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	url := "https://www.lrt.lt/en/news/1"
	_, err = s.Put(ctx, news.Document{
		Article: news.Article{
			ID: news.ArticleID(url), URL: url, CanonicalURL: url, SourceID: "lrt", Language: "lt",
			Title:     "Lietuva pasitraukė iš Kasetinių šaudmenų konvencijos",
			Text:      "Nuo kovo 6 dienos Lietuvą nebesaisto Kasetinių šaudmenų konvencija.",
			Published: time.Date(2025, 3, 6, 8, 0, 0, 0, time.UTC),
		},
		Classification: news.Classification{Relevant: true, Topics: []news.TopicScore{{Topic: news.TopicClusterMunitions, Score: 2}}},
	})
	if err != nil {
		log.Fatal(err)
	}

	// Matching ignores case and diacritics: "lietuva" finds "Lietuvą".
	hits, err := s.Search(ctx, index.Query{Text: `lietuva AND kasetini*`, Topics: []string{news.TopicClusterMunitions}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(hits.Total, hits.Docs[0].Title)
	for _, f := range hits.Docs[0].Snippet {
		if f.Match {
			fmt.Printf("[%s]", f.Text)
		} else {
			fmt.Print(f.Text)
		}
	}
	fmt.Println()
	// Output:
	// 1 Lietuva pasitraukė iš Kasetinių šaudmenų konvencijos
	// Nuo kovo 6 dienos [Lietuvą] nebesaisto [Kasetinių] šaudmenų konvencija.
}

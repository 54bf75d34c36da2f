package elastic_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/elastic"
)

// Open a store on a secured cluster (secrets come from the environment, as
// the config's password_env and api_key_env name them), create the indices
// once, then search.
func ExampleOpen() {
	ctx := context.Background()
	s, err := elastic.Open(ctx, elastic.Options{
		URLs:          []string{"https://es.example.org:9200"},
		APIKey:        os.Getenv("MINEWATCH_ES_API_KEY"),
		CAFile:        "/etc/minewatch/es-ca/ca.crt",
		IndexPrefix:   "minewatch",
		FlushBytes:    5 << 20,
		FlushInterval: time.Second,
		Logger:        slog.Default(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if err := s.Init(ctx); err != nil { // idempotent: `minewatch index init`
		fmt.Println(err)
		return
	}
	hits, err := s.Search(ctx, index.Query{Text: `withdraw* NEAR/5 (Ottawa OR "mine ban")`, Facets: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(hits.Total)
}

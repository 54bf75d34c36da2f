package fetch_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/news"
)

// A feed is fetched once, then revalidated with the validators it returned.
func ExampleFetcher_Fetch() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "<rss/>")
	}))
	defer srv.Close()

	f, err := fetch.New(fetch.Options{
		AllowPrivate: []string{"127.0.0.1"}, // the test server is on loopback
		PerHostDelay: -1,
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	first, err := f.Fetch(ctx, fetch.Request{URL: srv.URL + "/feed.xml"})
	if err != nil {
		panic(err)
	}
	fmt.Println(first.Status, string(first.Body), first.Validators.ETag)

	again, err := f.Fetch(ctx, fetch.Request{URL: srv.URL + "/feed.xml", Validators: news.Validators{ETag: first.Validators.ETag}})
	if err != nil {
		panic(err)
	}
	fmt.Println(again.Status, again.NotModified)
	// Output:
	// 200 <rss/> "v1"
	// 304 true
}

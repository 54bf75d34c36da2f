package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/web"
)

// benchSearch measures search latency through the HTTP API (query + two
// filters + facets) on an embedded index of generated articles, and the
// weight of the results page.
func benchSearch(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	fs.SetOutput(out)
	docs := fs.Int("docs", 100_000, "articles in the index")
	requests := fs.Int("requests", 2000, "API requests to time")
	conc := fs.Int("c", 4, "concurrent clients")
	dir := fs.String("dir", "", "index directory, kept and reused across runs (default: a temporary one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *docs < 1 || *requests < 1 || *conc < 1 {
		return errors.New("search: -docs, -requests and -c must be positive")
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "minewatch-bench-search-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	store, err := disk.Open(ctx, disk.Options{Dir: *dir})
	if err != nil {
		return err
	}
	defer store.Close()

	marker := filepath.Join(*dir, fmt.Sprintf("bench-search-%d.done", *docs))
	if _, err := os.Stat(marker); err != nil {
		start := time.Now()
		if err := fillIndex(ctx, store, *docs); err != nil {
			return err
		}
		if err := os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(out, "indexed %d articles in %s\n", *docs, time.Since(start).Round(time.Millisecond))
	} else {
		fmt.Fprintf(out, "reusing the index of %d articles in %s\n", *docs, *dir)
	}

	srv, err := web.New(web.Options{Searcher: store, Events: store, Saved: store, Now: func() time.Time { return benchEnd }})
	if err != nil {
		return err
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := ts.Client()

	queries := []string{`ottawa OR landmine*`, `"anti-personnel mines"`, `withdraw* NEAR/5 convention`, `mines NOT naval`, `cluster OR ottawa`}
	filters := [][2]string{{"PL", news.TopicTreatyWithdrawal}, {"LT", news.TopicClusterMunitions}, {"FI", news.TopicTreatyWithdrawal}, {"UA", news.TopicProduction}}
	target := func(i int, path string) string {
		f := filters[i%len(filters)]
		v := url.Values{"q": {queries[i%len(queries)]}, "country": {f[0]}, "topic": {f[1]}}
		return ts.URL + path + "?" + v.Encode()
	}
	get := func(u string) (int, time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, 0, err
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if err != nil {
			return 0, 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, 0, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
		}
		return int(n), d, nil
	}
	// Warm the page cache and the connection pool; not timed.
	for i := range min(20, *requests) {
		if _, _, err := get(target(i, "/api/search")); err != nil {
			return err
		}
	}

	lat := make([]time.Duration, *requests)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	jobs := make(chan int)
	start := time.Now()
	for range *conc {
		wg.Go(func() {
			for i := range jobs {
				_, d, err := get(target(i, "/api/search"))
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				lat[i] = d
			}
		})
	}
	for i := range *requests {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	wall := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Fprintf(out, "GET /api/search, query + country + topic filters + facets, %d requests, %d clients, %d articles\n", *requests, *conc, *docs)
	fmt.Fprintf(out, "  p50 %s  p90 %s  p99 %s  max %s  (%.0f req/s)\n",
		pct(.50).Round(10*time.Microsecond), pct(.90).Round(10*time.Microsecond), pct(.99).Round(10*time.Microsecond),
		lat[len(lat)-1].Round(10*time.Microsecond), float64(*requests)/wall.Seconds())
	fmt.Fprintf(out, "  goal p99 <= 50ms: %s\n", verdict(pct(.99) <= 50*time.Millisecond))

	size, d, err := get(target(0, "/"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "results page (HTML, 20 results, facets, chart): %d bytes in %s; goal <= 100 KB: %s\n",
		size, d.Round(10*time.Microsecond), verdict(size <= 100_000))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// benchEnd is the generated corpus's last day; the server's clock is pinned
// to it so date presets and charts see the data.
var benchEnd = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var (
	benchCountries = []string{"PL", "FI", "EE", "LV", "LT", "UA", "NO", "US", "DE", "RU"}
	benchTopics    = []string{news.TopicTreatyWithdrawal, news.TopicTreatyMembership, news.TopicProduction,
		news.TopicDeminingFunding, news.TopicClusterMunitions, news.TopicCasualtiesVictims, news.TopicStockpile}
	benchLangs = []string{"en", "pl", "lt", "lv", "et", "fi", "uk", "de", "ru", "fr"}
	// benchVocab is the words the articles are made of: the treaty vocabulary
	// the queries look for, within a long tail of ordinary words.
	benchVocab = strings.Fields(`ottawa convention treaty landmine landmines mines mine anti-personnel withdraw withdrawal
		withdrew withdrawing parliament vote sejm seimas saeima riigikogu eduskunta notified united nations secretary-general
		cluster munitions ccm production stockpile demining funding clearance casualties victims ministry defence border
		russia belarus security deterrence minister government decision law signed president effective months naval`)
	benchFiller = strings.Fields(`the of and to in a is that for on with as was by it at from be this have are which not or
		has but an they their were been more its also one would after other new two first year people said all some
		when there about into over state only time could them what states than most made any report week region country
		city officials news agency statement according local national international public plan support policy`)
)

func fillIndex(ctx context.Context, store *disk.Store, n int) error {
	r := rand.New(rand.NewPCG(7, 11))
	start := benchEnd.AddDate(0, 0, -365)
	step := 365 * 24 * time.Hour / time.Duration(n)
	word := func() string {
		if r.IntN(100) < 12 {
			return benchVocab[r.IntN(len(benchVocab))]
		}
		return benchFiller[int(float64(len(benchFiller))*r.Float64()*r.Float64())]
	}
	words := func(k int) string {
		w := make([]string, k)
		for j := range w {
			w[j] = word()
		}
		return strings.Join(w, " ")
	}
	const batch = 500
	buf := make([]news.Document, 0, batch)
	for i := range n {
		u := fmt.Sprintf("https://outlet%d.example/news/%d", i%120, i)
		paras := make([]string, 5)
		for p := range paras {
			paras[p] = words(50+r.IntN(40)) + "."
		}
		d := news.Document{Article: news.Article{
			ID: news.ArticleID(u), URL: u, CanonicalURL: u, SourceID: fmt.Sprintf("outlet-%d", i%120),
			Title: words(8 + r.IntN(6)), Summary: words(25), Text: strings.Join(paras, "\n\n"),
			Language: benchLangs[r.IntN(len(benchLangs))], Published: start.Add(time.Duration(i) * step),
			PublishedFrom: "feed",
		}}
		d.FirstSeen = d.Published.Add(5 * time.Minute)
		d.StoryID = d.ID
		if r.IntN(10) < 7 {
			d.Classification.Relevant = true
			d.Classification.Score = 2
			for k := 0; k < 1+r.IntN(2); k++ {
				d.Classification.Topics = append(d.Classification.Topics, news.TopicScore{Topic: benchTopics[r.IntN(len(benchTopics))], Score: 1})
			}
			c := benchCountries[r.IntN(len(benchCountries))]
			d.Classification.Entities = []news.Entity{{Country: c, Action: news.Actions[r.IntN(len(news.Actions))],
				Treaty: news.TreatyOttawa, Evidence: paras[0]}}
		}
		buf = append(buf, d)
		if len(buf) == batch || i == n-1 {
			if _, err := store.Put(ctx, buf...); err != nil {
				return fmt.Errorf("fill index: %w", err)
			}
			buf = buf[:0]
		}
	}
	return nil
}

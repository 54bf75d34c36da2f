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
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/web"
)

// benchSearch measures search latency through the HTTP API on an embedded
// index of generated articles, and the weight of the results page. Each
// scenario is what the search page asks for: a word query, filters, facets,
// sorted by relevance (the default with text) or by date.
func benchSearch(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	fs.SetOutput(out)
	docs := fs.Int("docs", 100_000, "articles in the index")
	requests := fs.Int("requests", 2000, "API requests to time per scenario")
	conc := fs.Int("c", 4, "concurrent clients")
	dir := fs.String("dir", "", "index directory, kept and reused across runs (default: a temporary one)")
	only := fs.String("scenario", "", "run only the scenarios whose name contains this")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed requests to this file")
	blockProfile := fs.String("blockprofile", "", "write a block profile (waits over 10µs) of the timed requests to this file")
	mutexProfile := fs.String("mutexprofile", "", "write a mutex contention profile of the timed requests to this file")
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
		if err := store.Optimize(ctx); err != nil {
			return err
		}
		if err := os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(out, "indexed %d articles in %s (FTS optimized)\n", *docs, time.Since(start).Round(time.Millisecond))
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
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = *conc

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

	stop, err := startProfiles(*cpuProfile, *blockProfile, *mutexProfile)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "GET /api/search, %d articles, %d concurrent clients on 127.0.0.1, %d timed requests per scenario after one untimed pass over its %d distinct URLs; GOMAXPROCS %d\n",
		*docs, *conc, *requests, len(benchQueries)*len(benchCountryFilters), runtime.GOMAXPROCS(0))
	fmt.Fprintf(out, "  %-44s %9s %9s %9s %9s %8s %12s %9s\n", "scenario", "p50", "p90", "p99", "max", "req/s", "CPU/req", "p99<=50ms")
	ran := 0
	for _, sc := range benchScenarios() {
		if !strings.Contains(sc.name, *only) {
			continue
		}
		ran++
		res, err := runScenario(ctx, sc, ts.URL, *requests, *conc, get)
		if err != nil {
			stop()
			return fmt.Errorf("scenario %s: %w", sc.name, err)
		}
		fmt.Fprintf(out, "  %-44s %9s %9s %9s %9s %8.0f %12s %9s\n", sc.name,
			ms(res.pct(.50)), ms(res.pct(.90)), ms(res.pct(.99)), ms(res.lat[len(res.lat)-1]),
			float64(*requests)/res.wall.Seconds(), ms(res.cpu/time.Duration(*requests)), verdict(res.pct(.99) <= 50*time.Millisecond))
	}
	if err := stop(); err != nil {
		return err
	}
	if ran == 0 {
		return fmt.Errorf("search: no scenario matches %q", *only)
	}
	fmt.Fprintln(out, "  CPU/req is the whole process (server, client and HTTP on loopback) over the timed requests.")

	size, d, err := get(ts.URL + "/?" + benchScenarios()[0].values(0).Encode())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "results page (HTML, 20 results, facets, chart): %d bytes in %s; goal <= 100 KB: %s\n",
		size, d.Round(10*time.Microsecond), verdict(size <= 100_000))
	return nil
}

// benchQueries are word queries in the analysts' syntax: an OR with a prefix,
// a phrase, a NEAR, a NOT and a plain OR.
var benchQueries = []string{`ottawa OR landmine*`, `"anti-personnel mines"`, `withdraw* NEAR/5 convention`, `mines NOT naval`, `cluster OR ottawa`}

// benchCountryFilters pair a country with a topic (the first figures of
// BENCHMARKS.md used these) and with a date filter as the page sends it.
var benchCountryFilters = []struct {
	country, topic string
	date           url.Values
}{
	{"PL", news.TopicTreatyWithdrawal, url.Values{"preset": {"30d"}}},
	{"LT", news.TopicClusterMunitions, url.Values{"since": {benchEnd.AddDate(0, -3, 0).Format(time.DateOnly)}}},
	{"FI", news.TopicTreatyWithdrawal, url.Values{"preset": {"7d"}}},
	{"UA", news.TopicProduction, url.Values{"since": {benchEnd.AddDate(-1, 0, 0).Format(time.DateOnly)},
		"until": {benchEnd.AddDate(0, -6, 0).Format(time.DateOnly)}}},
}

// searchScenario is one kind of request; values(i) is the i-th request's
// parameters. Queries and filters rotate with coprime periods (5 and 4), so
// 20 distinct URLs repeat.
type searchScenario struct {
	name   string
	values func(i int) url.Values
}

func benchScenarios() []searchScenario {
	mk := func(name, sort string, withTopic, withDate bool) searchScenario {
		return searchScenario{name: name, values: func(i int) url.Values {
			f := benchCountryFilters[i%len(benchCountryFilters)]
			v := url.Values{"q": {benchQueries[i%len(benchQueries)]}, "country": {f.country}}
			if withTopic {
				v.Set("topic", f.topic)
			}
			if withDate {
				for k, vs := range f.date {
					v[k] = vs
				}
			}
			if sort != "" {
				v.Set("sort", sort)
			}
			return v
		}}
	}
	return []searchScenario{
		mk("query+country+topic+facets, relevance", "", true, false),
		mk("query+country+date+facets, relevance", "relevance", false, true),
		mk("query+country+date+facets, date", "date", false, true),
	}
}

type scenarioResult struct {
	lat       []time.Duration // sorted
	wall, cpu time.Duration
}

func (r scenarioResult) pct(p float64) time.Duration {
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}

// runScenario warms up with one untimed pass over the scenario's distinct
// URLs, then times requests GETs from conc clients.
func runScenario(ctx context.Context, sc searchScenario, base string, requests, conc int,
	get func(string) (int, time.Duration, error)) (scenarioResult, error) {
	target := func(i int) string { return base + "/api/search?" + sc.values(i).Encode() }
	for i := range len(benchQueries) * len(benchCountryFilters) {
		if _, _, err := get(target(i)); err != nil {
			return scenarioResult{}, err
		}
	}
	lat := make([]time.Duration, requests)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	jobs := make(chan int)
	cpu0 := cpuTime()
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for i := range jobs {
				_, d, err := get(target(i))
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
	for i := range requests {
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
	res := scenarioResult{lat: lat, wall: time.Since(start), cpu: cpuTime() - cpu0}
	if firstErr != nil {
		return res, firstErr
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	slices.Sort(res.lat)
	return res, nil
}

// startProfiles starts the profiles whose paths are not empty; the returned
// function stops them and writes the files.
func startProfiles(cpuPath, blockPath, mutexPath string) (func() error, error) {
	var stops []func() error
	stopAll := func() error {
		var errs []error
		for _, f := range stops {
			errs = append(errs, f())
		}
		stops = nil
		return errors.Join(errs...)
	}
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return nil, fmt.Errorf("search: cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("search: cpu profile: %w", err)
		}
		stops = append(stops, func() error {
			pprof.StopCPUProfile()
			return f.Close()
		})
	}
	lookup := func(name, path string, disable func()) {
		if path == "" {
			return
		}
		stops = append(stops, func() error {
			defer disable()
			f, err := os.Create(path)
			if err != nil {
				return fmt.Errorf("search: %s profile: %w", name, err)
			}
			if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
				f.Close()
				return fmt.Errorf("search: %s profile: %w", name, err)
			}
			return f.Close()
		})
	}
	if blockPath != "" {
		runtime.SetBlockProfileRate(int((10 * time.Microsecond).Nanoseconds()))
		lookup("block", blockPath, func() { runtime.SetBlockProfileRate(0) })
	}
	if mutexPath != "" {
		runtime.SetMutexProfileFraction(1)
		lookup("mutex", mutexPath, func() { runtime.SetMutexProfileFraction(0) })
	}
	return stopAll, nil
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

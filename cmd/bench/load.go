package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/web"
)

// loadFlags are benchLoad's flags; the server process gets the ones it needs.
type loadFlags struct {
	docs         int
	clients      int
	duration     time.Duration
	farm         farmOptions
	farmMode     string
	serverMode   string
	perHostDelay time.Duration
	dir          string
	serve        bool
	farmPort     int
	minCycles    int
	cpuProfile   string
}

// benchLoad is issue #8's load test: clients hammer the search API and
// article views on 127.0.0.1 while the same process's monitor ingests a feed
// farm into the index being searched.
func benchLoad(ctx context.Context, args []string, out io.Writer) error {
	var lf loadFlags
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&lf.docs, "docs", 100_000, "articles preloaded into the index (search.go's generator)")
	fs.IntVar(&lf.clients, "clients", 50, "concurrent clients")
	fs.DurationVar(&lf.duration, "duration", 60*time.Second, "how long the clients run")
	fs.IntVar(&lf.farm.feeds, "feeds", 500, "feeds in the farm the server ingests during the run")
	fs.IntVar(&lf.farm.items, "items", 20, "items per farm feed")
	fs.IntVar(&lf.farm.hosts, "hosts", 50, "loopback hosts of the farm")
	fs.StringVar(&lf.farmMode, "farm", "child", `where the feed farm runs: "child" or "inprocess"`)
	fs.StringVar(&lf.serverMode, "server", "child", `where minewatch (web server + monitor) runs: "child" (a re-executed process, so its RSS is its own) or "inprocess"`)
	fs.DurationVar(&lf.perHostDelay, "per-host-delay", 0, "override the config's per-host delay (0: the config default; negative: none)")
	fs.StringVar(&lf.dir, "dir", "", "index directory, kept and reused across runs (default: a temporary one)")
	fs.BoolVar(&lf.serve, "serve", false, "internal: be the server process; talk to the parent on stdin/stdout")
	fs.IntVar(&lf.farmPort, "farm-port", 0, "internal: the farm's port, for -serve")
	fs.StringVar(&lf.cpuProfile, "cpuprofile", "", "write a CPU profile of the server during the run to this path with .server appended")
	fs.IntVar(&lf.minCycles, "min-cycles", 0, "let the server finish at least this many whole fetch cycles, however short -duration is")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if lf.minCycles < 0 || lf.docs < 1 || lf.clients < 1 || lf.duration <= 0 || lf.farm.feeds < 1 || lf.farm.items < 1 || lf.farm.hosts < 1 {
		return errors.New("load: -docs, -clients, -duration, -feeds, -items and -hosts must be positive")
	}
	lf.farm.hosts = min(lf.farm.hosts, lf.farm.feeds, maxFarmHosts)
	lf.farm.grouped = true
	lf.farm.changed = 0.5
	if lf.serve {
		if lf.dir == "" || lf.farmPort == 0 {
			return errors.New("load: -serve needs -dir and -farm-port")
		}
		return runLoadServer(ctx, lf, os.Stdin, out)
	}
	if lf.serverMode != "child" && lf.serverMode != "inprocess" {
		return fmt.Errorf("load: -server %q: want child or inprocess", lf.serverMode)
	}
	return runLoad(ctx, lf, out)
}

// loadResult is what the server process reports when the run ends.
type loadResult struct {
	Ingested     int64    `json:"ingested"` // new documents in the index during the run
	Cycles       int      `json:"cycles"`   // fetch cycles started
	SourceErrors int      `json:"source_errors"`
	ErrorSamples []string `json:"error_samples,omitempty"` // the first few source errors
	PeakRSS      int64    `json:"peak_rss"`
	PeakAnon     int64    `json:"peak_anon"`
	RSSExact     bool     `json:"rss_exact"`
	CPUSeconds   float64  `json:"cpu_seconds"`
	Wall         float64  `json:"wall_seconds"`
}

// runLoadServer is minewatch under load: the web server and a monitor
// ingesting the farm, over one index. It prints "port N", starts ingesting
// and metering on the line "go", and on end of input stops, prints "result
// {json}", and shuts the web server down.
func runLoadServer(ctx context.Context, lf loadFlags, in io.Reader, out io.Writer) error {
	cfg := config.Default()
	cfg.Fetch.AllowPrivate = append(cfg.Fetch.AllowPrivate, "127.0.0.0/8")
	switch {
	case lf.perHostDelay < 0:
		cfg.Fetch.PerHostDelay.Duration = -1
	case lf.perHostDelay > 0:
		cfg.Fetch.PerHostDelay.Duration = lf.perHostDelay
	}
	fm := &farm{opts: lf.farm, port: lf.farmPort}
	srcs := make([]news.Source, lf.farm.feeds)
	for i := range srcs {
		srcs[i] = news.Source{ID: fmt.Sprintf("farm-%05d", i), Name: fmt.Sprintf("Farm feed %d", i),
			Kind: news.KindFeed, URL: fm.feedURL(i), Schedule: config.DefaultFeedSchedule}
	}
	p, err := newPipeline(ctx, cfg, srcs, lf.dir)
	if err != nil {
		return err
	}
	defer p.store.Close()
	wsrv, err := web.New(web.Options{Searcher: p.store, Events: p.store, Saved: p.store,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return benchEnd }})
	if err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("load server: %w", err)
	}
	// The timeouts `minewatch run` sets.
	srv := &http.Server{Handler: wsrv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-served
	}()
	fmt.Fprintf(out, "port %d\n", ln.Addr().(*net.TCPAddr).Port)

	br := bufio.NewReader(in)
	if line, err := br.ReadString('\n'); err != nil || strings.TrimSpace(line) != "go" {
		return fmt.Errorf("load server: want \"go\" from the parent, got %q: %v", line, err)
	}
	before, err := p.store.Stats(ctx)
	if err != nil {
		return fmt.Errorf("load server: %w", err)
	}
	stopProfile, err := startCPUProfile(lf.cpuProfile, "server")
	if err != nil {
		return err
	}
	m := startMeter()
	ictx, stop := context.WithCancel(ctx)
	var res loadResult
	ingested := make(chan struct{})
	enough := make(chan struct{}) // closed once minCycles cycles completed
	if lf.minCycles == 0 {
		close(enough)
	}
	go func() {
		defer close(ingested)
		ctl := &farmHandle{setBase: fmt.Sprintf("http://%s:%d/_farm/cycle", hostAddr(0), lf.farmPort)}
		for c := 0; ictx.Err() == nil; c++ {
			if c > 0 {
				if err := ctl.setCycle(ictx, c); err != nil {
					if ictx.Err() == nil {
						res.SourceErrors++
					}
					return
				}
			}
			res.Cycles++
			outs, err := p.mon.RunOnce(ictx, nil, nil)
			for _, o := range outs {
				if o.Err != nil && !o.Abandoned {
					res.SourceErrors++
					if len(res.ErrorSamples) < 5 {
						res.ErrorSamples = append(res.ErrorSamples, fmt.Sprintf("%s: %v", o.SourceID, o.Err))
					}
				}
			}
			if err == nil && c+1 == lf.minCycles {
				close(enough)
			}
		}
	}()
	_, _ = io.Copy(io.Discard, br) // the parent closes our input when its clients are done
	select {
	case <-enough:
	case <-ingested:
	}
	stop()
	<-ingested
	var ph phase
	m.stop(&ph)
	stopProfile()
	after, err := p.store.Stats(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("load server: %w", err)
	}
	res.Ingested = int64(after.Documents - before.Documents)
	res.PeakRSS, res.PeakAnon, res.RSSExact = ph.peakRSS, ph.peakAnon, ph.rssExact
	res.CPUSeconds, res.Wall = ph.cpu.Seconds(), ph.wall.Seconds()
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "result %s\n", b)
	return nil
}

// loadServer is the server as the parent drives it.
type loadServer struct {
	base   string
	stdin  io.WriteCloser
	stdout *bufio.Reader
	wait   func() error
}

func startLoadServer(ctx context.Context, lf loadFlags) (*loadServer, error) {
	ls := &loadServer{}
	if lf.serverMode == "inprocess" {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		done := make(chan error, 1)
		go func() {
			err := runLoadServer(ctx, lf, inR, outW)
			inR.CloseWithError(err) // unblock a parent still writing
			outW.CloseWithError(cmpErr(err, io.EOF))
			done <- err
		}()
		ls.stdin, ls.stdout, ls.wait = inW, bufio.NewReader(outR), func() error { return <-done }
	} else {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("load: re-exec: %w", err)
		}
		cmd := exec.CommandContext(ctx, exe, "load", "-serve", "-dir", lf.dir, "-farm-port", strconv.Itoa(lf.farmPort),
			"-feeds", strconv.Itoa(lf.farm.feeds), "-items", strconv.Itoa(lf.farm.items), "-hosts", strconv.Itoa(lf.farm.hosts),
			"-per-host-delay", lf.perHostDelay.String(), "-min-cycles", strconv.Itoa(lf.minCycles), "-cpuprofile", lf.cpuProfile)
		cmd.Stderr = os.Stderr
		if ls.stdin, err = cmd.StdinPipe(); err != nil {
			return nil, fmt.Errorf("load: server: %w", err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, fmt.Errorf("load: server: %w", err)
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("load: start server %s: %w", exe, err)
		}
		ls.stdout, ls.wait = bufio.NewReader(stdout), cmd.Wait
	}
	line, err := ls.stdout.ReadString('\n')
	var port int
	if _, serr := fmt.Sscanf(line, "port %d", &port); err != nil || serr != nil {
		ls.stdin.Close()
		return nil, fmt.Errorf("load: server did not report its port (got %q): %w", line, errors.Join(err, ls.wait()))
	}
	ls.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	return ls, nil
}

func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// finish ends the server's run and returns its report.
func (ls *loadServer) finish() (loadResult, error) {
	var res loadResult
	ls.stdin.Close()
	line, rerr := ls.stdout.ReadString('\n')
	werr := ls.wait()
	js, ok := strings.CutPrefix(strings.TrimSpace(line), "result ")
	if !ok {
		return res, fmt.Errorf("load: server gave no result (got %q): %w", line, errors.Join(rerr, werr))
	}
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		return res, fmt.Errorf("load: server result: %w", err)
	}
	return res, werr
}

// loadKinds are the requests of the mix, with their shares in percent.
var loadKinds = []struct {
	name  string
	share int
}{
	{"search API, query + filters, by relevance", 40},
	{"search API, query + filters, by date", 30},
	{"search API, filters only, by date", 10},
	{"article API", 10},
	{"article page (HTML)", 5},
	{"search page (HTML)", 5},
}

var loadQueries = []string{`ottawa OR landmine*`, `"anti-personnel mines"`, `withdraw* NEAR/5 convention`,
	`mines NOT naval`, `cluster OR ottawa`, `demining funding`, `parliament vote`, `stockpile*`}

// loadTarget is the i-th request a client sends: its kind and URL.
func loadTarget(r *rand.Rand, base string, docs int) (int, string) {
	roll, kind := r.IntN(100), 0
	for acc := 0; kind < len(loadKinds)-1; kind++ {
		if acc += loadKinds[kind].share; roll < acc {
			break
		}
	}
	v := url.Values{
		"q":       {loadQueries[r.IntN(len(loadQueries))]},
		"country": {benchCountries[r.IntN(len(benchCountries))]},
		"topic":   {benchTopics[r.IntN(len(benchTopics))]},
	}
	i := r.IntN(docs)
	id := news.ArticleID(fmt.Sprintf("https://outlet%d.example/news/%d", i%120, i)) // fillIndex's URLs
	switch kind {
	case 1:
		v.Set("sort", "date")
	case 2:
		v.Del("q")
		v.Set("sort", "date")
	case 3:
		return kind, base + "/api/articles/" + id
	case 4:
		return kind, base + "/articles/" + id
	case 5:
		return kind, base + "/?" + v.Encode()
	}
	return kind, base + "/api/search?" + v.Encode()
}

// loadSample is one answered (or failed) request.
type loadSample struct {
	kind int
	lat  time.Duration
	err  error
}

func runLoad(ctx context.Context, lf loadFlags, out io.Writer) error {
	if lf.dir == "" {
		tmp, err := os.MkdirTemp("", "minewatch-bench-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		lf.dir = tmp
	}
	if err := preloadIndex(ctx, lf.dir, lf.docs, out); err != nil {
		return err
	}
	fh, err := launchFarm(ctx, feedFarmFlags{farmOptions: lf.farm, farmMode: lf.farmMode})
	if err != nil {
		return err
	}
	defer fh.stop()
	lf.farmPort = fh.port
	ls, err := startLoadServer(ctx, lf)
	if err != nil {
		return err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConnsPerHost = lf.clients // keep-alive for every client, as browsers and API users do
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	defer tr.CloseIdleConnections()

	// Warm-up, not timed: connections, page cache.
	wr := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		_, u := loadTarget(wr, ls.base, lf.docs)
		if _, err := loadGet(ctx, client, u); err != nil {
			ls.finish()
			return fmt.Errorf("load: warm-up: %w", err)
		}
	}
	if _, err := io.WriteString(ls.stdin, "go\n"); err != nil {
		return fmt.Errorf("load: start the server's ingest: %w", err)
	}
	samples := make([][]loadSample, lf.clients)
	start := time.Now()
	end := start.Add(lf.duration)
	var wg sync.WaitGroup
	for c := range lf.clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(c), 99))
			for ctx.Err() == nil && time.Now().Before(end) {
				kind, u := loadTarget(r, ls.base, lf.docs)
				lat, err := loadGet(ctx, client, u)
				if ctx.Err() != nil {
					return
				}
				samples[c] = append(samples[c], loadSample{kind: kind, lat: lat, err: err})
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	res, ferr := ls.finish()
	if err := ctx.Err(); err != nil {
		return err
	}
	if ferr != nil {
		return ferr
	}
	writeLoadReport(out, lf, slices.Concat(samples...), wall, res)
	return nil
}

// preloadIndex fills dir's index with docs articles once; a marker file
// lets later runs with -dir reuse it.
func preloadIndex(ctx context.Context, dir string, docs int, out io.Writer) error {
	marker := filepath.Join(dir, fmt.Sprintf("bench-load-%d.done", docs))
	if _, err := os.Stat(marker); err == nil {
		fmt.Fprintf(out, "reusing the index of %d articles in %s (plus what earlier runs ingested)\n", docs, dir)
		return nil
	}
	st, err := disk.Open(ctx, disk.Options{Dir: dir})
	if err != nil {
		return fmt.Errorf("load: open index: %w", err)
	}
	defer st.Close()
	t0 := time.Now()
	if err := fillIndex(ctx, st, docs); err != nil {
		return err
	}
	fmt.Fprintf(out, "indexed %d articles in %s\n", docs, time.Since(t0).Round(time.Millisecond))
	return os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// loadGet fetches u and reads the whole body; anything but a 2xx is an error.
func loadGet(ctx context.Context, client *http.Client, u string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return time.Since(t0), err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return d, fmt.Errorf("GET %s: body: %w", u, err)
	}
	if resp.StatusCode/100 != 2 {
		return d, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return d, nil
}

func writeLoadReport(out io.Writer, lf loadFlags, samples []loadSample, wall time.Duration, res loadResult) {
	fmt.Fprintf(out, "command: go run ./cmd/bench load %s\n", strings.Join(os.Args[min(len(os.Args), 2):], " "))
	where := "in a child process (RSS and CPU are the server's alone)"
	if lf.serverMode == "inprocess" {
		where = "in this process (RSS and CPU include the clients)"
	}
	fmt.Fprintf(out, "%d clients for %s on 127.0.0.1 against %d preloaded articles; server %s, ingesting %d farm feeds × %d items on %d hosts meanwhile; GOMAXPROCS=%d, %s\n\n",
		lf.clients, lf.duration, lf.docs, where, lf.farm.feeds, lf.farm.items, lf.farm.hosts, runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintln(out, "| requests | req/s | p50 | p99 | max | errors |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|")
	all, errs := latencies(samples, -1)
	fmt.Fprintf(out, "| %d | %.1f | %s | %s | %s | %d |\n\n", len(samples), float64(len(samples))/wall.Seconds(),
		fmtDur(pctOf(all, .50)), fmtDur(pctOf(all, .99)), fmtDur(pctOf(all, 1)), len(errs))
	fmt.Fprintln(out, "| request | n | p50 | p99 | max | errors |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|")
	for k, lk := range loadKinds {
		lat, kerrs := latencies(samples, k)
		fmt.Fprintf(out, "| %s | %d | %s | %s | %s | %d |\n", lk.name, len(lat)+len(kerrs),
			fmtDur(pctOf(lat, .50)), fmtDur(pctOf(lat, .99)), fmtDur(pctOf(lat, 1)), len(kerrs))
	}
	rss := fmt.Sprintf("%.0f MB", float64(res.PeakRSS)/1e6)
	if !res.RSSExact {
		rss += " (lifetime peak: /proc/self/clear_refs not writable)"
	}
	fmt.Fprintf(out, "\nserver during the run: peak RSS %s (anonymous %.0f MB), CPU %.1f s in %.1f s; %d articles ingested in %d fetch cycle(s), %d source errors\n",
		rss, float64(res.PeakAnon)/1e6, res.CPUSeconds, res.Wall, res.Ingested, res.Cycles, res.SourceErrors)
	for _, e := range res.ErrorSamples {
		fmt.Fprintf(out, "  source error: %s\n", e)
	}
	fmt.Fprintf(out, "no failed request: %s\n", met(len(errs) == 0))
	for i, e := range errs {
		if i == 5 {
			fmt.Fprintf(out, "  … and %d more\n", len(errs)-5)
			break
		}
		fmt.Fprintf(out, "  error: %v\n", e)
	}
}

// latencies returns the sorted latencies of kind's successful requests (all
// kinds when kind < 0) and the errors.
func latencies(samples []loadSample, kind int) ([]time.Duration, []error) {
	var lat []time.Duration
	var errs []error
	for _, s := range samples {
		if kind >= 0 && s.kind != kind {
			continue
		}
		if s.err != nil {
			errs = append(errs, s.err)
			continue
		}
		lat = append(lat, s.lat)
	}
	slices.Sort(lat)
	return lat, errs
}

func pctOf(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

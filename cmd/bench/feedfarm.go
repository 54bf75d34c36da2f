package main

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/minewatch/minewatch/classify"
	"github.com/minewatch/minewatch/classify/entities"
	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/index/disk"
	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/monitor"
	"github.com/minewatch/minewatch/news"
)

// farmOptions shape the synthetic feed farm.
type farmOptions struct {
	feeds, items, hosts int
	changed             float64 // share of feeds with one new item in each later cycle
	// grouped lists a host's feeds one after another, as a config lists an
	// outlet's feeds; otherwise feed i is on host i mod hosts.
	grouped bool
}

// feedFarmFlags are benchFeedFarm's flags.
type feedFarmFlags struct {
	farmOptions
	farmMode     string
	perHostDelay time.Duration
	workers      int
	dir          string
	cpuProfile   string
	memProfile   string
	serve        bool
}

func benchFeedFarm(ctx context.Context, args []string, out io.Writer) error {
	var ff feedFarmFlags
	fs := flag.NewFlagSet("feedfarm", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&ff.feeds, "feeds", 10000, "synthetic feeds")
	fs.IntVar(&ff.items, "items", 20, "items per feed")
	fs.IntVar(&ff.hosts, "hosts", 250, "loopback hosts (127.0.x.y) the feeds are spread over")
	fs.Float64Var(&ff.changed, "steady-changed", 0.1, "share of feeds that have one new item in the steady cycle")
	layout := fs.String("layout", "grouped", `order of the sources: "grouped" (a host's feeds one after another, as a config lists an outlet's feeds) or "interleaved" (feed i on host i mod hosts)`)
	fs.StringVar(&ff.farmMode, "farm", "child", `where the farm runs: "child" (a re-executed process, so the figures are the pipeline's) or "inprocess"`)
	fs.DurationVar(&ff.perHostDelay, "per-host-delay", 0, "override the config's per-host delay (0: the config default; negative: none)")
	fs.IntVar(&ff.workers, "workers", 0, "override the config's fetch workers (0: the config default)")
	fs.StringVar(&ff.dir, "dir", "", "index directory (default: a temporary directory, removed afterwards)")
	fs.StringVar(&ff.cpuProfile, "cpuprofile", "", "write CPU profiles of the pipeline cycles to this path with .first and .steady appended")
	fs.StringVar(&ff.memProfile, "memprofile", "", "write a heap profile, taken after the steady cycle, to this file")
	fs.BoolVar(&ff.serve, "serve", false, "internal: serve the farm, print its port, and exit when stdin closes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if ff.feeds <= 0 || ff.items <= 0 || ff.hosts <= 0 || ff.changed < 0 || ff.changed > 1 {
		return errors.New("feedfarm: -feeds, -items and -hosts must be positive and -steady-changed in [0,1]")
	}
	ff.hosts = min(ff.hosts, ff.feeds, maxFarmHosts)
	switch *layout {
	case "grouped":
		ff.grouped = true
	case "interleaved":
	default:
		return fmt.Errorf("feedfarm: -layout %q: want grouped or interleaved", *layout)
	}
	if ff.serve {
		return serveFarmChild(ctx, ff.farmOptions, out)
	}
	return runFeedFarm(ctx, ff, out)
}

// maxFarmHosts keeps the farm inside 127.0.0.0/16 with one listener per host.
const maxFarmHosts = 250 * 250

// farmEpoch is the farm's base time: Last-Modified and pubDates derive from it.
var farmEpoch = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// farm serves feeds/items RSS feeds with validators. Cycle 0 is the first
// state; each later cycle gives a changed share of the feeds one new item.
type farm struct {
	opts  farmOptions
	cycle atomic.Int64
	port  int
}

// hostAddr is the loopback address of host h: 127.0.0.1 … 127.0.0.250, then 127.0.1.1 …
func hostAddr(h int) string {
	return fmt.Sprintf("127.0.%d.%d", h/250, h%250+1)
}

// feedURL is where feed id is served.
func (f *farm) feedURL(id int) string {
	h := id % f.opts.hosts
	if f.opts.grouped {
		h = id / ((f.opts.feeds + f.opts.hosts - 1) / f.opts.hosts)
	}
	return fmt.Sprintf("http://%s:%d/feed/%d", hostAddr(h), f.port, id)
}

// mix is splitmix64: a cheap, well-spread hash for the farm's deterministic choices.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// version is how many new items feed id has gained by the current cycle.
func (f *farm) version(id int) int {
	v := 0
	for c := int64(1); c <= f.cycle.Load(); c++ {
		if float64(mix(uint64(id)<<20|uint64(c))%1_000_000) < f.opts.changed*1_000_000 {
			v++
		}
	}
	return v
}

func (f *farm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/robots.txt":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "User-agent: *\nAllow: /\n")
	case strings.HasPrefix(r.URL.Path, "/feed/"):
		id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/feed/"))
		if err != nil || id < 0 || id >= f.opts.feeds {
			http.NotFound(w, r)
			return
		}
		f.serveFeed(w, r, id)
	case r.URL.Path == "/_farm/cycle" && r.Method == http.MethodPost:
		n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "bad cycle", http.StatusBadRequest)
			return
		}
		f.cycle.Store(n)
	default:
		http.NotFound(w, r)
	}
}

func (f *farm) serveFeed(w http.ResponseWriter, r *http.Request, id int) {
	v := f.version(id)
	etag := fmt.Sprintf(`"f%d-v%d"`, id, v)
	lastMod := farmEpoch.Add(time.Duration(v) * time.Hour).Format(http.TimeFormat)
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", lastMod)
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if inm == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil &&
		!farmEpoch.Add(time.Duration(v)*time.Hour).After(ims) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	bw := bufio.NewWriterSize(w, 16<<10)
	writeFeed(bw, r.Host, id, v, f.opts.items)
	bw.Flush()
}

// writeFeed writes feed id at version v: items v … v+items-1, newest first.
func writeFeed(w *bufio.Writer, host string, id, v, items int) {
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Farm feed %d</title><link>http://%s/</link><description>Synthetic news feed %d</description><language>en</language>
`, id, host, id)
	for k := v + items - 1; k >= v; k-- {
		seed := mix(uint64(id)<<24 | uint64(k))
		link := fmt.Sprintf("http://%s/a/%d/%d", host, id, k)
		w.WriteString("<item><title>")
		xml.EscapeText(w, []byte(itemTitle(seed)))
		fmt.Fprintf(w, "</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate><description>",
			link, link, farmEpoch.Add(time.Duration(k)*10*time.Minute).Format(time.RFC1123Z))
		xml.EscapeText(w, []byte(itemText(seed)))
		w.WriteString("</description></item>\n")
	}
	w.WriteString("</channel></rss>\n")
}

// The synthetic news: mostly other subjects, some on mines and cluster
// munitions, so the default rules and the entity extractor do real work.
var (
	farmCountries = []string{"Poland", "Finland", "Estonia", "Latvia", "Lithuania", "Ukraine", "Norway",
		"Germany", "France", "Cambodia", "Angola", "Colombia", "the United States", "Sweden", "Canada"}
	farmTopics = []string{
		"%s announced its withdrawal from the Ottawa Convention banning anti-personnel landmines.",
		"The parliament of %s voted to leave the Convention on Cluster Munitions.",
		"%s will resume production of anti-personnel mines, the defence ministry said.",
		"Deminers in %s cleared another field of landmines and unexploded ordnance this week.",
		"Funding for humanitarian demining in %s was cut by the donor government.",
		"%s said it remains committed to the Mine Ban Treaty despite pressure from its neighbours.",
	}
	farmOther = []string{
		"The city council of %s approved a new budget for schools and roads.",
		"Farmers in %s expect a good harvest after a mild and wet spring.",
		"The football team from %s won its third match in a row on Saturday.",
		"A new railway line will connect the capital of %s with the coast by next year.",
		"Prices of electricity in %s fell for the second month, the statistics office said.",
		"Museums in %s reported record numbers of visitors during the summer festival.",
		"The central bank of %s kept its interest rate unchanged at the monthly meeting.",
		"Storms brought heavy rain and flooding to the north of %s overnight.",
	}
	farmFiller = []string{
		"Officials gave no further details.", "The decision follows months of debate.",
		"Observers expect more announcements in the coming weeks.", "Local media reported the news first.",
		"A spokesperson declined to comment on the figures.", "The plan still needs final approval.",
		"Critics said the timetable was unrealistic.", "Residents welcomed the news.",
	}
)

func itemTitle(seed uint64) string {
	c := farmCountries[seed%uint64(len(farmCountries))]
	if seed>>8%5 == 0 {
		return strings.TrimSuffix(fmt.Sprintf(farmTopics[(seed>>16)%uint64(len(farmTopics))], c), ".")
	}
	return strings.TrimSuffix(fmt.Sprintf(farmOther[(seed>>16)%uint64(len(farmOther))], c), ".")
}

// itemText is the item's description: its headline, a sentence of the
// farm's news, and sentences of pseudo-words, so that the texts are as
// different from each other as real summaries are (near-duplicate lookup
// costs depend on it).
func itemText(seed uint64) string {
	var b strings.Builder
	b.WriteString(itemTitle(seed))
	b.WriteString(". ")
	s := mix(seed + 1)
	fmt.Fprintf(&b, farmOther[(s>>16)%uint64(len(farmOther))], farmCountries[s%uint64(len(farmCountries))])
	for i := range 3 {
		b.WriteByte(' ')
		s = pseudoSentence(&b, mix(s+uint64(i)), 8, 10)
	}
	b.WriteByte(' ')
	b.WriteString(farmFiller[(s>>40)%uint64(len(farmFiller))])
	return b.String()
}

var farmSyllables = []string{"ka", "lo", "mi", "ne", "ra", "tu", "sol", "ven", "dar", "li",
	"mor", "pe", "sta", "gri", "bo", "fen", "ul", "an", "ter", "vis", "chu", "ro", "ma", "del"}

// pseudoWord makes one of about 330,000 words of two to four syllables.
func pseudoWord(s uint64) string {
	n := 2 + int(s%3)
	var b strings.Builder
	for i := range n {
		b.WriteString(farmSyllables[(s>>(8+5*i))%uint64(len(farmSyllables))])
	}
	return b.String()
}

// startFarm listens on every host address, on one port, and serves the farm
// until ctx ends.
func startFarm(ctx context.Context, opts farmOptions) (*farm, func(), error) {
	f := &farm{opts: opts}
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
		lns = nil
	}
	var lc net.ListenConfig
	// The first listener picks a free port; another address may already use
	// it, so a few ports are tried.
	for attempt := 0; len(lns) == 0 && attempt < 5; attempt++ {
		first, err := lc.Listen(ctx, "tcp", hostAddr(0)+":0")
		if err != nil {
			return nil, nil, fmt.Errorf("farm: listen: %w", err)
		}
		lns = append(lns, first)
		f.port = first.Addr().(*net.TCPAddr).Port
		for h := 1; h < opts.hosts; h++ {
			ln, err := lc.Listen(ctx, "tcp", fmt.Sprintf("%s:%d", hostAddr(h), f.port))
			if err != nil {
				closeAll()
				break
			}
			lns = append(lns, ln)
		}
	}
	if len(lns) == 0 {
		return nil, nil, fmt.Errorf("farm: no port free on all %d loopback hosts", opts.hosts)
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	for _, ln := range lns {
		wg.Go(func() { _ = srv.Serve(ln) })
	}
	stop := func() {
		_ = srv.Close()
		wg.Wait()
	}
	return f, stop, nil
}

// serveFarmChild is the -serve mode: the parent reads the port from the first
// line and closes our stdin to stop us.
func serveFarmChild(ctx context.Context, opts farmOptions, out io.Writer) error {
	f, stop, err := startFarm(ctx, opts)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(out, "farm port %d\n", f.port)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// farmHandle is the farm as the benchmark drives it, in this process or in a child.
type farmHandle struct {
	port    int
	setBase string // URL of the cycle control endpoint
	stop    func() error
	inProc  bool
}

func launchFarm(ctx context.Context, ff feedFarmFlags) (*farmHandle, error) {
	if ff.farmMode == "inprocess" {
		f, stop, err := startFarm(ctx, ff.farmOptions)
		if err != nil {
			return nil, err
		}
		return &farmHandle{port: f.port, setBase: fmt.Sprintf("http://%s:%d/_farm/cycle", hostAddr(0), f.port),
			stop: func() error { stop(); return nil }, inProc: true}, nil
	}
	if ff.farmMode != "child" {
		return nil, fmt.Errorf("feedfarm: -farm %q: want child or inprocess", ff.farmMode)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("feedfarm: re-exec: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, "feedfarm", "-serve",
		"-feeds", strconv.Itoa(ff.feeds), "-items", strconv.Itoa(ff.items),
		"-hosts", strconv.Itoa(ff.hosts), "-steady-changed", strconv.FormatFloat(ff.changed, 'g', -1, 64))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("feedfarm: child: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("feedfarm: child: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("feedfarm: start child %s: %w", exe, err)
	}
	stopChild := func() error {
		stdin.Close()
		return cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var port int
	if _, serr := fmt.Sscanf(line, "farm port %d", &port); err != nil || serr != nil {
		_ = stopChild()
		return nil, fmt.Errorf("feedfarm: child did not report its port (got %q): %w", line, errors.Join(err, serr))
	}
	return &farmHandle{port: port, setBase: fmt.Sprintf("http://%s:%d/_farm/cycle", hostAddr(0), port), stop: stopChild}, nil
}

func (h *farmHandle) setCycle(ctx context.Context, n int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.setBase+"?n="+strconv.Itoa(n), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("farm: set cycle %d: %w", n, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("farm: set cycle %d: %s", n, resp.Status)
	}
	return nil
}

// phase is one measured cycle of one contestant.
type phase struct {
	name        string
	wall        time.Duration
	cpu         time.Duration
	peakRSS     int64 // bytes, VmHWM
	peakAnon    int64 // bytes, RssAnon sampled
	rssExact    bool  // false: the process's lifetime peak, not this phase's
	fetched     int   // 200s
	notModified int
	articles    int // new articles indexed (pipeline) or items received (bare loop)
	errors      int
}

// meter measures wall time, CPU seconds and peak RSS of a phase. VmHWM is
// exact but counts file-backed pages, among them SQLite's memory-mapped
// database; a sampler also tracks anonymous memory (heaps, caches) apart.
type meter struct {
	start    time.Time
	cpu0     time.Duration
	rssReset bool
	done     chan struct{}
	sampled  chan int64 // peak RssAnon, once done is closed
}

// sampleEvery is how often RssAnon is read; a short peak between two reads
// is missed, which VmHWM then still shows.
const sampleEvery = 50 * time.Millisecond

func startMeter() meter {
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets VmHWM, so each phase gets its own peak.
	err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	m := meter{start: time.Now(), cpu0: cpuTime(), rssReset: err == nil,
		done: make(chan struct{}), sampled: make(chan int64, 1)}
	go func() {
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		peak := procStatus("RssAnon:")
		for {
			select {
			case <-t.C:
				peak = max(peak, procStatus("RssAnon:"))
			case <-m.done:
				m.sampled <- max(peak, procStatus("RssAnon:"))
				return
			}
		}
	}()
	return m
}

func (m meter) stop(p *phase) {
	p.wall = time.Since(m.start)
	p.cpu = cpuTime() - m.cpu0
	close(m.done)
	p.peakAnon = <-m.sampled
	p.peakRSS, p.rssExact = peakRSS(), m.rssReset
}

// procStatus reads one kB field of /proc/self/status, in bytes; 0 when absent.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS reads VmHWM, falling back to getrusage's maxrss.
func peakRSS() int64 {
	if n := procStatus("VmHWM:"); n > 0 {
		return n
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10
}

// pipeline is minewatch as `minewatch run` builds it, over the farm's feeds.
type pipeline struct {
	store *disk.Store
	mon   *monitor.Monitor
}

func newPipeline(ctx context.Context, cfg *config.Config, srcs []news.Source, dir string) (*pipeline, error) {
	fc := cfg.Fetch
	f, err := fetch.New(fetch.Options{
		UserAgent:          fc.UserAgentHeader(),
		Timeout:            fc.Timeout.Duration,
		MaxBodyBytes:       fc.MaxBodyBytes,
		AllowPrivate:       fc.AllowPrivate,
		PerHostConcurrency: fc.PerHostConcurrency,
		PerHostDelay:       fc.PerHostDelay.Duration,
		Retries:            fc.Retries,
		IgnoreRobots:       fc.IgnoreRobots,
	})
	if err != nil {
		return nil, fmt.Errorf("pipeline: fetcher: %w", err)
	}
	cl, err := farmClassifier(cfg)
	if err != nil {
		return nil, err
	}
	st, err := disk.Open(ctx, disk.Options{Dir: dir})
	if err != nil {
		return nil, fmt.Errorf("pipeline: open index in %s: %w", dir, err)
	}
	mon, err := monitor.New(monitor.Options{
		Sources:    srcs,
		Collector:  ingest.New(ingest.Options{Fetcher: f}),
		Classifier: cl,
		Store:      st,
		Workers:    fc.Workers,
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("pipeline: monitor: %w", err)
	}
	return &pipeline{store: st, mon: mon}, nil
}

// farmClassifier is cmd/minewatch's newClassifier: the config's topics and
// rules, with the entity extractor.
func farmClassifier(cfg *config.Config) (*classify.Classifier, error) {
	x, err := entities.New()
	if err != nil {
		return nil, fmt.Errorf("load gazetteer: %w", err)
	}
	opts := classify.Options{Entities: x}
	for _, t := range cfg.Topics {
		opts.Topics = append(opts.Topics, classify.TopicDef{ID: t.ID, Threshold: t.Threshold})
		for _, r := range t.Rules {
			opts.Rules = append(opts.Rules, classify.RuleText{
				ID: r.ID, Topic: t.ID, Query: r.Query, Language: r.Language, Weight: r.Weight,
				File: r.Pos.File, Line: r.Pos.Line, Col: r.Pos.Col,
			})
		}
	}
	cl, err := classify.New(opts)
	if err != nil {
		return nil, fmt.Errorf("compile rules: %w", err)
	}
	return cl, nil
}

func (p *pipeline) cycle(ctx context.Context, name string) (phase, error) {
	ph := phase{name: name}
	m := startMeter()
	outs, err := p.mon.RunOnce(ctx, nil, nil)
	m.stop(&ph)
	if err != nil {
		return ph, fmt.Errorf("%s: %w", name, err)
	}
	for _, o := range outs {
		switch {
		case o.Err != nil:
			ph.errors++
		case o.NotModified:
			ph.notModified++
		default:
			ph.fetched++
		}
		ph.articles += o.Indexed
	}
	return ph, nil
}

// bareLoop is the yardstick: plain net/http with the pipeline's concurrency
// and per-host politeness, conditional GETs, bodies read and dropped.
type bareLoop struct {
	client     *http.Client
	workers    int
	perHost    int
	delay      time.Duration
	validators []news.Validators

	mu    sync.Mutex
	hosts map[string]*bareHost
}

type bareHost struct {
	sem  chan struct{}
	next time.Time
}

func (b *bareLoop) turn(ctx context.Context, host string) (func(), error) {
	b.mu.Lock()
	h := b.hosts[host]
	if h == nil {
		h = &bareHost{sem: make(chan struct{}, b.perHost)}
		b.hosts[host] = h
	}
	b.mu.Unlock()
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	b.mu.Lock()
	now := time.Now()
	start := now
	if h.next.After(now) {
		start = h.next
	}
	h.next = start.Add(b.delay)
	b.mu.Unlock()
	if wait := start.Sub(now); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			<-h.sem
			return nil, ctx.Err()
		}
	}
	return func() { <-h.sem }, nil
}

// spreadOrder is the order the bare loop takes the URLs in: round-robin over
// their hosts, the best a simple polite loop can do, so that it is a fair
// yardstick for the monitor (which spreads its sources the same way).
func spreadOrder(urls []string) []int {
	var hosts []string
	byHost := map[string][]int{}
	for i, u := range urls {
		h := u
		if pu, err := url.Parse(u); err == nil {
			h = pu.Host
		}
		if _, ok := byHost[h]; !ok {
			hosts = append(hosts, h)
		}
		byHost[h] = append(byHost[h], i)
	}
	order := make([]int, 0, len(urls))
	for round := 0; len(order) < len(urls); round++ {
		for _, h := range hosts {
			if q := byHost[h]; round < len(q) {
				order = append(order, q[round])
			}
		}
	}
	return order
}

func (b *bareLoop) cycle(ctx context.Context, name string, urls []string) (phase, error) {
	ph := phase{name: name}
	var fetched, notMod, items, errs atomic.Int64
	m := startMeter()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range b.workers {
		wg.Go(func() {
			for i := range jobs {
				switch status, n, err := b.get(ctx, i, urls[i]); {
				case err != nil:
					errs.Add(1)
				case status == http.StatusNotModified:
					notMod.Add(1)
				default:
					fetched.Add(1)
					items.Add(int64(n))
				}
			}
		})
	}
	for _, i := range spreadOrder(urls) {
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
	m.stop(&ph)
	ph.fetched, ph.notModified, ph.articles, ph.errors = int(fetched.Load()), int(notMod.Load()), int(items.Load()), int(errs.Load())
	return ph, ctx.Err()
}

// get fetches one URL conditionally and counts the items in a 200's body.
func (b *bareLoop) get(ctx context.Context, i int, u string) (int, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	release, err := b.turn(ctx, req.URL.Host)
	if err != nil {
		return 0, 0, err
	}
	defer release()
	if v := b.validators[i]; v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v := b.validators[i]; v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		b.validators[i] = news.Validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
		return resp.StatusCode, strings.Count(string(body), "<item>"), nil
	case http.StatusNotModified:
		return resp.StatusCode, 0, nil
	}
	return resp.StatusCode, 0, fmt.Errorf("GET %s: %s", u, resp.Status)
}

func runFeedFarm(ctx context.Context, ff feedFarmFlags, out io.Writer) error {
	cfg := config.Default()
	cfg.Fetch.AllowPrivate = append(cfg.Fetch.AllowPrivate, "127.0.0.0/8")
	switch {
	case ff.perHostDelay < 0:
		// fetch.Options reads a negative delay as none; config's zero means its default.
		cfg.Fetch.PerHostDelay.Duration = -1
	case ff.perHostDelay > 0:
		cfg.Fetch.PerHostDelay.Duration = ff.perHostDelay
	}
	if ff.workers > 0 {
		cfg.Fetch.Workers = ff.workers
	}
	delay := max(cfg.Fetch.PerHostDelay.Duration, 0)

	dir := ff.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "minewatch-feedfarm-")
		if err != nil {
			return fmt.Errorf("feedfarm: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	fh, err := launchFarm(ctx, ff)
	if err != nil {
		return err
	}
	defer fh.stop()
	fm := &farm{opts: ff.farmOptions, port: fh.port}
	urls := make([]string, ff.feeds)
	srcs := make([]news.Source, ff.feeds)
	for i := range urls {
		urls[i] = fm.feedURL(i)
		srcs[i] = news.Source{ID: fmt.Sprintf("farm-%05d", i), Name: fmt.Sprintf("Farm feed %d", i),
			Kind: news.KindFeed, URL: urls[i], Schedule: config.DefaultFeedSchedule}
	}

	p, err := newPipeline(ctx, cfg, srcs, dir)
	if err != nil {
		return err
	}
	defer p.store.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	bare := &bareLoop{client: &http.Client{Transport: tr}, workers: cfg.Fetch.Workers,
		perHost: cfg.Fetch.PerHostConcurrency, delay: delay,
		validators: make([]news.Validators, len(urls)), hosts: map[string]*bareHost{}}

	var phases []phase
	for c, label := range []string{"first cycle", "steady cycle"} {
		if err := fh.setCycle(ctx, c); err != nil {
			return err
		}
		bp, err := bare.cycle(ctx, label+", bare loop", urls)
		if err != nil {
			return err
		}
		stopProfile, err := startCPUProfile(ff.cpuProfile, []string{"first", "steady"}[c])
		if err != nil {
			return err
		}
		pp, err := p.cycle(ctx, label+", pipeline")
		stopProfile()
		if err != nil {
			return err
		}
		phases = append(phases, bp, pp)
	}
	if ff.memProfile != "" {
		if err := writeHeapProfile(ff.memProfile); err != nil {
			return err
		}
	}
	st, err := p.store.Stats(ctx)
	if err != nil {
		return fmt.Errorf("feedfarm: %w", err)
	}
	writeFarmReport(out, ff, cfg, fh.inProc, phases, st)
	return nil
}

// startCPUProfile profiles one pipeline cycle into path.cycle; it does
// nothing when path is "".
func startCPUProfile(path, cycle string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path + "." + cycle)
	if err != nil {
		return nil, fmt.Errorf("feedfarm: cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("feedfarm: cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("feedfarm: heap profile: %w", err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		return fmt.Errorf("feedfarm: heap profile: %w", err)
	}
	return nil
}

func writeFarmReport(out io.Writer, ff feedFarmFlags, cfg *config.Config, inProc bool, phases []phase, st disk.Stats) {
	where := "in a child process (figures are the pipeline's alone)"
	if inProc {
		where = "in this process (its CPU and memory are in the figures)"
	}
	layout := "interleaved (feed i on host i mod hosts)"
	if ff.grouped {
		layout = "grouped (a host's feeds listed together)"
	}
	fmt.Fprintf(out, "feed farm: %d feeds × %d items on %d loopback hosts, sources %s, served %s\n",
		ff.feeds, ff.items, ff.hosts, layout, where)
	fmt.Fprintf(out, "steady cycle: %.0f%% of feeds have one new item, the rest answer 304; GOMAXPROCS=%d, %s\n",
		ff.changed*100, runtime.GOMAXPROCS(0), runtime.Version())
	delay := max(cfg.Fetch.PerHostDelay.Duration, 0)
	perHost := (ff.feeds + ff.hosts - 1) / ff.hosts
	fmt.Fprintf(out, "fetch: %d workers, %d request(s) at a time per host, %s apart: politeness alone needs ≥ %s per cycle (%d feeds per host)\n\n",
		cfg.Fetch.Workers, cfg.Fetch.PerHostConcurrency, delay, time.Duration(perHost-1)*delay, perHost)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\twall\tCPU s\tpeak RSS\tof it anon\t200\t304\tarticles/items\terrors\t")
	for _, p := range phases {
		rss := fmt.Sprintf("%.0f MB", float64(p.peakRSS)/1e6)
		if !p.rssExact {
			rss += "*"
		}
		fmt.Fprintf(tw, "%s\t%.2fs\t%.2f\t%s\t%.0f MB\t%d\t%d\t%d\t%d\t\n", p.name, p.wall.Seconds(), p.cpu.Seconds(), rss,
			float64(p.peakAnon)/1e6, p.fetched, p.notModified, p.articles, p.errors)
	}
	tw.Flush()
	if len(phases) == 4 && phases[0].wall > 0 && phases[2].wall > 0 {
		fmt.Fprintf(out, "\npipeline ÷ bare loop, wall: first cycle %.2f×, steady cycle %.2f×\n",
			phases[1].wall.Seconds()/phases[0].wall.Seconds(), phases[3].wall.Seconds()/phases[2].wall.Seconds())
		s := phases[3]
		fmt.Fprintf(out, "goals for the steady cycle: wall ≤ 15 s: %s; peak RSS ≤ 250 MB: %s (anonymous memory alone: %s); ≤ 2× bare loop: %s\n",
			met(s.wall <= 15*time.Second), met(s.peakRSS <= 250e6), met(s.peakAnon <= 250e6),
			met(s.wall.Seconds() <= 2*phases[2].wall.Seconds()))
	}
	fmt.Fprintf(out, "index after both cycles: %d documents, %d relevant, %d events\n", st.Documents, st.Relevant, st.Events)
	fmt.Fprintln(out, "peak RSS is VmHWM: it counts file pages, SQLite's memory-mapped database among them; \"of it anon\" is RssAnon, sampled every 50 ms")
	if len(phases) > 0 && !phases[0].rssExact {
		fmt.Fprintln(out, "* /proc/self/clear_refs was not writable: peak RSS is the process's lifetime peak")
	}
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

// pseudoSentence writes a capitalised sentence of minWords to minWords+spread-1
// pseudo-words, drawn from seed s, and returns the generator's state.
func pseudoSentence(b *strings.Builder, s uint64, minWords, spread int) uint64 {
	words := minWords + int(s%uint64(spread))
	for w := range words {
		s = mix(s)
		word := pseudoWord(s)
		if w == 0 {
			word = strings.ToUpper(word[:1]) + word[1:]
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(word)
	}
	b.WriteByte('.')
	return s
}

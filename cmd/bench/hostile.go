package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/news"
)

// hostileCase is one hostile server behaviour, run as a feed source, or as
// the page of a feed's only item when page is true.
type hostileCase struct {
	name    string
	page    bool
	handler http.HandlerFunc
}

// hostileResult is what one case did to the fetch + parse path.
type hostileResult struct {
	name      string
	outcome   string // "source failed", "item failed, feed text kept", "ok"
	class     string
	detail    string
	wall, cpu time.Duration
	heapPeak  uint64 // peak heap objects above the level before the case
	rssPeak   int64  // peak RSS above the level before the case; 0 when unknown
}

func benchHostile(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("hostile", flag.ContinueOnError)
	timeout := fs.Duration("timeout", fetch.DefaultTimeout, "fetch timeout per attempt (production: 30s)")
	retries := fs.Int("retries", fetch.DefaultRetries, "retries of transient failures (production: 2; -1 for none)")
	only := fs.String("cases", "", "comma-separated cases to run, named as in the table, lower case, other characters as '-' (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cases := hostileCases()
	if *only != "" {
		want := map[string]bool{}
		for n := range strings.SplitSeq(*only, ",") {
			want[strings.TrimSpace(n)] = true
		}
		var sel []hostileCase
		for _, c := range cases {
			if want[slug(c.name)] {
				sel = append(sel, c)
			}
		}
		if len(sel) == 0 {
			return fmt.Errorf("no case matches %q", *only)
		}
		cases = sel
	}

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, c := range cases {
		mux.HandleFunc("/case/"+slug(c.name), c.handler)
		mux.HandleFunc("/itemfeed/"+slug(c.name), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Item feed</title>
<item><title>Lithuania leaves the Convention on Cluster Munitions</title><link>%s/case/%s</link>
<description>The feed's own text.</description></item></channel></rss>`, srv.URL, slug(c.name))
		})
	}
	mux.HandleFunc("/robots.txt", http.NotFound)

	f, err := fetch.New(fetch.Options{
		AllowPrivate: []string{"127.0.0.1"},
		Timeout:      *timeout,
		Retries:      *retries,
		// One request per case: the politeness delay would only add waits
		// between cases, not change what a case costs.
		PerHostDelay: -1,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	in := ingest.New(ingest.Options{Fetcher: f, Logger: slog.New(slog.DiscardHandler)})

	fmt.Fprintf(out, "## Hostile servers: fetch + parse with production defaults\n\n")
	fmt.Fprintf(out, "Cap %d MB per body, timeout %s per attempt, %d retries; Go %s, GOMAXPROCS %d. "+
		"Server in the same process (its work is in the CPU column too).\n\n",
		fetch.DefaultMaxBodyBytes>>20, *timeout, max(*retries, 0), runtime.Version(), runtime.GOMAXPROCS(0))
	fmt.Fprintln(out, "| case | outcome | class | wall | CPU | peak heap Δ | peak RSS Δ |")
	fmt.Fprintln(out, "|---|---|---|---:|---:|---:|---:|")
	for _, c := range cases {
		if err := ctx.Err(); err != nil {
			return err
		}
		src := news.Source{ID: slug(c.name), Kind: news.KindFeed, URL: srv.URL + "/case/" + slug(c.name)}
		if c.page {
			src.URL, src.FetchPages = srv.URL+"/itemfeed/"+slug(c.name), true
		}
		r := measureHostile(c.name, func() (ingest.Result, error) {
			return in.Collect(ctx, src, news.SourceState{}, nil)
		})
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %s | %s |\n", r.name, r.outcome, r.class,
			r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond), mb(r.heapPeak), mb(r.rssPeak))
	}
	return nil
}

// slug names a case in URLs and in -cases: "50 MB page" is "50-mb-page".
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func mb[N int64 | uint64](b N) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f MB", float64(b)/(1<<20))
}

// measureHostile runs one case, sampling the heap every millisecond and
// reading the kernel's peak RSS (VmHWM, reset before the case through
// /proc/self/clear_refs).
func measureHostile(name string, run func() (ingest.Result, error)) hostileResult {
	runtime.GC()
	debug.FreeOSMemory()
	rssBase := resetPeakRSS()
	heapBase := heapObjects()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if h := heapObjects(); h > peak {
				peak = h
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	cpu0 := cpuTime()
	start := time.Now()
	res, err := run()
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	close(stop)
	wg.Wait()

	r := hostileResult{name: name, wall: wall, cpu: cpu}
	if peak > heapBase {
		r.heapPeak = peak - heapBase
	}
	if hwm := peakRSS(); rssBase > 0 && hwm > rssBase {
		r.rssPeak = hwm - rssBase
	}
	switch {
	case err != nil:
		r.outcome, r.class, r.detail = "source failed", fetch.Class(err), err.Error()
	case len(res.ItemErrors) > 0:
		r.outcome, r.class = "item failed, feed text kept", fetch.Class(res.ItemErrors[0])
		r.detail = res.ItemErrors[0].Error()
		if len(res.Articles) == 0 {
			r.outcome = "item failed, nothing kept"
		}
	default:
		r.outcome = fmt.Sprintf("ok: %d items, %d articles", res.Items, len(res.Articles))
		r.class = "—"
	}
	return r
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

func heapObjects() uint64 {
	metrics.Read(heapSample)
	return heapSample[0].Value.Uint64()
}

// resetPeakRSS resets the kernel's peak-RSS mark (Linux: "5" to clear_refs)
// and returns the current RSS; 0 when either is unavailable. cpuTime,
// peakRSS and procStatus are feedfarm's.
func resetPeakRSS() int64 {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0
	}
	return procStatus("VmRSS:")
}

// hostileCases are the servers of issue #8.2. Bombs expand to 10 GB and are
// produced lazily, so the server stops when the client hangs up.
func hostileCases() []hostileCase {
	const bomb = 10 << 30
	zeros := make([]byte, 1<<20)
	compressed := func(coding string, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("Content-Encoding", coding)
		var zw io.WriteCloser
		switch coding {
		case "gzip":
			zw, _ = gzip.NewWriterLevel(w, gzip.BestCompression)
		case "deflate":
			zw, _ = flate.NewWriter(w, flate.BestCompression)
		case "br":
			zw = brotli.NewWriterLevel(w, brotli.BestSpeed)
		}
		defer zw.Close()
		for range bomb / len(zeros) {
			if _, err := zw.Write(zeros); err != nil {
				return
			}
		}
	}
	html := func(w http.ResponseWriter) { w.Header().Set("Content-Type", "text/html; charset=utf-8") }
	var many bytes.Buffer
	many.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>`)
	for i := range 100_000 {
		fmt.Fprintf(&many, "<item><title>Item %d</title><link>https://example.org/n/%d</link></item>\n", i, i)
	}
	many.WriteString("</channel></rss>")
	var nested bytes.Buffer
	nested.WriteString("<html><head><title>Nested</title></head><body>")
	nested.WriteString(strings.Repeat("<div>", 100_000))
	nested.WriteString("<p>Estonia's parliament approved leaving the Ottawa Convention.</p>")
	nested.WriteString(strings.Repeat("</div>", 100_000))
	nested.WriteString("</body></html>")

	return []hostileCase{
		{name: "gzip bomb (10 GB of zeros)", handler: func(w http.ResponseWriter, r *http.Request) { compressed("gzip", w) }},
		{name: "deflate bomb (10 GB)", handler: func(w http.ResponseWriter, r *http.Request) { compressed("deflate", w) }},
		{name: "brotli bomb (10 GB)", handler: func(w http.ResponseWriter, r *http.Request) { compressed("br", w) }},
		{name: "endless body", handler: func(w http.ResponseWriter, r *http.Request) {
			chunk := bytes.Repeat([]byte("<item><title>again</title></item>\n"), 1000)
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}},
		{name: "slow drip (1 byte/s)", handler: func(w http.ResponseWriter, r *http.Request) {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				if _, err := w.Write([]byte("<")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-t.C:
				}
			}
		}},
		{name: "headers never end (1 line/s)", handler: endlessHeaderLines(time.Second)},
		{name: "headers never end (fast)", handler: endlessHeaderLines(0)},
		{name: "redirect loop", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path+"?n="+r.URL.Query().Get("n")+"1", http.StatusFound)
		}},
		{name: "redirect to cloud metadata", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		}},
		{name: "100,000-item feed", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write(many.Bytes())
		}},
		{name: "billion laughs", handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "lol">`+
				`<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">`+
				`<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>`+
				`<rss version="2.0"><channel><title>&e;</title><item><title>&e;</title>`+
				`<link>https://example.org/laughs</link></item></channel></rss>`)
		}},
		{name: "external entity (file:///etc/passwd)", handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>`+
				`<rss version="2.0"><channel><title>&x;</title><item><title>a &x;</title>`+
				`<link>https://example.org/xxe</link></item></channel></rss>`)
		}},
		{name: "feed that never closes", handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Open</title><item>`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}},
		{name: "invalid UTF-8 feed", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
			w.Write([]byte("<rss version=\"2.0\"><channel><title>\xff\xfe</title><item><title>a\xc3\x28b\x80</title>" +
				"<link>https://example.org/utf8</link><description>\xed\xa0\x80</description></item></channel></rss>"))
		}},
		{name: "50 MB page", page: true, handler: func(w http.ResponseWriter, r *http.Request) {
			html(w)
			p := bytes.Repeat([]byte("<p>Ottawa Convention withdrawal debate continues.</p>\n"), 1000)
			for sent := 0; sent < 50<<20; sent += len(p) {
				if _, err := w.Write(p); err != nil {
					return
				}
			}
		}},
		{name: "deeply nested HTML (100k levels)", page: true, handler: func(w http.ResponseWriter, r *http.Request) {
			html(w)
			w.Write(nested.Bytes())
		}},
		{name: "invalid UTF-8 page", page: true, handler: func(w http.ResponseWriter, r *http.Request) {
			html(w)
			w.Write([]byte("<html><body><article><p>Seimas \xff voted \xc3\x28 to leave the CCM \xed\xa0\x80.</p></article></body></html>"))
		}},
	}
}

// endlessHeaderLines answers with a status line and header lines that never
// stop, one per tick (0: as fast as the client reads).
func endlessHeaderLines(tick time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		bw := bufio.NewWriter(rw)
		bw.WriteString("HTTP/1.1 200 OK\r\n")
		line := "X-Padding: " + strings.Repeat("a", 1000) + "\r\n"
		for {
			if _, err := bw.WriteString(line); err != nil {
				return
			}
			if err := bw.Flush(); err != nil {
				return
			}
			if tick > 0 {
				select {
				case <-r.Context().Done():
					return
				case <-time.After(tick):
				}
			}
		}
	}
}

package monitor

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/ingest"
	"github.com/minewatch/minewatch/ingest/fetch"
	"github.com/minewatch/minewatch/news"
)

// hostileFarm serves good feeds beside hostile ones on one allowlisted
// httptest server.
func hostileFarm(t *testing.T) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/good/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/good/"), ".xml")
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%[1]s</title>
<item><title>%[1]s: Lithuania to withdraw from the Ottawa Convention</title><link>%[2]s/news/%[1]s-1</link><description>Vote.</description></item>
<item><title>%[1]s: weather</title><link>%[2]s/news/%[1]s-2</link><description>Rain.</description></item>
</channel></rss>`, name, srv.URL)
	})
	mux.HandleFunc("/hostile/bomb.xml", func(w http.ResponseWriter, r *http.Request) {
		var member bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
		zw.Write(make([]byte, 1<<20))
		zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		for range 10 << 10 { // 10 GB once decompressed
			if _, err := w.Write(member.Bytes()); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/hostile/endless.xml", func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("<item><title>x</title></item>"), 1000)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/hostile/drip.xml", func(w http.ResponseWriter, r *http.Request) {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			if _, err := w.Write([]byte("<")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	})
	mux.HandleFunc("/hostile/headers.xml", func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\n")
		line := "X-Padding: " + strings.Repeat("a", 1000) + "\r\n"
		for {
			if _, err := buf.WriteString(line); err != nil {
				return
			}
			if err := buf.Flush(); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/hostile/loop.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/hostile/loop.xml?again="+r.URL.Query().Get("again")+"x", http.StatusFound)
	})
	mux.HandleFunc("/hostile/metadata.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/hostile/unclosed.xml", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Cut</title><item><title>Lithuania to withdraw`)
	})
	mux.HandleFunc("/hostile/many.xml", func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>`)
		for i := range 100_000 {
			fmt.Fprintf(&b, "<item><title>Item %d</title><link>%s/news/many-%d</link></item>", i, srv.URL, i)
		}
		b.WriteString("</channel></rss>")
		w.Write(b.Bytes())
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestHostileSourceAmongGoodOnes runs one cycle over good feeds and hostile
// ones through the real ingester and fetcher. Every hostile source ends with
// its error class in the source state; every good source's articles are
// indexed all the same.
func TestHostileSourceAmongGoodOnes(t *testing.T) {
	srv := hostileFarm(t)
	f, err := fetch.New(fetch.Options{AllowPrivate: []string{"127.0.0.1"}, PerHostDelay: -1, Retries: -1,
		IgnoreRobots: true, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(ingest.Options{Fetcher: f})

	hostile := map[string]string{ // source id → expected class
		"bomb":     "too_large",
		"endless":  "too_large",
		"drip":     "timeout",
		"headers":  "too_large",
		"loop":     "http",
		"metadata": "private",
		"unclosed": "parse",
	}
	good := []string{"good-a", "good-b", "good-c"}
	var srcs []news.Source
	add := func(id, path string) {
		srcs = append(srcs, news.Source{ID: id, Kind: news.KindFeed, URL: srv.URL + path, Schedule: "@every 15m"})
	}
	for _, id := range good {
		add(id, "/good/"+id+".xml")
	}
	for id := range hostile {
		add(id, "/hostile/"+id+".xml")
	}
	add("many", "/hostile/many.xml")

	st := newMemStore()
	mon, err := New(Options{Sources: srcs, Collector: in, Classifier: keywordClassifier{}, Store: st, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := mon.RunOnce(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Outcome{}
	for _, o := range outs {
		byID[o.SourceID] = o
	}
	for id, class := range hostile {
		o := byID[id]
		if o.Err == nil || o.ErrClass != class {
			t.Errorf("%s: class %q (%v), want %q", id, o.ErrClass, o.Err, class)
		}
		if s := st.states[id]; s.ConsecutiveFailures != 1 || s.LastError == "" {
			t.Errorf("%s: state %+v, want one failure with its error", id, s)
		}
	}
	for _, id := range good {
		o := byID[id]
		if o.Err != nil || o.Indexed != 2 {
			t.Errorf("%s: %+v, want 2 articles indexed", id, o)
		}
		for i := 1; i <= 2; i++ {
			if !st.hasURL(fmt.Sprintf("%s/news/%s-%d", srv.URL, id, i)) {
				t.Errorf("%s: article %d not indexed", id, i)
			}
		}
	}
	if o := byID["many"]; o.Err != nil || o.Items != 100_000 || o.Indexed != ingest.DefaultMaxNewItems {
		t.Errorf("many: err %v, %d items, %d indexed; want 100000 listed, %d indexed",
			o.Err, o.Items, o.Indexed, ingest.DefaultMaxNewItems)
	}
}

func (s *memStore) hasURL(u string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.docs {
		if d.URL == u {
			return true
		}
	}
	return false
}

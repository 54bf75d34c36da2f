package fetch

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

// bombBytes is what the decompression bombs would expand to: 10 GB of
// zeros. The servers produce it lazily and stop when the client hangs up,
// so the test costs what the client reads, not 10 GB.
const bombBytes = 10 << 30

// zeroWriter writes n zero bytes to w through the given compressor, in 1 MB
// pieces, stopping at the first error (the client hung up).
func writeZeros(w io.Writer, n int64) (int64, error) {
	zeros := make([]byte, 1<<20)
	var done int64
	for done < n {
		k, err := w.Write(zeros[:min(int64(len(zeros)), n-done)])
		done += int64(k)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// bombHandler serves bombBytes of zeros compressed with coding. produced
// counts the uncompressed bytes the server got to before the client left.
func bombHandler(coding string, produced *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		header := coding
		if coding == "raw-deflate" {
			header = "deflate"
		}
		w.Header().Set("Content-Encoding", header)
		w.Header().Set("Content-Type", "application/rss+xml")
		var zw io.WriteCloser
		switch coding {
		case "gzip":
			zw, _ = gzip.NewWriterLevel(w, gzip.BestCompression)
		case "deflate":
			zw, _ = zlib.NewWriterLevel(w, zlib.BestCompression)
		case "raw-deflate":
			zw, _ = flate.NewWriter(w, flate.BestCompression)
		case "br":
			zw = brotli.NewWriterLevel(w, brotli.BestSpeed)
		}
		n, _ := writeZeros(zw, bombBytes)
		produced.Add(n)
		zw.Close()
	}
}

// gzipMembers is a cheaper gzip bomb: one member of 1 MB of zeros repeated;
// gzip readers concatenate members, as RFC 1952 says they must.
func gzipMembers(produced *atomic.Int64) http.HandlerFunc {
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	writeZeros(zw, 1<<20)
	zw.Close()
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		for range bombBytes >> 20 {
			if _, err := w.Write(member.Bytes()); err != nil {
				return
			}
			produced.Add(1 << 20)
		}
	}
}

// endless writes a body that never ends, as fast as the client reads.
func endless(w http.ResponseWriter, r *http.Request) {
	chunk := bytes.Repeat([]byte("<item><title>again</title></item>\n"), 1000)
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// drip writes one byte per tick until the client leaves.
func drip(tick time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.WriteHeader(http.StatusOK)
		t := time.NewTicker(tick)
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
	}
}

// endlessHeaders sends a status line and then header lines that never stop,
// one per tick (0: as fast as the client takes them).
func endlessHeaders(tick time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\n")
		var t *time.Ticker
		if tick > 0 {
			t = time.NewTicker(tick)
			defer t.Stop()
		}
		line := "X-Padding: " + strings.Repeat("a", 1000) + "\r\n"
		for i := 0; ; i++ {
			if _, err := buf.WriteString(line); err != nil {
				return
			}
			if err := buf.Flush(); err != nil {
				return
			}
			if t != nil {
				<-t.C
			}
		}
	}
}

// garbage answers with bytes that are not HTTP.
func garbage(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	buf.Write(bytes.Repeat([]byte{0, 0xff, '\n'}, 4096))
	buf.Flush()
}

// earlyHints sends 103 responses without end.
func earlyHints(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	br := bufio.NewWriter(buf)
	for range 10000 {
		if _, err := br.WriteString("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"); err != nil {
			return
		}
		if err := br.Flush(); err != nil {
			return
		}
	}
}

// TestHostileServers runs each hostile server against a fetcher with a 1 MB
// cap (and a short timeout where timing out is the expected end). Each must end with an error of the expected class;
// that Fetch returned at all is the "bounded time" half, the cap the
// "bounded memory" half (a body over it is never kept).
func TestHostileServers(t *testing.T) {
	var produced atomic.Int64
	mux := http.NewServeMux()
	for _, c := range []string{"gzip", "deflate", "raw-deflate", "br"} {
		mux.HandleFunc("/bomb/"+c, bombHandler(c, &produced))
	}
	mux.HandleFunc("/bomb/gzip-members", gzipMembers(&produced))
	// Content-Encoding: gzip, gzip: a small bomb wrapped in another.
	var inner bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&inner, gzip.BestCompression)
	writeZeros(zw, 16<<20)
	zw.Close()
	mux.HandleFunc("/bomb/gzip-in-gzip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip, gzip")
		ow := gzip.NewWriter(w)
		ow.Write(inner.Bytes())
		ow.Close()
	})
	mux.HandleFunc("/endless", endless)
	mux.HandleFunc("/endless-declared", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(50<<20))
		endless(w, r)
	})
	mux.HandleFunc("/page-50mb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>")
		p := []byte(strings.Repeat("<p>Ottawa Convention withdrawal. </p>\n", 1000))
		for sent := 0; sent < 50<<20; sent += len(p) {
			if _, err := w.Write(p); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/drip", drip(time.Second))
	mux.HandleFunc("/headers-slow", endlessHeaders(time.Second))
	mux.HandleFunc("/headers-fast", endlessHeaders(0))
	mux.HandleFunc("/garbage", garbage)
	mux.HandleFunc("/early-hints", earlyHints)
	mux.HandleFunc("/self-redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/self-redirect", http.StatusFound)
	})
	mux.HandleFunc("/redirect/", func(w http.ResponseWriter, r *http.Request) {
		// Endless and never the same URL twice.
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/redirect/"))
		http.Redirect(w, r, fmt.Sprintf("/redirect/%d", n+1), http.StatusMovedPermanently)
	})
	mux.HandleFunc("/redirect-query", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/redirect-query?x="+r.URL.Query().Get("x")+"x", http.StatusTemporaryRedirect)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		path  string
		class string
		want  error // nil: any error of the class
	}{
		{"/bomb/gzip", "too_large", ErrTooLarge},
		{"/bomb/deflate", "too_large", ErrTooLarge},
		{"/bomb/raw-deflate", "too_large", ErrTooLarge},
		{"/bomb/br", "too_large", ErrTooLarge},
		{"/bomb/gzip-members", "too_large", ErrTooLarge},
		{"/bomb/gzip-in-gzip", "too_large", ErrTooLarge},
		{"/endless", "too_large", ErrTooLarge},
		{"/endless-declared", "too_large", ErrTooLarge},
		{"/page-50mb", "too_large", ErrTooLarge},
		{"/drip", "timeout", nil},
		{"/headers-slow", "timeout", nil},
		{"/headers-fast", "too_large", nil},
		{"/garbage", "other", nil},
		{"/early-hints", "other", nil},
		{"/self-redirect", "http", ErrTooManyRedirects},
		{"/redirect/0", "http", ErrTooManyRedirects},
		{"/redirect-query", "http", ErrTooManyRedirects},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			// Only the cases that end by timing out get a short timeout; the
			// others must end on their own, however loaded the machine.
			timeout := DefaultTimeout
			if tt.class == "timeout" {
				timeout = 300 * time.Millisecond
			}
			f, _ := newFetcher(t, Options{IgnoreRobots: true, MaxBodyBytes: 1 << 20, Timeout: timeout})
			resp, err := f.Fetch(context.Background(), Request{URL: srv.URL + tt.path})
			if err == nil {
				t.Fatalf("no error; got %d bytes", len(resp.Body))
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if got := Class(err); got != tt.class {
				t.Errorf("Class = %q, want %q: %v", got, tt.class, err)
			}
		})
	}
	if p := produced.Load(); p >= bombBytes {
		t.Errorf("a bomb server produced all of its %d bytes: the client read it to the end", p)
	}
}

// TestHostileRetriesBounded shows that a transient hostile failure (a slow
// drip times out) is tried 1 + Retries times and then given up.
func TestHostileRetriesBounded(t *testing.T) {
	var requests atomic.Int32
	d := drip(time.Second)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		d(w, r)
	}))
	defer srv.Close()
	f, sl := newFetcher(t, Options{IgnoreRobots: true, Timeout: 100 * time.Millisecond, Retries: 2})
	_, err := f.Fetch(context.Background(), Request{URL: srv.URL})
	if Class(err) != "timeout" {
		t.Fatalf("Class = %q: %v", Class(err), err)
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	if n := len(sl.all()); n != 2 {
		t.Errorf("%d backoff waits, want 2", n)
	}
}

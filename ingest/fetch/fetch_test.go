package fetch

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/minewatch/minewatch/news"
)

// sleeps records the waits a Fetcher asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newFetcher builds a Fetcher for httptest servers: loopback allowed, no
// per-host delay, no retries unless opts says otherwise, and no real waits.
func newFetcher(t *testing.T, opts Options) (*Fetcher, *sleeps) {
	t.Helper()
	if opts.AllowPrivate == nil {
		opts.AllowPrivate = []string{"127.0.0.1"}
	}
	if opts.PerHostDelay == 0 {
		opts.PerHostDelay = -1
	}
	if opts.Retries == 0 {
		opts.Retries = -1
	}
	f, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &sleeps{}
	f.sleep = s.sleep
	f.jitter = func() float64 { return 0.5 }
	return f, s
}

func TestConditionalGET(t *testing.T) {
	const etag = `"v1"`
	const lastMod = "Wed, 25 Jun 2025 10:00:00 GMT"
	var mu sync.Mutex
	var seen []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		if r.Header.Get("If-None-Match") == etag ||
			(r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Modified-Since") == lastMod) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		io.WriteString(w, "<rss/>")
	}))
	defer srv.Close()
	f, _ := newFetcher(t, Options{})

	tests := []struct {
		name         string
		in           news.Validators
		wantNotMod   bool
		wantINM      string
		wantIMS      string
		wantValidOut news.Validators
	}{
		{"first fetch sends no validators", news.Validators{}, false, "", "", news.Validators{ETag: etag, LastModified: lastMod}},
		{"etag matches", news.Validators{ETag: etag, LastModified: lastMod}, true, etag, lastMod, news.Validators{ETag: etag, LastModified: lastMod}},
		{"last-modified only", news.Validators{LastModified: lastMod}, true, "", lastMod, news.Validators{ETag: etag, LastModified: lastMod}},
		{"stale etag", news.Validators{ETag: `"v0"`}, false, `"v0"`, "", news.Validators{ETag: etag, LastModified: lastMod}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/feed", Validators: tt.in, Accept: "application/rss+xml"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.NotModified != tt.wantNotMod {
				t.Errorf("NotModified = %v, want %v", resp.NotModified, tt.wantNotMod)
			}
			if !tt.wantNotMod && (string(resp.Body) != "<rss/>" || resp.Status != 200 || !strings.HasPrefix(resp.ContentType, "application/rss+xml")) {
				t.Errorf("response = %d %q %q", resp.Status, resp.ContentType, resp.Body)
			}
			if resp.Validators != tt.wantValidOut {
				t.Errorf("Validators = %+v, want %+v", resp.Validators, tt.wantValidOut)
			}
			mu.Lock()
			h := seen[i]
			mu.Unlock()
			if _, ok := h["If-None-Match"]; ok != (tt.wantINM != "") || h.Get("If-None-Match") != tt.wantINM {
				t.Errorf("If-None-Match = %q (present %v), want %q", h.Get("If-None-Match"), ok, tt.wantINM)
			}
			if _, ok := h["If-Modified-Since"]; ok != (tt.wantIMS != "") || h.Get("If-Modified-Since") != tt.wantIMS {
				t.Errorf("If-Modified-Since = %q, want %q", h.Get("If-Modified-Since"), tt.wantIMS)
			}
			if h.Get("User-Agent") != DefaultUserAgent || h.Get("Accept") != "application/rss+xml" ||
				h.Get("Accept-Encoding") != "gzip, deflate, br" {
				t.Errorf("request headers = %v", h)
			}
		})
	}
}

func TestCacheHeaders(t *testing.T) {
	expires := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		headers     map[string]string
		wantValid   news.Validators
		wantMaxAge  time.Duration
		wantExpires time.Time
	}{
		{"etag and max-age", map[string]string{"ETag": `W/"x"`, "Cache-Control": "public, max-age=600"},
			news.Validators{ETag: `W/"x"`}, 10 * time.Minute, time.Time{}},
		{"expires zero clears validators", map[string]string{"ETag": `"x"`, "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT", "Expires": "0"},
			news.Validators{}, 0, time.Time{}},
		{"no-store clears validators", map[string]string{"ETag": `"x"`, "Cache-Control": "no-store"},
			news.Validators{}, 0, time.Time{}},
		{"expires date", map[string]string{"Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT", "Expires": expires.Format(http.TimeFormat)},
			news.Validators{LastModified: "Mon, 01 Jan 2024 00:00:00 GMT"}, 0, expires},
		{"bad max-age ignored", map[string]string{"Cache-Control": "max-age=soon"}, news.Validators{}, 0, time.Time{}},
		{"retry-after on 200", map[string]string{"Retry-After": "900", "Cache-Control": "max-age=60"}, news.Validators{}, time.Minute, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				io.WriteString(w, "body")
			}))
			defer srv.Close()
			f, _ := newFetcher(t, Options{IgnoreRobots: true})
			resp, err := f.Fetch(context.Background(), Request{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			wantRetry := time.Duration(0)
			if tt.headers["Retry-After"] != "" {
				wantRetry = 15 * time.Minute
			}
			if resp.RetryAfter != wantRetry {
				t.Errorf("RetryAfter = %s, want %s", resp.RetryAfter, wantRetry)
			}
			if resp.Validators != tt.wantValid || resp.MaxAge != tt.wantMaxAge || !resp.Expires.Equal(tt.wantExpires) {
				t.Errorf("got %+v %s %s, want %+v %s %s", resp.Validators, resp.MaxAge, resp.Expires,
					tt.wantValid, tt.wantMaxAge, tt.wantExpires)
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	redirect := func(from, to string, code int) {
		mux.HandleFunc(from, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, code) })
	}
	mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "final") })
	redirect("/moved", "/final", http.StatusMovedPermanently)
	redirect("/perm308", "/final", http.StatusPermanentRedirect)
	redirect("/found", "/final", http.StatusFound)
	redirect("/temp307", "/final", http.StatusTemporaryRedirect)
	redirect("/moved-then-found", "/found", http.StatusMovedPermanently)
	redirect("/moved-twice", "/moved", http.StatusMovedPermanently)
	redirect("/loop-a", "/loop-b", http.StatusFound)
	redirect("/loop-b", "/loop-a", http.StatusFound)
	redirect("/to-ftp", "ftp://example.org/file", http.StatusFound)
	redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	for i := range 12 {
		redirect(fmt.Sprintf("/chain/%d", i), fmt.Sprintf("/chain/%d", i+1), http.StatusFound)
	}
	mux.HandleFunc("/chain/12", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "end") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f, _ := newFetcher(t, Options{})

	tests := []struct {
		path          string
		wantPermanent bool
		wantErr       error
	}{
		{"/moved", true, nil},
		{"/perm308", true, nil},
		{"/moved-twice", true, nil},
		{"/found", false, nil},
		{"/temp307", false, nil},
		{"/moved-then-found", false, nil},
		{"/final", false, nil},
		{"/loop-a", false, ErrTooManyRedirects},
		{"/chain/0", false, ErrTooManyRedirects},
		{"/to-ftp", false, ErrBadScheme},
		{"/to-metadata", false, ErrPrivateAddress},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := f.Fetch(context.Background(), Request{URL: srv.URL + tt.path})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.URL != srv.URL+"/final" {
				t.Errorf("URL = %s", resp.URL)
			}
			want := ""
			if tt.wantPermanent {
				want = srv.URL + "/final"
			}
			if resp.PermanentURL != want {
				t.Errorf("PermanentURL = %q, want %q", resp.PermanentURL, want)
			}
		})
	}
}

func compress(t testing.TB, coding string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "raw-deflate":
		w, _ = flate.NewWriter(&buf, flate.BestCompression)
	case "br":
		w = brotli.NewWriter(&buf)
	default:
		return data
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestContentEncoding(t *testing.T) {
	text := []byte(strings.Repeat("Lietuva pasitraukė iš Otavos konvencijos. ", 200))
	tests := []struct {
		name, header, coding string
		maxBody              int64
		wantErr              error
	}{
		{"gzip", "gzip", "gzip", 0, nil},
		{"x-gzip", "x-gzip", "gzip", 0, nil},
		{"zlib deflate", "deflate", "deflate", 0, nil},
		{"raw deflate", "deflate", "raw-deflate", 0, nil},
		{"brotli", "br", "br", 0, nil},
		{"identity", "", "", 0, nil},
		{"plain body labelled gzip", "gzip", "", 0, nil},
		{"identity over the cap", "", "", 1000, ErrTooLarge},
		{"gzip decompressing over the cap", "gzip", "gzip", 1000, ErrTooLarge},
		{"brotli decompressing over the cap", "br", "br", 1000, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := compress(t, tt.coding, text)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header().Set("Content-Encoding", tt.header)
				}
				w.Write(body)
			}))
			defer srv.Close()
			f, _ := newFetcher(t, Options{IgnoreRobots: true, MaxBodyBytes: tt.maxBody})
			resp, err := f.Fetch(context.Background(), Request{URL: srv.URL})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if Class(err) != "too_large" || IsTransient(err) {
					t.Errorf("Class = %s, transient = %v", Class(err), IsTransient(err))
				}
				if !strings.Contains(err.Error(), "1000 bytes") {
					t.Errorf("error does not state the limit: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(resp.Body, text) {
				t.Errorf("body differs: %d bytes, want %d", len(resp.Body), len(text))
			}
		})
	}
}

func TestDecompressionBomb(t *testing.T) {
	// 8 MB of zeros is ~8 KB of gzip: small on the wire, large in memory; the
	// cap must trip on what decompression yields, not on what was received.
	zeros := make([]byte, 8<<20)
	for _, coding := range []string{"gzip", "br"} {
		t.Run(coding, func(t *testing.T) {
			bomb := compress(t, coding, zeros)
			if len(bomb) >= 256<<10 {
				t.Fatalf("bomb is %d bytes on the wire; the test needs it under the cap", len(bomb))
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", coding)
				w.Write(bomb)
			}))
			defer srv.Close()
			f, _ := newFetcher(t, Options{IgnoreRobots: true, MaxBodyBytes: 256 << 10})
			_, err := f.Fetch(context.Background(), Request{URL: srv.URL})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
		})
	}
}

func TestContentLengthOverCap(t *testing.T) {
	var wrote atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000000")
		n, _ := w.Write(make([]byte, 4096))
		wrote.Add(int64(n))
	}))
	defer srv.Close()
	f, _ := newFetcher(t, Options{IgnoreRobots: true, MaxBodyBytes: 4096})
	_, err := f.Fetch(context.Background(), Request{URL: srv.URL})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestPrivateAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "internal")
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndex(port, ":"):]
	viaName := "http://localhost" + port + "/"

	tests := []struct {
		name  string
		allow []string
		url   string
		want  error
	}{
		{"loopback literal refused", []string{}, srv.URL, ErrPrivateAddress},
		{"loopback by name refused at dial", []string{}, viaName, ErrPrivateAddress},
		{"allowed by address", []string{"127.0.0.1", "::1"}, srv.URL, nil},
		{"allowed by CIDR", []string{"127.0.0.0/8"}, srv.URL, nil},
		{"allowed by host name", []string{"localhost"}, viaName, nil},
		{"other CIDR does not allow", []string{"10.0.0.0/8"}, srv.URL, ErrPrivateAddress},
		{"metadata address refused", []string{}, "http://169.254.169.254/latest/meta-data/", ErrPrivateAddress},
		{"metadata IPv6 refused", []string{}, "http://[fd00:ec2::254]/", ErrPrivateAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFetcher(t, Options{AllowPrivate: tt.allow, IgnoreRobots: true})
			resp, err := f.Fetch(context.Background(), Request{URL: tt.url})
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				if Class(err) != "private" || IsTransient(err) {
					t.Errorf("Class = %q, transient = %v", Class(err), IsTransient(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != "internal" {
				t.Errorf("body = %q", resp.Body)
			}
		})
	}
}

func TestRobotsEnforced(t *testing.T) {
	var robotsHits atomic.Int32
	robotsStatus := http.StatusOK
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		robotsHits.Add(1)
		w.WriteHeader(robotsStatus)
		io.WriteString(w, "User-agent: *\nDisallow: /\n\nUser-agent: minewatch\nDisallow: /private/\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/go-private", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/private/x", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		name   string
		status int
		path   string
		want   error
	}{
		{"allowed path", 200, "/news/1", nil},
		{"disallowed path", 200, "/private/report", ErrBlockedByRobots},
		{"redirect into disallowed path", 200, "/go-private", ErrBlockedByRobots},
		{"robots 404 allows all", 404, "/private/report", nil},
		{"robots 503 allows", 503, "/private/report", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			robotsStatus = tt.status
			robotsHits.Store(0)
			f, _ := newFetcher(t, Options{})
			for range 3 {
				_, err := f.Fetch(context.Background(), Request{URL: srv.URL + tt.path})
				if tt.want == nil && err != nil {
					t.Fatal(err)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				if tt.want != nil && Class(err) != "robots" {
					t.Errorf("Class = %q", Class(err))
				}
			}
			if n := robotsHits.Load(); n != 1 {
				t.Errorf("robots.txt fetched %d times, want once", n)
			}
		})
	}
	t.Run("ignored", func(t *testing.T) {
		robotsStatus = 200
		robotsHits.Store(0)
		f, _ := newFetcher(t, Options{IgnoreRobots: true})
		if _, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/private/x"}); err != nil {
			t.Fatal(err)
		}
		if robotsHits.Load() != 0 {
			t.Error("robots.txt fetched although ignored")
		}
	})
}

func TestRobotsCacheExpires(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			hits.Add(1)
		}
		io.WriteString(w, "User-agent: *\nAllow: /\n")
	}))
	defer srv.Close()
	f, _ := newFetcher(t, Options{})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	for _, step := range []time.Duration{0, time.Hour, 25 * time.Hour} {
		now = now.Add(step)
		if _, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/a"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("robots.txt fetched %d times, want 2 (once, then after the TTL)", n)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int // per attempt; the last repeats
		retryAfter   string
		retries      int
		wantErr      bool
		wantCode     int
		wantAttempts int32
		wantSleeps   []time.Duration
	}{
		{name: "429 then success honours Retry-After", statuses: []int{429, 200}, retryAfter: "7", retries: 2,
			wantAttempts: 2, wantSleeps: []time.Duration{7 * time.Second}},
		{name: "500 retried with backoff", statuses: []int{500, 500, 200}, retries: 2,
			wantAttempts: 3, wantSleeps: []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond}},
		{name: "503 exhausts retries", statuses: []int{503}, retries: 2,
			wantErr: true, wantCode: 503, wantAttempts: 3, wantSleeps: []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond}},
		{name: "404 not retried", statuses: []int{404}, retries: 2, wantErr: true, wantCode: 404, wantAttempts: 1},
		{name: "403 not retried", statuses: []int{403}, retries: 2, wantErr: true, wantCode: 403, wantAttempts: 1},
		{name: "long Retry-After left to the scheduler", statuses: []int{429, 200}, retryAfter: "3600", retries: 2,
			wantErr: true, wantCode: 429, wantAttempts: 1},
		{name: "no retries configured", statuses: []int{502, 200}, retries: -1, wantErr: true, wantCode: 502, wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				st := tt.statuses[min(i, len(tt.statuses)-1)]
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(st)
				io.WriteString(w, "body")
			}))
			defer srv.Close()
			f, sl := newFetcher(t, Options{IgnoreRobots: true, Retries: tt.retries})
			_, err := f.Fetch(context.Background(), Request{URL: srv.URL})
			if tt.wantErr {
				se, ok := errors.AsType[*StatusError](err)
				if !ok || se.Code != tt.wantCode {
					t.Fatalf("err = %v, want HTTP %d", err, tt.wantCode)
				}
				if Class(err) != "http" {
					t.Errorf("Class = %q", Class(err))
				}
				if tt.retryAfter == "3600" && se.RetryAfter != time.Hour {
					t.Errorf("RetryAfter = %s", se.RetryAfter)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := n.Load(); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
			got := sl.all()
			if fmt.Sprint(got) != fmt.Sprint(tt.wantSleeps) && !(len(got) == 0 && len(tt.wantSleeps) == 0) {
				t.Errorf("waits = %v, want %v", got, tt.wantSleeps)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name      string
		writeHead bool
	}{
		{"slow body", true},
		{"slow headers", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.writeHead {
					w.Header().Set("Content-Length", "100000")
					w.WriteHeader(200)
					io.WriteString(w, "<rss>partial")
					w.(http.Flusher).Flush()
				}
				<-r.Context().Done()
			}))
			defer srv.Close()
			f, _ := newFetcher(t, Options{IgnoreRobots: true, Timeout: 50 * time.Millisecond})
			_, err := f.Fetch(context.Background(), Request{URL: srv.URL})
			if err == nil {
				t.Fatal("no error")
			}
			if Class(err) != "timeout" || !IsTransient(err) {
				t.Errorf("Class = %q, transient = %v: %v", Class(err), IsTransient(err), err)
			}
		})
	}
}

func TestCallerCancel(t *testing.T) {
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	defer srv.Close()
	f, sl := newFetcher(t, Options{IgnoreRobots: true, Retries: 3})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, err := f.Fetch(ctx, Request{URL: srv.URL})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(sl.all()) != 0 {
		t.Error("retried after the caller cancelled")
	}
}

func TestBadRequests(t *testing.T) {
	f, _ := newFetcher(t, Options{})
	tests := []struct {
		url  string
		want error
	}{
		{"ftp://example.org/feed.xml", ErrBadScheme},
		{"file:///etc/passwd", ErrBadScheme},
		{"javascript:alert(1)", ErrBadScheme},
		{"gopher://example.org/", ErrBadScheme},
		{"http://127.0.0.2/", ErrPrivateAddress},
		{"http://[::1]/", ErrPrivateAddress},
		{"http://[::ffff:10.1.2.3]/", ErrPrivateAddress},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), Request{URL: tt.url})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEmptyBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	f, _ := newFetcher(t, Options{IgnoreRobots: true})
	if _, err := f.Fetch(context.Background(), Request{URL: srv.URL}); !errors.Is(err, ErrEmptyBody) {
		t.Fatalf("err = %v, want ErrEmptyBody", err)
	}
}

// recordHandler keeps log records for inspection.
type recordHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

func TestLogLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	h := &recordHandler{}
	f, _ := newFetcher(t, Options{IgnoreRobots: true, Logger: slog.New(h)})
	f.Fetch(context.Background(), Request{URL: srv.URL + "/ok"})
	f.Fetch(context.Background(), Request{URL: srv.URL + "/missing"})
	var fetchRecs []slog.Record
	for _, r := range h.recs {
		if r.Message == "fetch" {
			fetchRecs = append(fetchRecs, r)
		}
	}
	if len(fetchRecs) != 2 {
		t.Fatalf("%d fetch log lines, want 2", len(fetchRecs))
	}
	for i, want := range []struct {
		status int64
		bytes  int64
		err    bool
	}{{200, 5, false}, {404, 0, true}} {
		got := map[string]slog.Value{}
		fetchRecs[i].Attrs(func(a slog.Attr) bool { got[a.Key] = a.Value; return true })
		for _, k := range []string{"url", "status", "duration", "bytes"} {
			if _, ok := got[k]; !ok {
				t.Errorf("line %d lacks %q", i, k)
			}
		}
		if got["status"].Int64() != want.status || got["bytes"].Int64() != want.bytes {
			t.Errorf("line %d: status %v bytes %v", i, got["status"], got["bytes"])
		}
		if _, ok := got["error"]; ok != want.err {
			t.Errorf("line %d: error present = %v", i, ok)
		}
	}
}

func TestNewRejectsBadAllowList(t *testing.T) {
	if _, err := New(Options{AllowPrivate: []string{"http://x/"}}); err == nil {
		t.Fatal("no error for a URL in AllowPrivate")
	}
}

func TestCrawlDelayHonoured(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			io.WriteString(w, "User-agent: *\nCrawl-delay: 3\n")
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	f, sl := newFetcher(t, Options{})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	for range 2 {
		if _, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/a"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := sl.all(); len(got) != 1 || got[0] != 3*time.Second {
		t.Fatalf("waits = %v, want one of 3s", got)
	}
}

func FuzzResponseHeaders(f *testing.F) {
	f.Add("public, max-age=600", "0", "120", `W/"x"`)
	f.Add("no-store, max-age=\"5\"", "Thu, 01 Jan 2026 12:05:00 GMT", "Thu, 01 Jan 2026 12:05:00 GMT", "")
	f.Add(",,=,max-age=99999999999999999999", "-1", "-5", "")
	f.Fuzz(func(t *testing.T, cc, expires, retry, etag string) {
		h := http.Header{}
		h.Set("Cache-Control", cc)
		h.Set("Expires", expires)
		h.Set("ETag", etag)
		maxAge, _ := freshness(h)
		if maxAge < 0 {
			t.Fatalf("negative max-age %s from %q", maxAge, cc)
		}
		if d := retryAfter(retry, time.Now()); d < 0 {
			t.Fatalf("negative Retry-After %s from %q", d, retry)
		}
		v := validators(h, news.Validators{})
		if v.ETag != "" && v.ETag != h.Get("ETag") {
			t.Fatalf("ETag %q invented", v.ETag)
		}
	})
}

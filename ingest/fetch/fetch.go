// Package fetch is minewatch's polite and careful HTTP client: conditional GET,
// robots.txt, per-host limits, size caps, retries, and no private addresses.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/redact"
)

// Defaults for the zero values of Options.
const (
	DefaultUserAgent          = "minewatch/1.0 (+https://github.com/minewatch/minewatch)"
	DefaultTimeout            = 30 * time.Second
	DefaultMaxBodyBytes       = 10 << 20
	DefaultMaxRedirects       = 10
	DefaultPerHostConcurrency = 2
	DefaultPerHostDelay       = time.Second
	DefaultRetries            = 2

	dialTimeout           = 10 * time.Second
	tlsTimeout            = 10 * time.Second
	responseHeaderTimeout = 15 * time.Second
	// maxHeaderBytes bounds a response's header block; net/http's default is
	// 10 MB, far beyond any real server's and a memory cost per connection.
	maxHeaderBytes = 1 << 20

	backoffBase = time.Second
	backoffCap  = 30 * time.Second
	// maxRetryAfter is the longest Retry-After we wait out inside one Fetch;
	// a longer one is returned in StatusError for the scheduler to honour.
	maxRetryAfter = 2 * time.Minute
)

// Options configure a Fetcher. The zero value of every field means its default.
type Options struct {
	// UserAgent is sent with every request; default DefaultUserAgent. Its
	// product token for robots.txt is always "minewatch".
	UserAgent string
	// Timeout bounds one attempt, body included; default 30s. Dialling, the
	// TLS handshake and the response headers have their own 10s, 10s and 15s.
	Timeout time.Duration
	// MaxBodyBytes caps a body, compressed and decompressed; default 10 MB.
	// Larger bodies fail with ErrTooLarge.
	MaxBodyBytes int64
	// MaxRedirects is how many redirects one fetch follows; default 10.
	MaxRedirects int
	// AllowPrivate lists host names, addresses and CIDRs that may be fetched
	// although loopback, private or otherwise not public (demo, tests).
	AllowPrivate []string
	// PerHostConcurrency is how many requests may be in flight to one host;
	// default 2.
	PerHostConcurrency int
	// PerHostDelay is the least time between the starts of two requests to
	// one host; default 1s. A negative value means no delay (tests). A
	// robots.txt Crawl-delay, up to 30s, lengthens it.
	PerHostDelay time.Duration
	// Retries is how many times a transient failure is retried, with
	// exponential backoff and jitter; default 2. A negative value means none.
	Retries int
	// IgnoreRobots skips robots.txt; for sources whose owner agreed.
	IgnoreRobots bool
	Logger       *slog.Logger
	// Transport replaces the network (tests only). The private-address check
	// then covers only URLs whose host is an address literal.
	Transport http.RoundTripper
	// Resolver looks host names up; nil means net.DefaultResolver. Whatever
	// it answers, the address dialled is checked, so a resolver cannot open
	// a way to private addresses (tests use one to simulate DNS rebinding).
	Resolver *net.Resolver
}

// Fetcher fetches URLs. It is safe for concurrent use; share one per process
// so that the per-host limits and the robots.txt cache are shared too.
type Fetcher struct {
	opts   Options
	log    *slog.Logger
	allow  allowList
	client *http.Client
	hosts  *hostLimiter
	robots *robotsCache

	// Seams for tests: the clock, waiting, and the jitter source.
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	jitter func() float64
}

// New builds a Fetcher.
func New(opts Options) (*Fetcher, error) {
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.PerHostConcurrency <= 0 {
		opts.PerHostConcurrency = DefaultPerHostConcurrency
	}
	switch {
	case opts.PerHostDelay == 0:
		opts.PerHostDelay = DefaultPerHostDelay
	case opts.PerHostDelay < 0:
		opts.PerHostDelay = 0
	}
	switch {
	case opts.Retries == 0:
		opts.Retries = DefaultRetries
	case opts.Retries < 0:
		opts.Retries = 0
	}
	allow, err := parseAllowList(opts.AllowPrivate)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Fetcher{
		opts:   opts,
		log:    log,
		allow:  allow,
		now:    time.Now,
		sleep:  sleepCtx,
		jitter: rand.Float64,
	}
	rt := opts.Transport
	if rt == nil {
		rt = f.transport()
	}
	f.client = &http.Client{Transport: rt}
	f.hosts = newHostLimiter(opts.PerHostConcurrency, opts.PerHostDelay,
		func() time.Time { return f.now() },
		func(ctx context.Context, d time.Duration) error { return f.sleep(ctx, d) })
	f.robots = newRobotsCache(f)
	return f, nil
}

func (f *Fetcher) transport() *http.Transport {
	checked := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second, Control: f.allow.control,
		Resolver: f.opts.Resolver}
	plain := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second, Resolver: f.opts.Resolver}
	return &http.Transport{
		// No proxy: through one, the dialled address would be the proxy's and
		// the private-address check would see nothing.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, _, err := net.SplitHostPort(addr); err == nil && f.allow.host(host) {
				return plain.DialContext(ctx, network, addr)
			}
			return checked.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    tlsTimeout,
		ResponseHeaderTimeout:  responseHeaderTimeout,
		MaxResponseHeaderBytes: maxHeaderBytes,
		ExpectContinueTimeout:  time.Second,
		// Enough idle connections for a poll cycle over many hosts to reuse
		// them (at 100, a farm of 250 hosts spent 14% of its CPU dialling),
		// bounded so that thousands of hosts cannot exhaust descriptors.
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: f.opts.PerHostConcurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true, // we decode, so that decompressed bytes are capped too
	}
}

// Request is one URL to fetch.
type Request struct {
	URL string
	// Validators of the last fetch of URL; they are sent only when non-empty.
	Validators news.Validators
	// Accept is the Accept header; "" sends "*/*".
	Accept string
}

// Response is a successful fetch: a 2xx with a body, or a 304.
type Response struct {
	URL          string // final URL after redirects
	PermanentURL string // set when every redirect on the way was 301 or 308
	Status       int
	NotModified  bool   // 304
	Body         []byte // decompressed (gzip, deflate, br), not charset-converted
	ContentType  string
	// Validators to send next time. The ETag is preferred by servers that
	// have both (RFC 9110 §8.8.1); Expires: 0 or Cache-Control: no-store
	// clears both, since such a server does not want revalidation.
	Validators news.Validators
	MaxAge     time.Duration // Cache-Control max-age
	Expires    time.Time     // zero when absent or invalid
	// RetryAfter is the server's Retry-After, when a 2xx or 304 carries one:
	// a feed host asking to be polled no sooner. On 429 and 503 it arrives in
	// the StatusError instead.
	RetryAfter time.Duration
}

// errAttemptTimeout is the cause of an attempt that ran out of Options.Timeout.
var errAttemptTimeout = errors.New("timed out")

// Fetch GETs req.URL politely: robots.txt, per-host limits, retries of
// transient failures. It returns a *StatusError for statuses other than 2xx
// and 304, and errors wrapping this package's sentinels otherwise.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Response, error) {
	start := f.now()
	resp, attempts, err := f.fetch(ctx, req)
	// Errors quote the URL, and a source's URL may carry its API key:
	// whatever leaves here (logs, the source's last error on the web page)
	// shows it redacted.
	err = redact.Error(err)
	attrs := []slog.Attr{
		slog.String("url", redacted(req.URL)),
		slog.Duration("duration", f.now().Sub(start)),
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelWarn
		status := 0
		if se, ok := errors.AsType[*StatusError](err); ok {
			status = se.Code
		}
		attrs = append(attrs, slog.Int("status", status), slog.Int("bytes", 0),
			slog.String("error_class", Class(err)), slog.Any("error", err))
	} else {
		attrs = append(attrs, slog.Int("status", resp.Status), slog.Int("bytes", len(resp.Body)))
		if resp.URL != req.URL {
			attrs = append(attrs, slog.String("final_url", redacted(resp.URL)))
		}
	}
	if attempts > 1 {
		attrs = append(attrs, slog.Int("attempts", attempts))
	}
	f.log.LogAttrs(ctx, level, "fetch", attrs...)
	return resp, err
}

func (f *Fetcher) fetch(ctx context.Context, req Request) (*Response, int, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch %q: %w", req.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, 0, fmt.Errorf("fetch %s: %w (scheme %q)", req.URL, ErrBadScheme, u.Scheme)
	}
	if u.Host == "" {
		return nil, 0, fmt.Errorf("fetch %s: no host", req.URL)
	}
	if u.User != nil {
		// Not req.URL: it holds the credential.
		return nil, 0, fmt.Errorf("fetch %s: %w", u.Redacted(), ErrUserinfo)
	}
	if err := f.checkLiteralAddress(u); err != nil {
		return nil, 0, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	var crawlDelay time.Duration
	if !f.opts.IgnoreRobots {
		rules, err := f.robots.rules(ctx, u)
		if err != nil {
			return nil, 0, fmt.Errorf("fetch %s: robots.txt: %w", req.URL, err)
		}
		if !rules.allowed(u) {
			return nil, 0, fmt.Errorf("fetch %s: %w", req.URL, ErrBlockedByRobots)
		}
		crawlDelay = rules.crawlDelay
	}
	for attempt := 0; ; attempt++ {
		release, err := f.hosts.acquire(ctx, strings.ToLower(u.Host), crawlDelay)
		if err != nil {
			return nil, attempt, fmt.Errorf("fetch %s: waiting for host: %w", req.URL, err)
		}
		resp, err := f.once(ctx, u, req)
		release()
		if err == nil {
			return resp, attempt + 1, nil
		}
		err = fmt.Errorf("fetch %s: %w", req.URL, err)
		if attempt >= f.opts.Retries || !IsTransient(err) || ctx.Err() != nil {
			return nil, attempt + 1, err
		}
		wait := f.backoff(attempt)
		if se, ok := errors.AsType[*StatusError](err); ok && se.RetryAfter > 0 {
			if se.RetryAfter > maxRetryAfter {
				return nil, attempt + 1, err
			}
			wait = max(wait, se.RetryAfter)
		}
		f.log.LogAttrs(ctx, slog.LevelDebug, "fetch retry", slog.String("url", redacted(req.URL)),
			slog.Duration("wait", wait), slog.Any("error", redact.Error(err)))
		if serr := f.sleep(ctx, wait); serr != nil {
			return nil, attempt + 1, errors.Join(err, serr)
		}
	}
}

// redacted is raw with its credentials (userinfo, API keys in the query)
// masked, for logs and errors.
func redacted(raw string) string { return redact.URL(raw) }

// backoff is exponential with "equal jitter": half fixed, half random, so
// retries spread out but never come immediately.
func (f *Fetcher) backoff(attempt int) time.Duration {
	d := min(backoffBase<<attempt, backoffCap)
	return d/2 + time.Duration(f.jitter()*float64(d/2))
}

// checkLiteralAddress refuses URLs whose host is a non-public address
// literal before any connection is made. The dial-time check remains the one
// that counts; this one also covers a test Transport and gives a clear error.
func (f *Fetcher) checkLiteralAddress(u *url.URL) error {
	host := u.Hostname()
	a, err := netip.ParseAddr(host)
	spelled := ""
	if err != nil {
		var ok bool
		if a, ok = looseIPv4(host); !ok {
			return nil
		}
		spelled = fmt.Sprintf(", spelled %q", host)
	}
	if isPublic(a) || f.allow.addr(a) || f.allow.host(host) {
		return nil
	}
	return fmt.Errorf("%w: %s%s (add it to AllowPrivate to fetch it)", ErrPrivateAddress, a, spelled)
}

func (f *Fetcher) setHeaders(r *http.Request, accept string) {
	if accept == "" {
		accept = "*/*"
	}
	r.Header.Set("User-Agent", f.opts.UserAgent)
	r.Header.Set("Accept", accept)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
}

// once makes one attempt.
func (f *Fetcher) once(ctx context.Context, u *url.URL, req Request) (*Response, error) {
	actx, cancel := context.WithTimeoutCause(ctx, f.opts.Timeout, errAttemptTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	f.setHeaders(hreq, req.Accept)
	if req.Validators.ETag != "" {
		hreq.Header.Set("If-None-Match", req.Validators.ETag)
	}
	if req.Validators.LastModified != "" {
		hreq.Header.Set("If-Modified-Since", req.Validators.LastModified)
	}

	permanent := true
	client := *f.client
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) > f.opts.MaxRedirects {
			return fmt.Errorf("%w: more than %d", ErrTooManyRedirects, f.opts.MaxRedirects)
		}
		next := r.URL.String()
		for _, v := range via {
			if v.URL.String() == next {
				return fmt.Errorf("%w: loop back to %s", ErrTooManyRedirects, next)
			}
		}
		if r.URL.Scheme != "http" && r.URL.Scheme != "https" {
			return fmt.Errorf("redirect to %s: %w", next, ErrBadScheme)
		}
		if r.URL.User != nil {
			return fmt.Errorf("redirect to %s: %w", r.URL.Redacted(), ErrUserinfo)
		}
		if err := f.checkLiteralAddress(r.URL); err != nil {
			return fmt.Errorf("redirect to %s: %w", next, err)
		}
		if r.Response != nil && r.Response.StatusCode != http.StatusMovedPermanently &&
			r.Response.StatusCode != http.StatusPermanentRedirect {
			permanent = false
		}
		if !f.opts.IgnoreRobots {
			rules, err := f.robots.rules(r.Context(), r.URL)
			if err != nil {
				return fmt.Errorf("redirect to %s: robots.txt: %w", next, err)
			}
			if !rules.allowed(r.URL) {
				return fmt.Errorf("redirect to %s: %w", next, ErrBlockedByRobots)
			}
		}
		return nil
	}

	hresp, err := client.Do(hreq)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			// net/http names a redirect target as the server wrote it.
			ue.URL = redacted(ue.URL)
		}
		return nil, f.attemptErr(actx, err)
	}
	defer hresp.Body.Close()

	resp := &Response{
		URL:         hresp.Request.URL.String(),
		Status:      hresp.StatusCode,
		ContentType: hresp.Header.Get("Content-Type"),
	}
	if resp.URL != u.String() && permanent {
		resp.PermanentURL = resp.URL
	}
	now := f.now()
	switch {
	case hresp.StatusCode == http.StatusNotModified:
		resp.NotModified = true
		resp.Validators = validators(hresp.Header, req.Validators)
	case hresp.StatusCode >= 200 && hresp.StatusCode < 300:
		body, err := readBody(hresp, f.opts.MaxBodyBytes, false)
		if err != nil {
			return nil, f.attemptErr(actx, err)
		}
		if len(body) == 0 {
			return nil, ErrEmptyBody
		}
		resp.Body = body
		resp.Validators = validators(hresp.Header, news.Validators{})
	default:
		se := &StatusError{Code: hresp.StatusCode}
		if se.Code == http.StatusTooManyRequests || se.Code == http.StatusServiceUnavailable {
			se.RetryAfter = retryAfter(hresp.Header.Get("Retry-After"), now)
		}
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(hresp.Body, 64<<10))
		return nil, se
	}
	resp.MaxAge, resp.Expires = freshness(hresp.Header)
	resp.RetryAfter = retryAfter(hresp.Header.Get("Retry-After"), now)
	return resp, nil
}

// attemptErr marks errors caused by our own per-attempt timeout as timeouts;
// net/http reports them in several shapes.
func (f *Fetcher) attemptErr(actx context.Context, err error) error {
	if errors.Is(context.Cause(actx), errAttemptTimeout) {
		return fmt.Errorf("%w after %s: %w", errAttemptTimeout, f.opts.Timeout, err)
	}
	return err
}

// validators reads the cache validators of a response; fallback supplies
// those a 304 does not repeat (RFC 9111 §4.3.4 keeps the stored ones).
func validators(h http.Header, fallback news.Validators) news.Validators {
	if cc := cacheControl(h); cc["no-store"] != "" {
		return news.Validators{}
	}
	if e := strings.TrimSpace(h.Get("Expires")); e == "0" || e == "-1" {
		return news.Validators{}
	}
	v := fallback
	if et := h.Get("ETag"); et != "" {
		v.ETag = et
	}
	if lm := h.Get("Last-Modified"); lm != "" {
		v.LastModified = lm
	}
	return v
}

// cacheControl parses Cache-Control into directive → value ("1" when the
// directive has no value).
func cacheControl(h http.Header) map[string]string {
	out := map[string]string{}
	for _, line := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(line, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(d), "=")
			k = strings.ToLower(strings.TrimSpace(k))
			if k == "" {
				continue
			}
			if !ok {
				v = "1"
			}
			out[k] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return out
}

func freshness(h http.Header) (time.Duration, time.Time) {
	var maxAge time.Duration
	if v, ok := cacheControl(h)["max-age"]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < 1<<31 {
			maxAge = time.Duration(n) * time.Second
		}
	}
	var expires time.Time
	if e := h.Get("Expires"); e != "" {
		if t, err := http.ParseTime(e); err == nil {
			expires = t.UTC()
		}
	}
	return maxAge, expires
}

// retryAfter parses Retry-After: delay-seconds or an HTTP-date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 1<<31)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

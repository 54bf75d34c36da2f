package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

func TestHostLimiterDelay(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &sleeps{}
	l := newHostLimiter(3, time.Second, func() time.Time { return now }, s.sleep)
	ctx := context.Background()
	tests := []struct {
		host       string
		crawlDelay time.Duration
		advance    time.Duration
		wantWait   time.Duration // 0 means no wait
	}{
		{"a.example", 0, 0, 0},
		{"a.example", 0, 0, time.Second},
		{"a.example", 0, 0, 2 * time.Second},
		{"b.example", 0, 0, 0},                               // other hosts are independent
		{"a.example", 0, 10 * time.Second, 0},                // the gap has passed
		{"c.example", 5 * time.Second, 0, 0},                 // crawl-delay sets the next gap
		{"c.example", 5 * time.Second, 0, 5 * time.Second},   //
		{"d.example", time.Hour, 0, 0},                       // a huge crawl-delay is capped
		{"d.example", time.Hour, 0, maxCrawlDelay},           //
		{"e.example", 10 * time.Millisecond, 0, 0},           // a small crawl-delay does not shorten ours
		{"e.example", 10 * time.Millisecond, 0, time.Second}, //
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", i, tt.host), func(t *testing.T) {
			now = now.Add(tt.advance)
			before := len(s.all())
			release, err := l.acquire(ctx, tt.host, tt.crawlDelay)
			if err != nil {
				t.Fatal(err)
			}
			release()
			release() // idempotent
			waits := s.all()[before:]
			switch {
			case tt.wantWait == 0 && len(waits) != 0:
				t.Errorf("waited %v, want no wait", waits)
			case tt.wantWait != 0 && (len(waits) != 1 || waits[0] != tt.wantWait):
				t.Errorf("waited %v, want %s", waits, tt.wantWait)
			}
		})
	}
}

func TestHostLimiterConcurrency(t *testing.T) {
	l := newHostLimiter(1, 0, time.Now, sleepCtx)
	release, err := l.acquire(context.Background(), "a.example", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.acquire(ctx, "a.example", 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("second acquire while busy: err = %v, want context.Canceled", err)
	}
	got := make(chan error)
	go func() {
		r, err := l.acquire(context.Background(), "a.example", 0)
		if err == nil {
			r()
		}
		got <- err
	}()
	release()
	if err := <-got; err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
}

func TestIsPublic(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true},
		{"193.219.61.9", true},
		{"2606:4700:4700::1111", true},
		{"127.0.0.1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"0.0.0.0", false},
		{"255.255.255.255", false},
		{"224.0.0.1", false},
		{"::1", false},
		{"::", false},
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd00:ec2::254", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::a00:1", false}, // NAT64 of 10.0.0.1
		{"64:ff9b::808:808", true},
		{"2001:db8::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := isPublic(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("isPublic(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestClassAndTransient(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("fetch https://x/: %w", err) }
	tests := []struct {
		name      string
		err       error
		class     string
		transient bool
	}{
		{"nil", nil, "", false},
		{"robots", wrap(ErrBlockedByRobots), "robots", false},
		{"private", wrap(ErrPrivateAddress), "private", false},
		{"too large", wrap(ErrTooLarge), "too_large", false},
		{"redirects", wrap(ErrTooManyRedirects), "http", false},
		{"bad scheme", wrap(ErrBadScheme), "private", false},
		{"userinfo", wrap(ErrUserinfo), "private", false},
		{"header block too large", wrap(errors.New("net/http: server response headers exceeded 1048576 bytes; aborted")), "too_large", false},
		{"404", wrap(&StatusError{Code: 404}), "http", false},
		{"410", wrap(&StatusError{Code: 410}), "http", false},
		{"429", wrap(&StatusError{Code: 429}), "http", true},
		{"500", wrap(&StatusError{Code: 500}), "http", true},
		{"502", wrap(&StatusError{Code: 502}), "http", true},
		{"503", wrap(&StatusError{Code: 503}), "http", true},
		{"504", wrap(&StatusError{Code: 504}), "http", true},
		{"nxdomain", wrap(&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}), "dns", false},
		{"dns timeout", wrap(&net.DNSError{Err: "timeout", Name: "x", IsTimeout: true}), "dns", true},
		{"deadline", wrap(context.DeadlineExceeded), "timeout", true},
		{"cancelled", wrap(context.Canceled), "other", false},
		{"reset", wrap(&net.OpError{Op: "read", Err: syscall.ECONNRESET}), "network", true},
		{"refused", wrap(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), "network", false},
		{"tls", wrap(errors.New("remote error: tls: handshake failure")), "tls", false},
		{"classifier", wrap(parseErr{}), "parse", false},
		{"other", errors.New("boom"), "other", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Class(tt.err); got != tt.class {
				t.Errorf("Class = %q, want %q", got, tt.class)
			}
			if got := IsTransient(tt.err); got != tt.transient {
				t.Errorf("IsTransient = %v, want %v", got, tt.transient)
			}
		})
	}
}

type parseErr struct{}

func (parseErr) Error() string      { return "bad XML" }
func (parseErr) ErrorClass() string { return "parse" }

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{"-5", 0},
		{"Thu, 01 Jan 2026 12:05:00 GMT", 5 * time.Minute},
		{"Thu, 01 Jan 2026 11:00:00 GMT", 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.v, func(t *testing.T) {
			if got := retryAfter(tt.v, now); got != tt.want {
				t.Errorf("retryAfter(%q) = %s, want %s", tt.v, got, tt.want)
			}
		})
	}
}

package fetch

import (
	"context"
	"sync"
	"time"
)

// maxCrawlDelay bounds how far a robots.txt Crawl-delay may slow us down; a
// larger one would starve a news source of its daily items.
const maxCrawlDelay = 30 * time.Second

// hostLimiter keeps politeness per host: at most conc requests in flight and
// at least delay between the starts of two requests.
type hostLimiter struct {
	conc  int
	delay time.Duration
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu    sync.Mutex
	hosts map[string]*hostSlot
}

type hostSlot struct {
	sem   chan struct{}
	next  time.Time // earliest start of the next request
	users int       // goroutines holding or waiting for the slot
}

// sweepAbove is the map size past which idle hosts are dropped; query feeds
// link to many hosts over the months a process runs.
const sweepAbove = 1024

func newHostLimiter(conc int, delay time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) *hostLimiter {
	return &hostLimiter{conc: conc, delay: delay, now: now, sleep: sleep, hosts: map[string]*hostSlot{}}
}

// acquire waits for a turn at host and returns the function that ends it.
// crawlDelay, from the host's robots.txt, lengthens the gap when larger.
func (l *hostLimiter) acquire(ctx context.Context, host string, crawlDelay time.Duration) (func(), error) {
	l.mu.Lock()
	s := l.hosts[host]
	if s == nil {
		if len(l.hosts) >= sweepAbove {
			l.sweepLocked()
		}
		s = &hostSlot{sem: make(chan struct{}, l.conc)}
		l.hosts[host] = s
	}
	s.users++
	l.mu.Unlock()

	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		l.leave(s)
		return nil, ctx.Err()
	}
	gap := max(l.delay, min(crawlDelay, maxCrawlDelay))
	l.mu.Lock()
	now := l.now()
	start := now
	if s.next.After(now) {
		start = s.next
	}
	s.next = start.Add(gap)
	l.mu.Unlock()
	if wait := start.Sub(now); wait > 0 {
		if err := l.sleep(ctx, wait); err != nil {
			<-s.sem
			l.leave(s)
			return nil, err
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-s.sem
			l.leave(s)
		})
	}, nil
}

func (l *hostLimiter) leave(s *hostSlot) {
	l.mu.Lock()
	s.users--
	l.mu.Unlock()
}

func (l *hostLimiter) sweepLocked() {
	now := l.now()
	for h, s := range l.hosts {
		if s.users == 0 && !s.next.After(now) {
			delete(l.hosts, h)
		}
	}
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package fetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

const (
	robotsTTL      = 24 * time.Hour
	robotsRetryTTL = time.Hour // after a 5xx or an unreachable robots.txt
	robotsTimeout  = 20 * time.Second
	robotsMaxHops  = 5 // RFC 9309 §2.3.1.2
)

// robotsCache fetches each origin's robots.txt once per TTL and shares the
// result among concurrent callers.
type robotsCache struct {
	f *Fetcher

	mu      sync.Mutex
	entries map[string]*robotsEntry
}

type robotsEntry struct {
	ready   chan struct{} // closed once rules, expires and err are set
	rules   *robotsRules
	expires time.Time
	err     error // set when the fetch could not decide (cancelled, private)
}

func newRobotsCache(f *Fetcher) *robotsCache {
	return &robotsCache{f: f, entries: map[string]*robotsEntry{}}
}

// rules returns the robots rules for u's origin, fetching them when needed.
func (c *robotsCache) rules(ctx context.Context, u *url.URL) (*robotsRules, error) {
	origin := u.Scheme + "://" + u.Host
	for {
		c.mu.Lock()
		e := c.entries[origin]
		var prev *robotsRules
		if e != nil {
			select {
			case <-e.ready:
				if e.err == nil && c.f.now().Before(e.expires) {
					c.mu.Unlock()
					return e.rules, nil
				}
				prev = e.rules
				e = nil
			default:
			}
		}
		if e == nil {
			if len(c.entries) >= sweepAbove {
				c.sweepLocked()
			}
			e = &robotsEntry{ready: make(chan struct{})}
			c.entries[origin] = e
			c.mu.Unlock()
			c.load(ctx, origin, e, prev)
		} else {
			c.mu.Unlock()
		}
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err == nil {
			return e.rules, nil
		}
		if errors.Is(e.err, ErrPrivateAddress) || ctx.Err() != nil {
			return nil, e.err
		}
		// Another caller's fetch was cancelled; try again with our context.
	}
}

func (c *robotsCache) sweepLocked() {
	now := c.f.now()
	for k, e := range c.entries {
		select {
		case <-e.ready:
			if e.err != nil || !now.Before(e.expires) {
				delete(c.entries, k)
			}
		default:
		}
	}
}

// load fetches origin/robots.txt and fills e. Per RFC 9309 a 4xx means no
// rules. For a 5xx or an unreachable server the RFC says to assume complete
// disallow; we keep the last known rules if there are any and otherwise
// allow, then ask again after an hour: a news monitor that stopped reading
// a source for every transient robots.txt failure would miss the news, and
// the page fetch that follows meets the same outage anyway.
func (c *robotsCache) load(ctx context.Context, origin string, e *robotsEntry, prev *robotsRules) {
	defer close(e.ready)
	rules, ttl, err := c.fetch(ctx, origin)
	if err != nil && (ctx.Err() != nil || errors.Is(err, ErrPrivateAddress)) {
		e.err = err
		c.mu.Lock()
		if c.entries[origin] == e {
			delete(c.entries, origin)
		}
		c.mu.Unlock()
		return
	}
	if err != nil {
		c.f.log.LogAttrs(ctx, slog.LevelWarn, "robots.txt unavailable, allowing", slog.String("url", origin+"/robots.txt"), slog.Any("error", err))
		rules, ttl = prev, robotsRetryTTL
	}
	if rules == nil {
		rules = &robotsRules{}
	}
	e.rules, e.expires = rules, c.f.now().Add(ttl)
}

// fetch does not take the host's politeness slot: it runs at most once a day
// per host, and taking it could deadlock a redirect whose robots.txt check
// runs while the request being redirected holds that host's only slot.
func (c *robotsCache) fetch(ctx context.Context, origin string) (*robotsRules, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, robotsTimeout)
	defer cancel()
	u := origin + "/robots.txt"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("robots %s: %w", u, err)
	}
	c.f.setHeaders(req, "text/plain, */*;q=0.5")
	client := *c.f.client
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) > robotsMaxHops {
			return ErrTooManyRedirects
		}
		if r.URL.Scheme != "http" && r.URL.Scheme != "https" {
			return ErrBadScheme
		}
		if r.URL.User != nil {
			return ErrUserinfo
		}
		return c.f.checkLiteralAddress(r.URL)
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, ErrTooManyRedirects) || errors.Is(err, ErrBadScheme) || errors.Is(err, ErrUserinfo) {
			// RFC 9309 §2.3.1.2: unreachable through redirects counts as 4xx.
			return nil, robotsTTL, nil
		}
		return nil, 0, fmt.Errorf("robots %s: %w", u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		body, err := readBody(resp, maxRobotsBytes, true)
		if err != nil {
			return nil, 0, fmt.Errorf("robots %s: %w", u, err)
		}
		return parseRobots(body, robotsToken), robotsTTL, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, 0, fmt.Errorf("robots %s: %w", u, &StatusError{Code: resp.StatusCode})
	default:
		return nil, robotsTTL, nil
	}
}

package web

import (
	"math"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Login failures allowed per client address and per user name: a burst of
// loginBurst, then one more every loginEvery (5 a minute).
const (
	loginBurst = 5
	loginEvery = time.Minute / loginBurst
	// maxLimiterKeys bounds each limiter map; full buckets carry no
	// information and are pruned first.
	maxLimiterKeys = 10000
)

// loginLimiter counts failed logins per client address and per user name.
// Only failures take tokens, so a user who types the password right is never
// slowed down, and guessing is capped at 5 a minute per address and per
// account however many addresses an attacker has.
type loginLimiter struct {
	now func() time.Time

	mu     sync.Mutex
	byIP   map[string]*rate.Limiter
	byUser map[string]*rate.Limiter
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, byIP: map[string]*rate.Limiter{}, byUser: map[string]*rate.Limiter{}}
}

// wait reports how long the client must wait before it may try again; 0
// means it may try now.
func (l *loginLimiter) wait(ip, user string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(waitOf(l.byIP[ip], now), waitOf(l.byUser[userKey(user)], now))
}

func waitOf(lim *rate.Limiter, now time.Time) time.Duration {
	if lim == nil {
		return 0
	}
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) * float64(loginEvery)))
}

// fail records a failed login for both keys.
func (l *loginLimiter) fail(ip, user string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	take(l.byIP, ip, now)
	take(l.byUser, userKey(user), now)
}

func take(m map[string]*rate.Limiter, key string, now time.Time) {
	lim, ok := m[key]
	if !ok {
		if len(m) >= maxLimiterKeys {
			for k, v := range m {
				if v.TokensAt(now) >= loginBurst {
					delete(m, k)
				}
			}
		}
		if len(m) >= maxLimiterKeys {
			// Every bucket is in use: an attack from very many addresses.
			// Forgetting one is better than growing without bound; the
			// per-user limit still holds.
			for k := range m {
				delete(m, k)
				break
			}
		}
		lim = rate.NewLimiter(rate.Every(loginEvery), loginBurst)
		m[key] = lim
	}
	lim.AllowN(now, 1)
}

// userKey folds case: user names are unique regardless of case.
func userKey(name string) string {
	if len(name) > 64 {
		name = name[:64]
	}
	return strings.ToLower(name)
}

// clientIP is the address the rate limit counts: the connection's peer, or,
// when that peer is a trusted proxy, the nearest untrusted address in
// X-Forwarded-For. IPv6 clients are counted per /64, which is what one
// subscriber usually gets.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := ap.Addr().Unmap()
	if isTrusted(addr, trusted) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			addr = a.Unmap()
			if !isTrusted(addr, trusted) {
				break
			}
		}
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

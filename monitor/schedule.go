package monitor

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/robfig/cron/v3"
)

// maxOffset bounds the per-source phase so a source's first fetch after start
// comes soon while hundreds of sources still spread over minutes.
const maxOffset = 5 * time.Minute

// maxBackoff caps how long a failing source waits; it is still tried daily,
// so it never disappears silently.
const maxBackoff = 24 * time.Hour

// ParseSchedule parses a source's cron spec (five fields or a descriptor such as
// "@every 15m" or "@hourly").
func ParseSchedule(spec string) (cron.Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return s, nil
}

// period estimates a schedule's interval from two consecutive activations.
func period(s cron.Schedule, now time.Time) time.Duration {
	a := s.Next(now)
	b := s.Next(a)
	if d := b.Sub(a); d > 0 {
		return d
	}
	return time.Hour
}

// offset is a source's stable phase within its period, like Prometheus's
// target offset: derived from the id, so it survives restarts and spreads
// sources that share a schedule instead of firing them in the same second.
func offset(id string, per time.Duration) time.Duration {
	limit := min(per/2, maxOffset)
	if limit <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(limit))
}

// nextRun is when a source should next be fetched after an attempt at now:
// its schedule plus offset, no earlier than what the server asked for
// (notBefore) and, after failures, backed off exponentially.
func nextRun(id string, s cron.Schedule, now, notBefore time.Time, failures int) time.Time {
	per := period(s, now)
	next := s.Next(now).Add(offset(id, per))
	if failures > 0 {
		backoff := per << min(failures, 10)
		backoff = min(backoff, maxBackoff)
		if b := now.Add(backoff); b.After(next) {
			next = b
		}
	}
	if notBefore.After(next) {
		next = notBefore
	}
	return next
}

// firstRun is when a source never fetched (or overdue) runs after a start at
// now: soon, but spread by its offset over at most a minute.
func firstRun(id string, now time.Time) time.Time {
	return now.Add(offset(id, 2*time.Minute))
}

package monitor

import (
	"fmt"
	"testing"
	"time"
)

func TestOffsetIsStableAndBounded(t *testing.T) {
	per := 15 * time.Minute
	for i := range 200 {
		id := fmt.Sprintf("source-%d", i)
		a, b := offset(id, per), offset(id, per)
		if a != b {
			t.Fatalf("offset(%s) not stable: %v then %v", id, a, b)
		}
		if a < 0 || a >= min(per/2, maxOffset) {
			t.Fatalf("offset(%s) = %v, out of [0, %v)", id, a, min(per/2, maxOffset))
		}
	}
	if got := offset("x", 0); got != 0 {
		t.Errorf("offset with zero period = %v, want 0", got)
	}
}

// TestOffsetsSpreadSources checks the point of the offset: hundreds of sources
// on one schedule must not fire in the same second.
func TestOffsetsSpreadSources(t *testing.T) {
	perSecond := map[time.Duration]int{}
	worst := 0
	for i := range 500 {
		o := offset(fmt.Sprintf("feed-%03d", i), time.Hour).Truncate(time.Second)
		perSecond[o]++
		worst = max(worst, perSecond[o])
	}
	// 500 sources over a 300 s window average under 2 a second; without the
	// offset all 500 would fire together.
	if worst > 10 || len(perSecond) < 200 {
		t.Errorf("500 sources fall in %d distinct seconds, up to %d in one; want them spread over the window", len(perSecond), worst)
	}
}

func TestNextRun(t *testing.T) {
	sched, err := ParseSchedule("@every 15m")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	base := now.Add(15 * time.Minute).Add(offset("s", 15*time.Minute))
	tests := map[string]struct {
		notBefore time.Time
		failures  int
		want      time.Time
	}{
		"healthy follows schedule plus offset": {want: base},
		"server asks for later":                {notBefore: now.Add(2 * time.Hour), want: now.Add(2 * time.Hour)},
		"server asks for sooner is ignored":    {notBefore: now.Add(time.Minute), want: base},
		"one failure doubles the period":       {failures: 1, want: now.Add(30 * time.Minute)},
		"three failures":                       {failures: 3, want: now.Add(120 * time.Minute)},
		"backoff is capped at a day":           {failures: 40, want: now.Add(maxBackoff)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := nextRun("s", sched, now, tc.notBefore, tc.failures); !got.Equal(tc.want) {
				t.Errorf("nextRun = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseSchedule(t *testing.T) {
	for _, spec := range []string{"@every 15m", "*/10 * * * *", "@hourly", "0 6 * * 1-5"} {
		if _, err := ParseSchedule(spec); err != nil {
			t.Errorf("ParseSchedule(%q): %v", spec, err)
		}
	}
	for _, spec := range []string{"", "every 15m", "61 * * * *", "@every banana"} {
		if _, err := ParseSchedule(spec); err == nil {
			t.Errorf("ParseSchedule(%q) succeeded, want an error", spec)
		}
	}
}

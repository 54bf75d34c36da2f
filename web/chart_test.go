package web

import (
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
)

func day0(n int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }

func TestMarkSpikes(t *testing.T) {
	flat := func(n, v int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	tests := []struct {
		name   string
		counts []int
		spikes []int // indexes expected to be spikes
	}{
		{"quiet then burst", append(flat(14, 1), 10), []int{14}},
		{"burst too small", append(flat(14, 0), 2), nil},                  // below spikeMin
		{"three is enough on silence", append(flat(14, 0), 3), []int{14}}, // σ = 0
		{"too little history", append(flat(13, 0), 50), nil},
		{"noisy history absorbs it", append([]int{0, 9, 0, 9, 0, 9, 0, 9, 0, 9, 0, 9, 0, 9}, 15), nil},
		{"just above 3 sigma", append([]int{2, 4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 4}, 7), []int{14}}, // mean 3, σ 1: 7 > 6
		{"exactly 3 sigma is not", append([]int{2, 4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 4}, 6), nil},
		{"a spike raises the bar after it", append(append(flat(14, 1), 20), 15), []int{14}}, // 15 < 2.36 + 3·4.89
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pts := make([]dayPoint, len(tt.counts))
			for i, c := range tt.counts {
				pts[i] = dayPoint{Day: day0(i), Count: c}
			}
			markSpikes(pts)
			var got []int
			for i, p := range pts {
				if p.Spike {
					got = append(got, i)
				}
			}
			if !equalInts(got, tt.spikes) {
				t.Errorf("spikes at %v, want %v", got, tt.spikes)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDensify(t *testing.T) {
	hist := []index.DayCount{{Day: day0(2), Count: 3}, {Day: day0(5).Add(3 * time.Hour), Count: 4}}
	tests := []struct {
		name     string
		from, to time.Time
		want     []int
	}{
		{"own range", time.Time{}, time.Time{}, []int{3, 0, 0, 4}},
		{"wider range", day0(0), day0(6), []int{0, 0, 3, 0, 0, 4, 0}},
		{"to before from", day0(6), day0(0), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, p := range densify(hist, tt.from, tt.to) {
				got = append(got, p.Count)
			}
			if !equalInts(got, tt.want) {
				t.Errorf("counts %v, want %v", got, tt.want)
			}
		})
	}
	if pts := densify(nil, day0(0), day0(400)); len(pts) != maxChartDays+spikeWindow {
		t.Errorf("long range kept %d days, want %d", len(pts), maxChartDays+spikeWindow)
	}
}

func TestBuildChart(t *testing.T) {
	var hist []index.DayCount
	for i := range 30 {
		n := 1
		if i == 20 {
			n = 12
		}
		hist = append(hist, index.DayCount{Day: day0(i), Count: n,
			Topics: map[string]int{"treaty_withdrawal": n, "production": 1}, Countries: map[string]int{"PL": n}})
	}
	c := buildChart("Articles", hist, day0(0), day0(29), "topic")
	if c.Days != 30 || c.Total != 29+12 || c.Peak.Count != 12 || !c.Peak.Day.Equal(day0(20)) {
		t.Fatalf("days %d total %d peak %+v", c.Days, c.Total, c.Peak)
	}
	if len(c.Spikes) != 1 || len(c.SpikeDay) != 1 || !c.SpikeDay[0].Day.Equal(day0(20)) {
		t.Errorf("spikes %+v", c.SpikeDay)
	}
	if len(c.Lines) != 2 || c.Lines[0].Label != "Treaty withdrawal" {
		t.Errorf("lines %+v", c.Lines)
	}
	if strings.ContainsAny(c.Area, "<>\"&") || !strings.HasPrefix(c.Area, "M") {
		t.Errorf("area path %q", c.Area)
	}
	if e := buildChart("x", nil, time.Time{}, time.Time{}, "topic"); !e.Empty() {
		t.Error("chart of nothing is not empty")
	}
	byCountry := buildChart("x", hist, day0(0), day0(29), "country")
	if len(byCountry.Lines) != 1 || byCountry.Lines[0].Label != "Poland" {
		t.Errorf("country lines %+v", byCountry.Lines)
	}
}

func BenchmarkBuildChart(b *testing.B) {
	var hist []index.DayCount
	for i := range 180 {
		hist = append(hist, index.DayCount{Day: day0(i), Count: i % 17, Topics: map[string]int{"a": i % 5, "b": i % 3}})
	}
	for b.Loop() {
		buildChart("x", hist, day0(0), day0(179), "topic")
	}
}

package web

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minewatch/minewatch/index"
)

const (
	// spikeWindow is how many preceding days a day is compared with.
	spikeWindow = 14
	// spikeSigmas and spikeMin define a spike: a count above the trailing
	// mean by this many standard deviations, and at least spikeMin articles,
	// so a quiet topic's two-article day is not an alarm.
	spikeSigmas = 3.0
	spikeMin    = 3
	// maxChartDays bounds the chart (and the page weight); older days are cut.
	maxChartDays = 180
	// chartSeries is how many topic or country lines are drawn besides the total.
	chartSeries = 3
	chartW      = 720.0
	chartH      = 160.0
	chartPad    = 4.0
)

// dayPoint is one day of a dense series.
type dayPoint struct {
	Day   time.Time
	Count int
	Spike bool
	// Mean and Sigma are of the trailing window, kept for the spike's tooltip.
	Mean, Sigma float64
}

// chartLine is one series of the chart as SVG path data.
type chartLine struct {
	Label string
	Class string
	Path  string
	Total int
}

// chartMark is a spike's marker.
type chartMark struct {
	X, Y  string
	Title string
}

// volumeChart is a server-rendered SVG chart of articles per day with its
// text alternative; the zero value renders nothing.
type volumeChart struct {
	Title    string
	Days     int
	From, To time.Time
	Total    int
	Peak     dayPoint
	Area     string // the total, as a filled path
	Lines    []chartLine
	Spikes   []chartMark
	SpikeDay []dayPoint
	MaxLabel string
	By       string // "topic" or "country"
}

// Empty reports that there is nothing to draw.
func (c volumeChart) Empty() bool { return c.Days == 0 }

// densify turns the index's sparse histogram into one point per day from
// `from` to `to` (inclusive, midnight UTC), keeping the last maxChartDays.
// A zero from/to takes the histogram's own first/last day.
func densify(hist []index.DayCount, from, to time.Time) []dayPoint {
	if len(hist) == 0 && (from.IsZero() || to.IsZero()) {
		return nil
	}
	if from.IsZero() {
		from = hist[0].Day
	}
	if to.IsZero() {
		to = hist[len(hist)-1].Day
	}
	from, to = midnight(from), midnight(to)
	if to.Before(from) {
		return nil
	}
	if days := int(to.Sub(from).Hours()/24) + 1; days > maxChartDays+spikeWindow {
		// Keep enough history before the shown range to judge its first days.
		from = to.AddDate(0, 0, -(maxChartDays + spikeWindow - 1))
	}
	counts := make(map[time.Time]int, len(hist))
	for _, h := range hist {
		counts[midnight(h.Day)] += h.Count
	}
	var pts []dayPoint
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		pts = append(pts, dayPoint{Day: d, Count: counts[d]})
	}
	return pts
}

func midnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// markSpikes flags each day whose count exceeds mean + 3σ of the spikeWindow
// days before it (population σ) and is at least spikeMin. Days with fewer
// than spikeWindow days of history are never spikes: a short history would
// flag the first busy day of every new search.
func markSpikes(pts []dayPoint) {
	for i := range pts {
		if i < spikeWindow {
			continue
		}
		var sum, sq float64
		for _, p := range pts[i-spikeWindow : i] {
			sum += float64(p.Count)
		}
		mean := sum / spikeWindow
		for _, p := range pts[i-spikeWindow : i] {
			d := float64(p.Count) - mean
			sq += d * d
		}
		sigma := math.Sqrt(sq / spikeWindow)
		pts[i].Mean, pts[i].Sigma = mean, sigma
		c := float64(pts[i].Count)
		pts[i].Spike = pts[i].Count >= spikeMin && c > mean+spikeSigmas*sigma
	}
}

// buildChart makes the chart of a histogram between from and to; by says
// which split the extra lines show ("topic" or "country").
func buildChart(title string, hist []index.DayCount, from, to time.Time, by string) volumeChart {
	pts := densify(hist, from, to)
	markSpikes(pts)
	if len(pts) > maxChartDays {
		pts = pts[len(pts)-maxChartDays:]
	}
	c := volumeChart{Title: title, Days: len(pts), By: by}
	if len(pts) == 0 {
		return c
	}
	c.From, c.To = pts[0].Day, pts[len(pts)-1].Day
	maxCount := 0
	for _, p := range pts {
		c.Total += p.Count
		maxCount = max(maxCount, p.Count)
		if p.Count > c.Peak.Count {
			c.Peak = p
		}
		if p.Spike {
			c.SpikeDay = append(c.SpikeDay, p)
		}
	}
	if c.Total == 0 {
		return c
	}
	c.MaxLabel = thousands(maxCount)
	x := func(i int) float64 {
		if len(pts) == 1 {
			return chartW / 2
		}
		return chartPad + float64(i)*(chartW-2*chartPad)/float64(len(pts)-1)
	}
	y := func(n int) float64 { return chartH - chartPad - float64(n)*(chartH-2*chartPad)/float64(maxCount) }

	var area strings.Builder
	fmt.Fprintf(&area, "M%s %sL", num(x(0)), num(chartH-chartPad))
	for i, p := range pts {
		fmt.Fprintf(&area, "%s %s ", num(x(i)), num(y(p.Count)))
	}
	fmt.Fprintf(&area, "%s %sZ", num(x(len(pts)-1)), num(chartH-chartPad))
	c.Area = area.String()

	for _, s := range topSeries(hist, pts, by) {
		var b strings.Builder
		for i, p := range pts {
			if i == 0 {
				b.WriteString("M")
			} else {
				b.WriteString("L")
			}
			fmt.Fprintf(&b, "%s %s", num(x(i)), num(y(s.counts[p.Day])))
		}
		c.Lines = append(c.Lines, chartLine{Label: s.label, Class: "s" + strconv.Itoa(len(c.Lines)+1), Path: b.String(), Total: s.total})
	}
	for i, p := range pts {
		if p.Spike {
			c.Spikes = append(c.Spikes, chartMark{
				X: num(x(i)), Y: num(y(p.Count)),
				Title: fmt.Sprintf("%s: %d articles, spike (trailing %d-day mean %.1f)", p.Day.Format("2 Jan 2006"), p.Count, spikeWindow, p.Mean),
			})
		}
	}
	return c
}

type series struct {
	label  string
	total  int
	counts map[time.Time]int
}

// topSeries picks the chartSeries largest topics (or countries) in the range.
func topSeries(hist []index.DayCount, pts []dayPoint, by string) []series {
	from, to := pts[0].Day, pts[len(pts)-1].Day
	byKey := map[string]*series{}
	for _, h := range hist {
		d := midnight(h.Day)
		if d.Before(from) || d.After(to) {
			continue
		}
		split := h.Topics
		if by == "country" {
			split = h.Countries
		}
		for k, n := range split {
			s := byKey[k]
			if s == nil {
				s = &series{label: k, counts: map[time.Time]int{}}
				byKey[k] = s
			}
			s.total += n
			s.counts[d] += n
		}
	}
	var out []series
	for _, s := range byKey {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b series) int {
		if a.total != b.total {
			return b.total - a.total
		}
		return strings.Compare(a.label, b.label)
	})
	if len(out) > chartSeries {
		out = out[:chartSeries]
	}
	for i := range out {
		if by == "country" {
			out[i].label = countryName(out[i].label, nil)
		} else {
			out[i].label = topicLabel(out[i].label)
		}
	}
	return out
}

// num prints a coordinate with one decimal, trimmed: paths stay short.
func num(f float64) string {
	s := strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
	return s
}

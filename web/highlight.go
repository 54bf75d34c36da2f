package web

import (
	"cmp"
	"slices"
	"unicode/utf8"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// markKind says why a piece of text is highlighted; kinds can overlap.
type markKind uint8

const (
	markTerm     markKind = 1 << iota // a rule term matched here
	markEvidence                      // an entity's evidence sentence
)

// mark is a byte range [start, end) to highlight, as the classifier reported it.
type mark struct {
	start, end int
	kind       markKind
}

// segment is a run of text with one highlight state. Templates escape Text,
// so no markup is ever assembled from document content by hand.
type segment struct {
	Text string
	Kind markKind
}

// Class is the CSS class of a highlighted run ("" when plain).
func (s segment) Class() string {
	switch s.Kind {
	case markTerm:
		return "term"
	case markEvidence:
		return "ev"
	case markTerm | markEvidence:
		return "term ev"
	}
	return ""
}

// Marked reports whether the run is highlighted at all.
func (s segment) Marked() bool { return s.Kind != 0 }

// highlight cuts text into runs by the marks. Spans come from another stage
// and may be stale or wrong, so they are clamped to the text, widened to
// whole runes (never splitting UTF-8), and overlaps are merged by kind.
func highlight(text string, marks []mark) []segment {
	type event struct {
		pos   int
		kind  markKind
		delta int
	}
	events := make([]event, 0, 2*len(marks))
	for _, m := range marks {
		start := max(0, min(m.start, len(text)))
		end := max(0, min(m.end, len(text)))
		for start > 0 && start < len(text) && !utf8.RuneStart(text[start]) {
			start--
		}
		for end < len(text) && !utf8.RuneStart(text[end]) {
			end++
		}
		if start >= end || m.kind == 0 {
			continue
		}
		events = append(events, event{start, m.kind, 1}, event{end, m.kind, -1})
	}
	slices.SortFunc(events, func(a, b event) int { return cmp.Compare(a.pos, b.pos) })

	type run struct {
		start, end int
		kind       markKind
	}
	var (
		runs   []run
		counts [2]int
		pos    int
	)
	state := func() markKind {
		var k markKind
		if counts[0] > 0 {
			k |= markTerm
		}
		if counts[1] > 0 {
			k |= markEvidence
		}
		return k
	}
	emit := func(to int) {
		if to <= pos {
			return
		}
		k := state()
		if n := len(runs); n > 0 && runs[n-1].kind == k {
			runs[n-1].end = to
		} else {
			runs = append(runs, run{pos, to, k})
		}
		pos = to
	}
	for _, e := range events {
		emit(e.pos)
		if e.kind&markTerm != 0 {
			counts[0] += e.delta
		}
		if e.kind&markEvidence != 0 {
			counts[1] += e.delta
		}
	}
	emit(len(text))
	segs := make([]segment, len(runs))
	for i, r := range runs {
		segs[i] = segment{Text: text[r.start:r.end], Kind: r.kind}
	}
	return segs
}

// documentMarks collects the highlight spans of one field of a document.
func documentMarks(doc news.Document, field news.Field) []mark {
	var marks []mark
	for _, t := range doc.Classification.Topics {
		for _, rm := range t.Matches {
			for _, h := range rm.Hits {
				if h.Field == field {
					marks = append(marks, mark{h.Start, h.End, markTerm})
				}
			}
		}
	}
	for _, e := range doc.Classification.Entities {
		if e.EvidenceAt.Field == field {
			marks = append(marks, mark{e.EvidenceAt.Start, e.EvidenceAt.End, markEvidence})
		}
	}
	return marks
}

// snippetSegments maps the index's snippet pieces to runs, so search results
// and the article view share one escaping path in the templates.
func snippetSegments(frags []index.Fragment) []segment {
	segs := make([]segment, 0, len(frags))
	for _, f := range frags {
		k := markKind(0)
		if f.Match {
			k = markTerm
		}
		segs = append(segs, segment{Text: f.Text, Kind: k})
	}
	return segs
}

package web

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

func TestHighlight(t *testing.T) {
	const text = "Poland leaves the Ottawa Convention."
	tests := []struct {
		name  string
		text  string
		marks []mark
		want  []segment
	}{
		{"no marks", text, nil, []segment{{text, 0}}},
		{"one term", text, []mark{{18, 24, markTerm}},
			[]segment{{"Poland leaves the ", 0}, {"Ottawa", markTerm}, {" Convention.", 0}}},
		{"whole text evidence with nested term", text, []mark{{0, len(text), markEvidence}, {7, 13, markTerm}},
			[]segment{{"Poland ", markEvidence}, {"leaves", markTerm | markEvidence}, {" the Ottawa Convention.", markEvidence}}},
		{"overlapping terms merge", text, []mark{{0, 10, markTerm}, {5, 13, markTerm}},
			[]segment{{"Poland leaves", markTerm}, {" the Ottawa Convention.", 0}}},
		{"adjacent terms merge", text, []mark{{0, 6, markTerm}, {6, 13, markTerm}},
			[]segment{{"Poland leaves", markTerm}, {" the Ottawa Convention.", 0}}},
		{"out of range clamped", text, []mark{{-5, 6, markTerm}, {25, 9999, markTerm}},
			[]segment{{"Poland", markTerm}, {" leaves the Ottawa ", 0}, {"Convention.", markTerm}}},
		{"empty and reversed spans dropped", text, []mark{{10, 10, markTerm}, {20, 3, markTerm}, {99, 120, markTerm}},
			[]segment{{text, 0}}},
		{"span inside a rune widened", "Łotwa wychodzi", []mark{{1, 3, markTerm}},
			[]segment{{"Ło", markTerm}, {"twa wychodzi", 0}}},
		{"end inside a rune widened", "żółw", []mark{{0, 3, markEvidence}},
			[]segment{{"żó", markEvidence}, {"łw", 0}}},
		{"empty text", "", []mark{{0, 5, markTerm}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := highlight(tt.text, tt.marks)
			if len(got) != len(tt.want) {
				t.Fatalf("highlight = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("segment %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSegmentClass(t *testing.T) {
	tests := []struct {
		kind markKind
		want string
	}{{0, ""}, {markTerm, "term"}, {markEvidence, "ev"}, {markTerm | markEvidence, "term ev"}}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := (segment{Kind: tt.kind}).Class(); got != tt.want {
				t.Errorf("Class() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDocumentMarks(t *testing.T) {
	doc := news.Document{Classification: news.Classification{
		Topics: []news.TopicScore{{Topic: "t", Matches: []news.RuleMatch{{RuleID: "r", Hits: []news.TermHit{
			{Term: "a", Span: news.Span{Field: news.FieldTitle, Start: 1, End: 2}},
			{Term: "b", Span: news.Span{Field: news.FieldText, Start: 3, End: 4}},
		}}}}},
		Entities: []news.Entity{{EvidenceAt: news.Span{Field: news.FieldText, Start: 0, End: 9}}},
	}}
	tests := []struct {
		field news.Field
		want  []mark
	}{
		{news.FieldTitle, []mark{{1, 2, markTerm}}},
		{news.FieldText, []mark{{3, 4, markTerm}, {0, 9, markEvidence}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.field), func(t *testing.T) {
			got := documentMarks(doc, tt.field)
			if len(got) != len(tt.want) {
				t.Fatalf("marks = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("mark %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSnippetSegments(t *testing.T) {
	got := snippetSegments([]index.Fragment{{Text: "a "}, {Text: "<b>", Match: true}})
	want := []segment{{"a ", 0}, {"<b>", markTerm}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("snippetSegments = %+v, want %+v", got, want)
	}
}

// FuzzHighlight feeds arbitrary spans (as the classifier might report after a
// bug or a text change) and checks the output is the text, cut at runes.
func FuzzHighlight(f *testing.F) {
	f.Add("Poland leaves the Ottawa Convention.", 18, 24, 0, 36)
	f.Add("Łotwa wychodzi z konwencji", 1, 3, 2, 100)
	f.Add("", -1, 5, 0, 0)
	f.Add("\xff\xfe broken utf8", 0, 1, 1, 2)
	f.Fuzz(func(t *testing.T, text string, s1, e1, s2, e2 int) {
		segs := highlight(text, []mark{{s1, e1, markTerm}, {s2, e2, markEvidence}})
		var b strings.Builder
		for i, s := range segs {
			if s.Text == "" {
				t.Fatalf("empty segment %d", i)
			}
			if i > 0 && segs[i-1].Kind == s.Kind {
				t.Fatalf("segments %d and %d not merged", i-1, i)
			}
			if utf8.ValidString(text) && !utf8.ValidString(s.Text) {
				t.Fatalf("segment %d splits a rune: %q", i, s.Text)
			}
			b.WriteString(s.Text)
		}
		if b.String() != text {
			t.Fatalf("segments join to %q, want %q", b.String(), text)
		}
	})
}

func BenchmarkHighlight(b *testing.B) {
	text := strings.Repeat("The Saeima voted to leave the Ottawa Convention on anti-personnel mines. ", 200)
	var marks []mark
	for i := 0; i+6 < len(text); i += 73 {
		marks = append(marks, mark{i + 30, i + 36, markTerm}, mark{i, i + 72, markEvidence})
	}
	b.ReportAllocs()
	for b.Loop() {
		highlight(text, marks)
	}
}

package entities

import (
	"os"
	"strings"
	"testing"
)

type article struct{ lang, title, text string }

// readArticles parses testdata/articles.txt.
func readArticles(tb testing.TB) []article {
	tb.Helper()
	data, err := os.ReadFile("testdata/articles.txt")
	if err != nil {
		tb.Fatal(err)
	}
	var out []article
	for _, chunk := range strings.Split(string(data), "=== ")[1:] {
		lang, rest, _ := strings.Cut(chunk, "\n")
		title, text, _ := strings.Cut(rest, "\n")
		out = append(out, article{lang: strings.TrimSpace(lang), title: title, text: strings.TrimSpace(text)})
	}
	if len(out) == 0 {
		tb.Fatal("no articles in testdata/articles.txt")
	}
	return out
}

func TestBenchmarkArticles(t *testing.T) {
	x := extractor(t)
	want := map[string][]string{
		"Lithuanian parliament": {"LT/withdraw_vote/ottawa"},
		"Polska złożyła":        {"PL/resume_production/ottawa", "PL/withdraw_notify/ottawa"},
		"Росіяни вдарили":       {"RU/use/ccm", "UA/casualties/ccm"},
		"Suomen irtautuminen":   {"FI/withdraw_effective/ottawa"},
		"Bundesregierung":       {"DE/remain/ottawa"},
		"Japan pledges":         {"AF/casualties/none", "JP/funding_increase/none", "MM/casualties/none", "SY/casualties/none", "UA/casualties/none", "UA/clearance/none"},
	}
	for _, a := range readArticles(t) {
		for prefix, w := range want {
			if !strings.HasPrefix(a.title, prefix) {
				continue
			}
			t.Run(prefix, func(t *testing.T) {
				got := x.Extract(a.title, a.text, a.lang, allTopics)
				if g := keysOf(got); strings.Join(g, " ") != strings.Join(w, " ") {
					t.Errorf("got %v, want %v", g, w)
					for _, e := range got {
						t.Logf("  %s: %q", e.Key(), e.Evidence)
					}
				}
				checkEvidence(t, a.title, a.text, got)
			})
		}
	}
}

// BenchmarkExtract measures extraction throughput over realistic articles in
// several languages; MB/s is over title and text bytes.
func BenchmarkExtract(b *testing.B) {
	x := extractor(b)
	arts := readArticles(b)
	var n int64
	for _, a := range arts {
		n += int64(len(a.title) + len(a.text))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range arts {
			x.Extract(a.title, a.text, a.lang, allTopics)
		}
	}
}

// BenchmarkNew measures loading the embedded gazetteer and cues.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}

package classify

import (
	"fmt"
	"strings"
	"testing"

	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/classify/textnorm"
	"github.com/minewatch/minewatch/news"
)

// FuzzMatch runs any query that parses over any text: matching must not panic
// and every hit must lie inside its field.
func FuzzMatch(f *testing.F) {
	f.Add("mine* NEAR/3 ban", "Mines: ban them", "the mine ban treaty")
	f.Add(`title:"Ottawa konw*" OR NOT x`, "Ottawa konwencja", "x")
	f.Add("(a OR b) NEAR/s (c OR \"d e\")", "a. c", "b d e. c a")
	f.Add("ł NEAR/1 ß", "Ł SS", "ﬁ")
	f.Fuzz(func(t *testing.T, q, title, text string) {
		n, err := query.Parse(q)
		if err != nil {
			return
		}
		m, err := CompileQuery(n)
		if err != nil {
			t.Fatalf("CompileQuery(%q) of a parsed query: %v", n, err)
		}
		ok, hits := m.Match(title, text)
		if !ok && len(hits) > 0 {
			t.Fatalf("no match but hits %v", hits)
		}
		for _, h := range hits {
			src := text
			if h.Field == news.FieldTitle {
				src = title
			}
			if h.Start < 0 || h.End > len(src) || h.Start >= h.End {
				t.Fatalf("hit %+v out of range of %q", h, src)
			}
		}
	})
}

// naiveNear is the definition of NEAR over single words: any pair of distinct
// positions of one field, within n (or in one sentence).
func naiveNear(title, text, x, y string, n int, sentence bool) bool {
	for _, src := range []string{title, text} {
		toks := textnorm.Tokenize(src)
		for i, a := range toks {
			if a.Text != x {
				continue
			}
			for j, b := range toks {
				if i == j || b.Text != y {
					continue
				}
				d := max(i-j, j-i)
				if sentence && a.Sentence == b.Sentence || !sentence && d <= n {
					return true
				}
			}
		}
	}
	return false
}

// FuzzNearAgainstNaive checks the windowed NEAR search against the quadratic
// definition on texts over a tiny vocabulary, where pairs are dense.
func FuzzNearAgainstNaive(f *testing.F) {
	f.Add("a b c a. b c\nc a", "b a", uint8(2), false)
	f.Add("a a a b", "", uint8(1), true)
	f.Add("c c c c a. c c b", "a", uint8(4), true)
	f.Fuzz(func(t *testing.T, text, title string, dist uint8, sentence bool) {
		n := int(dist)%query.MaxDistance + 1
		for _, pair := range [][2]string{{"a", "b"}, {"a", "a"}, {"b", "c"}} {
			op := fmt.Sprintf("NEAR/%d", n)
			if sentence {
				op = "NEAR/s"
			}
			q := pair[0] + " " + op + " " + pair[1]
			m := mustMatcherF(t, q)
			got, _ := m.Match(title, text)
			if want := naiveNear(title, text, pair[0], pair[1], n, sentence); got != want {
				t.Fatalf("%s on title %q text %q = %v, naive %v", q, title, text, got, want)
			}
		}
	})
}

func mustMatcherF(t *testing.T, src string) *Matcher {
	t.Helper()
	n, err := query.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	m, err := CompileQuery(n)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestNearLongArticle checks NEAR on an article with thousands of both words,
// the case a pairwise search would make quadratic.
func TestNearLongArticle(t *testing.T) {
	text := strings.Repeat("mine x x x x x x x x x x x x ", 5000) + "ban"
	tests := map[string]struct {
		q    string
		want bool
		hits int
	}{
		"far apart": {"mine NEAR/3 ban", false, 0},
		"last one":  {"mine NEAR/13 ban", true, 2},
		"sentence":  {"mine NEAR/s ban", true, maxHighlightHits},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ok, hits := mustMatcherF(t, tc.q).Match("", text)
			if ok != tc.want || len(hits) != tc.hits {
				t.Fatalf("Match = %v with %d hits, want %v with %d", ok, len(hits), tc.want, tc.hits)
			}
		})
	}
}

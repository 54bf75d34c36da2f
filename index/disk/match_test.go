package disk

import (
	"errors"
	"fmt"
	"testing"

	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/index"
)

func word(w string) *query.Term { return &query.Term{Words: []string{w}} }

func TestTranslate(t *testing.T) {
	tests := []struct {
		name      string
		n         query.Node
		fts, pred string
		rank      string
	}{
		{name: "folded word", n: word("Łotwą"), fts: `"lotwa"`},
		{name: "phrase with prefix", n: &query.Term{Words: []string{"Anti", "personnel", "min"}, Prefix: true, Quoted: true},
			fts: `"anti personnel min"*`},
		{name: "split word", n: word("Ottawa-Abkommen"), fts: `"ottawa abkommen"`},
		{name: "field", n: &query.Term{Field: "title", Words: []string{"Mina"}}, fts: `{title} : ("mina")`},
		{name: "and not", n: &query.And{Children: []query.Node{word("a"), &query.Not{Child: word("b")}, &query.Not{Child: word("c")}}},
			fts: `("a" NOT ("b" OR "c"))`},
		{name: "or", n: &query.Or{Children: []query.Node{word("a"), word("b")}}, fts: `("a" OR "b")`},
		{name: "top-level not", n: &query.Not{Child: word("b")},
			pred: `NOT (` + inFTS + `)`},
		{name: "not under or", n: &query.Or{Children: []query.Node{word("a"), &query.Not{Child: word("b")}}},
			pred: `(` + inFTS + `) OR (NOT (` + inFTS + `))`, rank: `"a"`},
		{name: "near distributes", n: &query.Near{Left: &query.Or{Children: []query.Node{word("a"), word("b")}}, Right: word("c"), Distance: 5},
			fts: `(NEAR("a" "c", 4) OR NEAR("b" "c", 4))`},
		{name: "near sentence", n: &query.Near{Left: word("a"), Right: word("c"), Sentence: true},
			fts: `NEAR("a" "c", 30)`},
		{name: "near with field", n: &query.Near{Left: &query.Term{Field: "title", Words: []string{"a"}}, Right: word("c"), Distance: 1},
			fts: `{title} : (NEAR("a" "c", 0))`},
		{name: "near across fields", n: &query.Near{Left: &query.Term{Field: "title", Words: []string{"a"}}, Right: &query.Term{Field: "text", Words: []string{"c"}}, Distance: 3},
			fts: neverPhrase},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := translate(tc.n, nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.fts != tc.fts || p.pred != tc.pred || p.rank != tc.rank {
				t.Errorf("translate(%s) =\nfts  %s\npred %s\nrank %s\nwant\nfts  %s\npred %s\nrank %s",
					tc.n, p.fts, p.pred, p.rank, tc.fts, tc.pred, tc.rank)
			}
		})
	}
}

func TestTranslateErrors(t *testing.T) {
	for _, n := range []query.Node{
		word("—"),
		&query.Term{Field: "author", Words: []string{"x"}},
		&query.Near{Left: &query.And{Children: []query.Node{word("a"), word("b")}}, Right: word("c"), Distance: 2},
		&query.Near{Left: word("a"), Right: word("c"), Distance: 0},
	} {
		if _, err := translate(n, nil); !errors.Is(err, index.ErrBadQuery) {
			t.Errorf("translate(%s): err = %v, want ErrBadQuery", n, err)
		}
	}
}

func TestFTSWord(t *testing.T) {
	for in, want := range map[string]string{
		"mina": "mina", "": emptyToken, "1⁄2": "1⁄2", "a.b": "ab", "...": emptyToken, "ukraïna": "ukraïna",
	} {
		if got := ftsWord(in); got != want {
			t.Errorf("ftsWord(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSearchText(t *testing.T) {
	tests := []struct{ summary, text, want string }{
		{"", "body", "body"},
		{"sum", "", "sum"},
		{"sum", " \n", "sum"},
		{"sum", "body", "body"},
	}
	for _, tc := range tests {
		if got := searchText(tc.summary, tc.text); got != tc.want {
			t.Errorf("searchText(%q, %q) = %q, want %q", tc.summary, tc.text, got, tc.want)
		}
	}
}

// TestTranslateExpandsPrefixes checks when prefix words become ORs of words:
// not for the prefix index's lengths, not past maxExpansion, never inside a
// NEAR whose combinations would pass it.
func TestTranslateExpandsPrefixes(t *testing.T) {
	many := make([]string, maxExpansion/2+1)
	for i := range many {
		many[i] = fmt.Sprintf("convention%02d", i)
	}
	vocab := map[string][]string{
		"withdr":     {"withdraw", "withdrawal"},
		"landmi":     {"landmine"},
		"nothin":     {},
		"conventio":  many,
		"оттавськ":   {"оттавська", "оттавської"},
		"personnelm": {"personnelmine"},
	}
	asked := map[string]int{}
	expand := func(p string) ([]string, bool, error) {
		asked[p]++
		if p == "toomany" {
			return nil, false, nil
		}
		return vocab[p], true, nil
	}
	prefix := func(words ...string) *query.Term { return &query.Term{Words: words, Prefix: true} }
	tests := []struct {
		name string
		n    query.Node
		fts  string
	}{
		{"expanded", prefix("withdr"), `("withdraw" OR "withdrawal")`},
		{"one word", prefix("landmi"), `"landmine"`},
		{"no such word", prefix("nothin"), neverPhrase},
		{"prefix index length 3", prefix("min"), `"min"*`},
		{"prefix index length 4", prefix("mine"), `"mine"*`},
		{"four letters of Cyrillic", prefix("мини"), `"мини"*`},
		{"too many words", prefix("toomany"), `"toomany"*`},
		{"non-ASCII", prefix("Оттавськ"), `("оттавська" OR "оттавської")`},
		{"last word of a phrase", &query.Term{Words: []string{"anti", "withdr"}, Prefix: true, Quoted: true},
			`("anti withdraw" OR "anti withdrawal")`},
		{"field", &query.Term{Field: "title", Words: []string{"withdr"}, Prefix: true}, `{title} : (("withdraw" OR "withdrawal"))`},
		{"near", &query.Near{Left: prefix("withdr"), Right: word("treaty"), Distance: 5},
			`(NEAR("withdraw" "treaty", 4) OR NEAR("withdrawal" "treaty", 4))`},
		{"near past maxExpansion", &query.Near{Left: prefix("withdr"), Right: prefix("conventio"), Distance: 5},
			`NEAR("withdr"* "conventio"*, 4)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := translate(tc.n, expand)
			if err != nil {
				t.Fatal(err)
			}
			if p.fts != tc.fts {
				t.Errorf("translate(%s) = %s, want %s", tc.n, p.fts, tc.fts)
			}
		})
	}
	if asked["min"]+asked["mine"]+asked["мини"] != 0 {
		t.Errorf("asked for prefixes the prefix index serves: %v", asked)
	}

	boom := errors.New("disk on fire")
	_, err := translate(prefix("withdr"), func(string) ([]string, bool, error) { return nil, false, boom })
	if !errors.Is(err, boom) || errors.Is(err, index.ErrBadQuery) {
		t.Errorf("expand error = %v, want it wrapped and not ErrBadQuery", err)
	}
}

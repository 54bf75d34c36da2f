package entities

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/minewatch/minewatch/classify/textnorm"
)

// element is one position of a cue pattern: alternative words, or any one-word
// marker of a class (@class). gap is how many other tokens may come before it.
type element struct {
	alts  []word
	class string
	gap   int
}

// cue is one compiled row of cues.tsv.
type cue struct {
	class    string
	lang     string // "*" for every language
	elems    []element
	requires []string // marker classes, any of which must be in the sentence
	src      string
}

// hit is one place a cue matched: tokens [first, last] of the document.
type hit struct {
	cue         *cue
	first, last int
}

// markerClasses are context, not actions.
var markerClasses = map[string]bool{
	"neg": true, "hedge": true, "future": true, "history": true, "after": true, "parl": true, "gov": true,
	"opinion": true, "ban": true, "also": true, "apm": true, "apmweak": true, "ccm": true, "un": true, "treaty": true, "wd": true, "law": true,
}

var actionClasses = map[string]bool{
	"announce": true, "vote": true, "notify": true, "effective": true, "withdraw": true, "same": true,
	"remain": true, "join": true, "resume": true, "produce": true, "destroy": true, "transfer": true,
	"use": true, "fundcut": true, "fundup": true, "casualty": true, "clear": true,
}

// cueSet holds the compiled cues, indexed by language and by what their first
// element can match, so a token costs one map lookup.
type cueSet struct {
	// index[lang][key] lists the cues of that language and the language-neutral
	// ones; index[""] holds every cue, for articles in other languages.
	index map[string]map[string][]*cue
	at    map[string][]*cue // cues whose first element is @class, by language likewise
	n     int
}

// add files c under the languages it applies to.
func (cs *cueSet) add(c *cue) {
	for _, l := range append(slices.Sorted(maps.Keys(knownLang)), "") {
		if c.lang != "*" && l != "" && c.lang != l {
			continue
		}
		if c.elems[0].class != "" {
			cs.at[l] = append(cs.at[l], c)
			continue
		}
		if cs.index[l] == nil {
			cs.index[l] = map[string][]*cue{}
		}
		seen := map[string]bool{}
		for _, w := range c.elems[0].alts {
			k := indexKey(w.text)
			if !seen[k] {
				seen[k] = true
				cs.index[l][k] = append(cs.index[l][k], c)
			}
		}
	}
}

func compileCues(data []byte) (*cueSet, error) {
	cs := &cueSet{index: map[string]map[string][]*cue{}, at: map[string][]*cue{}}
	err := eachRow(data, "cues.tsv", 3, func(src string, f []string) error {
		class, lang := f[0], f[1]
		if !markerClasses[class] && !actionClasses[class] {
			return fmt.Errorf("%s: unknown class %q", src, class)
		}
		var req []string
		if len(f) > 3 && strings.TrimSpace(f[3]) != "" {
			for _, r := range strings.Split(strings.TrimSpace(f[3]), "/") {
				if !markerClasses[r] {
					return fmt.Errorf("%s: requires unknown marker class %q", src, r)
				}
				req = append(req, r)
			}
		}
		for _, p := range strings.Split(f[2], " | ") {
			elems, err := compilePattern(p)
			if err != nil {
				return fmt.Errorf("%s: %w", src, err)
			}
			if lang != "*" && !knownLang[lang] {
				return fmt.Errorf("%s: unknown language %q", src, lang)
			}
			cs.add(&cue{class: class, lang: lang, elems: elems, requires: req, src: src})
			cs.n++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cs, nil
}

// compilePattern parses "a/b* ~3 c @parl" (see cues.tsv).
func compilePattern(p string) ([]element, error) {
	var elems []element
	gap := 0
	for _, f := range strings.Fields(p) {
		if strings.HasPrefix(f, "~") {
			n, err := strconv.Atoi(f[1:])
			if err != nil || n < 0 || len(elems) == 0 {
				return nil, fmt.Errorf("pattern %q: bad gap %q", p, f)
			}
			gap = n
			continue
		}
		if strings.HasPrefix(f, "@") {
			if !markerClasses[f[1:]] {
				return nil, fmt.Errorf("pattern %q: unknown marker class %q", p, f)
			}
			elems = append(elems, element{class: f[1:], gap: gap})
			gap = 0
			continue
		}
		// A word the tokenizer splits (secretary-general) becomes several
		// elements; alternatives must each be one word.
		alts := strings.Split(f, "/")
		var multi [][]word
		for _, a := range alts {
			ws, err := compileWords(a)
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %w", p, err)
			}
			multi = append(multi, ws)
		}
		if len(multi) == 1 && len(multi[0]) > 1 {
			for i, w := range multi[0] {
				g := 0
				if i == 0 {
					g = gap
				}
				elems = append(elems, element{alts: []word{w}, gap: g})
			}
			gap = 0
			continue
		}
		e := element{gap: gap}
		for _, ws := range multi {
			if len(ws) != 1 {
				return nil, fmt.Errorf("pattern %q: alternative %q is not one word", p, f)
			}
			e.alts = append(e.alts, ws[0])
		}
		elems = append(elems, e)
		gap = 0
	}
	if len(elems) == 0 {
		return nil, fmt.Errorf("empty pattern")
	}
	if elems[0].gap != 0 {
		return nil, fmt.Errorf("pattern %q starts with a gap", p)
	}
	return elems, nil
}

// sentenceHits finds every cue of the article's language (and language-neutral
// ones) in toks[lo:hi], markers first so @class elements can use them.
func (cs *cueSet) sentenceHits(toks []textnorm.Token, lo, hi int, lang string) []hit {
	var hits []hit
	if !knownLang[lang] {
		lang = ""
	}
	index := cs.index[lang]
	for i := lo; i < hi; i++ {
		for _, c := range index[indexKey(toks[i].Text)] {
			if last, ok := matchFrom(c.elems, toks, i, hi, nil); ok {
				hits = append(hits, hit{cue: c, first: i, last: last})
			}
		}
	}
	if at := cs.at[lang]; len(at) > 0 {
		starts := map[int][]string{}
		for _, h := range hits {
			if markerClasses[h.cue.class] && h.first == h.last {
				starts[h.first] = append(starts[h.first], h.cue.class)
			}
		}
		for i := lo; i < hi && len(starts) > 0; i++ {
			for _, c := range at {
				if !hasClass(starts[i], c.elems[0].class) {
					continue
				}
				if len(c.elems) == 1 {
					hits = append(hits, hit{cue: c, first: i, last: i})
					continue
				}
				for j := i + 1; j <= i+1+c.elems[1].gap && j < hi; j++ {
					if last, ok := matchFrom(c.elems[1:], toks, j, hi, starts); ok {
						hits = append(hits, hit{cue: c, first: i, last: last})
						break
					}
				}
			}
		}
	}
	// Drop hits whose required context is missing from the sentence.
	present := map[string]bool{}
	for _, h := range hits {
		if markerClasses[h.cue.class] {
			present[h.cue.class] = true
		}
	}
	if present["apm"] || present["ccm"] {
		present["treaty"] = true
	}
	out := hits[:0]
	for _, h := range hits {
		if len(h.cue.requires) == 0 || hasAny(present, h.cue.requires) {
			out = append(out, h)
		}
	}
	return out
}

var knownLang = map[string]bool{"en": true, "pl": true, "fi": true, "et": true, "lv": true, "lt": true, "uk": true, "ru": true, "de": true, "fr": true}

func hasClass(classes []string, c string) bool {
	for _, x := range classes {
		if x == c {
			return true
		}
	}
	return false
}

func hasAny(present map[string]bool, classes []string) bool {
	for _, c := range classes {
		if present[c] {
			return true
		}
	}
	return false
}

// matchFrom matches elems with the first one at token i (its gap ignored), each
// later one within its gap of the previous, all before hi. It returns the index
// of the last matched token.
func matchFrom(elems []element, toks []textnorm.Token, i, hi int, starts map[int][]string) (int, bool) {
	if len(elems) == 0 {
		return i - 1, true
	}
	if i >= hi || !elemMatches(elems[0], toks, i, starts) {
		return 0, false
	}
	if len(elems) == 1 {
		return i, true
	}
	next := elems[1]
	for j := i + 1; j <= i+1+next.gap && j < hi; j++ {
		if last, ok := matchFrom(elems[1:], toks, j, hi, starts); ok {
			return last, true
		}
	}
	return 0, false
}

func elemMatches(e element, toks []textnorm.Token, i int, starts map[int][]string) bool {
	if e.class != "" {
		return hasClass(starts[i], e.class)
	}
	for _, w := range e.alts {
		if w.matches(toks[i].Text) {
			return true
		}
	}
	return false
}

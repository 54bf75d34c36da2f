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
	bit   classSet // class's bit, when class is set
	gap   int
}

// cue is one compiled row of cues.tsv.
type cue struct {
	class    string
	bit      classSet // class as a bit
	marker   bool     // class is a marker class
	lang     string   // "*" for every language
	elems    []element
	requires []string // marker classes, any of which must be in the sentence
	reqBits  classSet // requires as bits
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

// classSet is a set of cue classes, one bit each, so the per-sentence
// bookkeeping of which markers occur where needs no maps.
type classSet uint64

// classBits numbers every class.
var classBits = func() map[string]classSet {
	m := map[string]classSet{}
	for _, set := range []map[string]bool{markerClasses, actionClasses} {
		for _, c := range slices.Sorted(maps.Keys(set)) {
			if _, ok := m[c]; !ok {
				m[c] = 1 << len(m)
			}
		}
	}
	if len(m) > 64 {
		panic("entities: more than 64 cue classes")
	}
	return m
}()

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
			c := &cue{class: class, bit: classBits[class], marker: markerClasses[class], lang: lang, elems: elems, requires: req, src: src}
			for _, r := range req {
				c.reqBits |= classBits[r]
			}
			cs.add(c)
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
			elems = append(elems, element{class: f[1:], bit: classBits[f[1:]], gap: gap})
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

// sentenceHits appends to dst every cue of the article's language (and
// language-neutral ones) in toks[lo:hi], markers first so @class elements can
// use them. entries[i] is what can start at token i (nil: nothing); marks is
// scratch memory, returned for reuse.
func (cs *cueSet) sentenceHits(dst []hit, toks []textnorm.Token, entries []*keyEntry, lo, hi int, lang string, marks []classSet) ([]hit, []classSet) {
	start := len(dst)
	if !knownLang[lang] {
		lang = ""
	}
	slot := langSlot(lang)
	for i := lo; i < hi; i++ {
		e := entries[i]
		if e == nil {
			continue
		}
		// The entry holds only cues whose first word is this token's.
		for _, c := range e.cues[slot] {
			if last, ok := matchRest(c.elems, toks, i, hi, nil, lo); ok {
				dst = append(dst, hit{cue: c, first: i, last: last})
			}
		}
	}
	if at := cs.at[lang]; len(at) > 0 {
		// marks[i-lo] holds the classes of the one-token markers at token i.
		marks = slices.Grow(marks[:0], hi-lo)[:hi-lo]
		clear(marks)
		found := false
		for _, h := range dst[start:] {
			if h.cue.marker && h.first == h.last {
				marks[h.first-lo] |= h.cue.bit
				found = true
			}
		}
		for i := lo; i < hi && found; i++ {
			for _, c := range at {
				if marks[i-lo]&c.elems[0].bit == 0 {
					continue
				}
				if len(c.elems) == 1 {
					dst = append(dst, hit{cue: c, first: i, last: i})
					continue
				}
				for j := i + 1; j <= i+1+c.elems[1].gap && j < hi; j++ {
					if last, ok := matchFrom(c.elems[1:], toks, j, hi, marks, lo); ok {
						dst = append(dst, hit{cue: c, first: i, last: last})
						break
					}
				}
			}
		}
	}
	// Drop hits whose required context is missing from the sentence.
	var present classSet
	for _, h := range dst[start:] {
		if h.cue.marker {
			present |= h.cue.bit
		}
	}
	if present&(classBits["apm"]|classBits["ccm"]) != 0 {
		present |= classBits["treaty"]
	}
	out := dst[:start]
	for _, h := range dst[start:] {
		if h.cue.reqBits == 0 || present&h.cue.reqBits != 0 {
			out = append(out, h)
		}
	}
	return out, marks
}

// langSlots are the languages cues are indexed under; "" is every other one.
var langSlots = [...]string{"de", "en", "et", "fi", "fr", "lt", "lv", "pl", "ru", "uk", ""}

// langSlot returns the index of lang (a known language or "") in langSlots.
func langSlot(lang string) int {
	for i, l := range langSlots {
		if l == lang {
			return i
		}
	}
	return len(langSlots) - 1
}

var knownLang = map[string]bool{"en": true, "pl": true, "fi": true, "et": true, "lv": true, "lt": true, "uk": true, "ru": true, "de": true, "fr": true}

// matchFrom matches elems with the first one at token i (its gap ignored), each
// later one within its gap of the previous, all before hi. marks[k-lo] are the
// marker classes at token k (nil: none yet). It returns the index of the last
// matched token.
func matchFrom(elems []element, toks []textnorm.Token, i, hi int, marks []classSet, lo int) (int, bool) {
	if len(elems) == 0 {
		return i - 1, true
	}
	if i >= hi || !elemMatches(elems[0], toks, i, marks, lo) {
		return 0, false
	}
	return matchRest(elems, toks, i, hi, marks, lo)
}

// matchRest is matchFrom for elems whose first one is known to match token i.
func matchRest(elems []element, toks []textnorm.Token, i, hi int, marks []classSet, lo int) (int, bool) {
	if len(elems) == 1 {
		return i, true
	}
	next := elems[1]
	for j := i + 1; j <= i+1+next.gap && j < hi; j++ {
		if last, ok := matchFrom(elems[1:], toks, j, hi, marks, lo); ok {
			return last, true
		}
	}
	return 0, false
}

func elemMatches(e element, toks []textnorm.Token, i int, marks []classSet, lo int) bool {
	if e.class != "" {
		return marks != nil && marks[i-lo]&e.bit != 0
	}
	for _, w := range e.alts {
		if w.matches(toks[i].Text) {
			return true
		}
	}
	return false
}

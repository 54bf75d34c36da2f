// Package textnorm turns text into the form rules, entities and the index match on:
// folded words with offsets into the original text, and sentence boundaries.
package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// special maps letters that NFD leaves whole (they are not letter + mark) to the
// ASCII-ish spelling analysts type for them. Keys are already case-folded.
var special = map[rune]string{
	'ł': "l", 'ø': "o", 'đ': "d", 'ħ': "h", 'ı': "i", 'ß': "ss",
	'æ': "ae", 'œ': "oe", 'þ': "th", 'ё': "е", 'ŧ': "t", 'ŀ': "l",
}

// tableLimit bounds the precomputed per-rune fold table: it covers Latin,
// Greek, Cyrillic, Armenian, Hebrew and Arabic, the scripts of the corpus.
const tableLimit = 0x800

// foldTable holds Fold of each rune below tableLimit, computed once by the slow
// path so both paths agree by construction. It is never written after init.
var foldTable = buildFoldTable()

// slowRune marks runes below tableLimit whose fold depends on their neighbours
// (U+0345 composes with a preceding Greek vowel under NFKC), so strings holding
// them take the slow path.
const slowRune = "\x00slow"

func buildFoldTable() []string {
	t := make([]string, tableLimit)
	for r := rune(0); r < tableLimit; r++ {
		t[r] = foldSlow(string(r))
	}
	t[0x345] = slowRune
	return t
}

// Fold returns s in matching form: NFKC, Unicode case folding, diacritics
// removed (NFD then drop Mn marks), plus the letters NFD does not decompose:
// ł→l, ø→o, đ→d, ħ→h, ı→i, ß→ss, æ→ae, œ→oe, þ→th, ё→е (Cyrillic).
//
// Dropping every Mn mark also folds Cyrillic й→и and ї→і; rules and text are
// folded alike, so this only merges forms that differ by a diacritic.
func Fold(s string) string {
	// ASCII: only upper-case letters change; return s itself when nothing does.
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			break
		}
	}
	if i == len(s) {
		return s
	}
	if ascii, ok := foldASCII(s, i); ok {
		return ascii
	}
	if out, ok := foldTabled(s); ok {
		return out
	}
	return foldSlow(s)
}

// foldASCII lower-cases s when it is all ASCII; from is the first byte that may
// need work.
func foldASCII(s string, from int) (string, bool) {
	for j := from; j < len(s); j++ {
		if s[j] >= utf8.RuneSelf {
			return "", false
		}
	}
	b := make([]byte, len(s))
	copy(b, s[:from])
	for j := from; j < len(s); j++ {
		c := s[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[j] = c
	}
	return string(b), true
}

// foldTabled folds s rune by rune through foldTable; it fails when a rune is
// outside the table or needs context.
func foldTabled(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= tableLimit {
			return "", false
		}
		f := foldTable[r]
		if f == slowRune {
			return "", false
		}
		b.WriteString(f)
	}
	return b.String(), true
}

// foldSlow is the definition of Fold, for any input.
func foldSlow(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = caseFold(r)
		if sp, ok := special[r]; ok {
			b.WriteString(sp)
			continue
		}
		b.WriteRune(r)
	}
	d := norm.NFD.String(b.String())
	b.Reset()
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		// Folding can expose a special letter only after decomposition
		// (e.g. ǿ → ø + acute).
		if sp, ok := special[r]; ok {
			b.WriteString(sp)
			continue
		}
		b.WriteRune(r)
	}
	// Recompose what is left (Hangul jamo, for one) so the result stays in NFC.
	return norm.NFC.String(b.String())
}

// caseFold maps r to its case-folded form. Lower(Upper(r)) gives the simple
// case folding for all scripts we meet (ς→σ, ſ→s, K (Kelvin)→k); ß is expanded
// by the special table.
func caseFold(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

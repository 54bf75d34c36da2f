package textnorm

import (
	"unicode"
	"unicode/utf8"
)

// Sentence is a byte range [Start, End) of the original string, trimmed of
// surrounding space.
type Sentence struct {
	Start, End int
}

// abbreviations end with a dot that does not end a sentence, in the languages of
// the corpus. Matching is exact, so "No." is an abbreviation and "no." is not.
var abbreviations = map[string]bool{
	// English
	"Mr": true, "Mrs": true, "Ms": true, "Dr": true, "St": true, "Gen": true, "Prof": true,
	"No": true, "Nos": true, "Sen": true, "Rep": true, "Lt": true, "Col": true, "Maj": true,
	"Sgt": true, "Capt": true, "Gov": true, "Jr": true, "Sr": true, "Inc": true, "Ltd": true,
	"Corp": true, "etc": true, "vs": true, "approx": true, "Art": true, "art": true, "Jan": true,
	"Feb": true, "Mar": true, "Apr": true, "Aug": true, "Sept": true, "Sep": true, "Oct": true,
	"Nov": true, "Dec": true, "Vol": true, "pp": true, "ca": true, "cf": true,
	// Polish
	"nr": true, "Nr": true, "np": true, "dr": true, "prof": true, "gen": true, "płk": true,
	"ppłk": true, "tzw": true, "tzn": true, "ust": true, "godz": true, "ul": true, "tys": true,
	"mln": true, "mld": true, "wg": true, "pt": true, "im": true, "red": true,
	// Lithuanian
	"pvz": true, "kt": true, "val": true, "mėn": true, "proc": true,
	// Latvian
	"utt": true, "piem": true, "plkst": true, "milj": true, "tūkst": true,
	// Estonian
	"nt": true, "jne": true, "jt": true, "nn": true, "lk": true,
	// German
	"bzw": true, "usw": true, "ggf": true, "vgl": true, "Mio": true, "Mrd": true, "Abs": true,
	// Finnish
	"esim": true, "ns": true, "mm": true, "yms": true,
	// French
	"Mme": true, "Mlle": true, "env": true,
	// Ukrainian / Russian
	"тис": true, "млн": true, "млрд": true, "див": true, "ст": true, "им": true, "тыс": true,
}

// Sentences splits text into sentences: at . ! ? … followed by space and an
// upper-case letter, digit, quote or dash; at line breaks (paragraphs,
// headlines). No split after common abbreviations (Mr. Dr. St. U.S. Gen. Prof.
// No. nr. np. pvz. t.y. ir kt. z.B. etc.), single-letter initials, or 1–3 digit
// numbers (ordinal dates: "8. Mai", "4. juunil").
func Sentences(s string) []Sentence {
	return appendSentences(nil, s)
}

func appendSentences(out []Sentence, s string) []Sentence {
	start := 0
	emit := func(end int) {
		if sn, ok := trim(s, start, end); ok {
			out = append(out, sn)
		}
	}
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf && !asciiSpecial[c] {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isLineBreak(r):
			emit(i)
			start = i + size
			i += size
		case isTerminator(r):
			end, next, ok := sentenceEnd(s, i)
			if ok {
				emit(end)
				start = next
				i = next
				continue
			}
			i = end
		default:
			i += size
		}
	}
	emit(len(s))
	return out
}

// sentenceEnd looks at the terminator run starting at i. It returns the end of
// the sentence (after the terminators and closing quotes), where the next one
// starts, and whether this really is a boundary. When it is not, end is where
// scanning resumes.
func sentenceEnd(s string, i int) (end, next int, ok bool) {
	j := i
	dots := 0
	runLen := 0
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !isTerminator(r) {
			break
		}
		if r == '.' {
			dots++
		}
		runLen++
		j += size
	}
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !isCloser(r) {
			break
		}
		j += size
	}
	end = j
	if j == len(s) {
		return end, j, true
	}
	r, size := utf8.DecodeRuneInString(s[j:])
	if isLineBreak(r) {
		// The line break ends the sentence anyway.
		return end, j, false
	}
	if !unicode.IsSpace(r) {
		return end, end, false
	}
	k := j + size
	for k < len(s) {
		r, size := utf8.DecodeRuneInString(s[k:])
		if !unicode.IsSpace(r) || isLineBreak(r) {
			break
		}
		k += size
	}
	if k == len(s) {
		return end, k, true
	}
	r, _ = utf8.DecodeRuneInString(s[k:])
	if isLineBreak(r) {
		return end, k, false
	}
	if !(unicode.IsUpper(r) || unicode.IsTitle(r) || unicode.IsDigit(r) || isOpener(r) || isDash(r)) {
		return end, end, false
	}
	if runLen == 1 && dots == 1 && isAbbreviation(wordBefore(s, i)) {
		return end, end, false
	}
	return end, k, true
}

// wordBefore returns the run of non-space text that ends at i, without leading
// opening brackets and quotes.
func wordBefore(s string, i int) string {
	j := i
	for j > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		if unicode.IsSpace(r) || r == '(' || r == '[' || isOpener(r) {
			break
		}
		j -= size
	}
	return s[j:i]
}

// isAbbreviation reports whether a dot after w is part of w rather than a full
// stop: known abbreviations, single letters (initials, "р."), 1–3 digit numbers
// (ordinals such as "8. Mai") and dotted initialisms (U.S, z.B, t.y, e.g).
func isAbbreviation(w string) bool {
	if w == "" {
		return false
	}
	if abbreviations[w] {
		return true
	}
	if len(w) <= 3 {
		digits := true
		for k := 0; k < len(w); k++ {
			if w[k] < '0' || w[k] > '9' {
				digits = false
				break
			}
		}
		if digits {
			return true
		}
	}
	// Single letters separated by dots: "A", "U.S", "z.B".
	letters := 0
	expectLetter := true
	for _, r := range w {
		if expectLetter {
			if !unicode.IsLetter(r) {
				return false
			}
			letters++
			expectLetter = false
			continue
		}
		if r != '.' {
			return false
		}
		expectLetter = true
	}
	return letters > 0 && !expectLetter
}

// asciiSpecial marks the ASCII bytes Sentences must look at: terminators and
// line breaks. Everything else is skipped a byte at a time.
var asciiSpecial = func() (t [utf8.RuneSelf]bool) {
	for c := rune(0); c < utf8.RuneSelf; c++ {
		t[c] = isTerminator(c) || isLineBreak(c)
	}
	return
}()

func isTerminator(r rune) bool { return r == '.' || r == '!' || r == '?' || r == '…' }

func isLineBreak(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\u0085' || r == '\v' || r == '\f'
}

// isCloser is what may follow a full stop inside the sentence it ends.
func isCloser(r rune) bool {
	switch r {
	case '"', '\'', '”', '’', '»', '«', '›', ')', ']', '“':
		return true
	}
	return false
}

// isOpener is what may start a sentence besides a capital or a digit. « and »
// both open quotes in some language of the corpus (French «…», German »…«).
func isOpener(r rune) bool {
	switch r {
	case '"', '\'', '“', '„', '«', '»', '‘', '‚', '‹', '›', '(', '[':
		return true
	}
	return false
}

func isDash(r rune) bool { return r == '-' || r == '–' || r == '—' || r == '‒' || r == '―' }

// trim shrinks [start, end) of s to exclude surrounding space.
func trim(s string, start, end int) (Sentence, bool) {
	for start < end {
		r, size := utf8.DecodeRuneInString(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		start += size
	}
	for end > start {
		r, size := utf8.DecodeLastRuneInString(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= size
	}
	return Sentence{Start: start, End: end}, end > start
}

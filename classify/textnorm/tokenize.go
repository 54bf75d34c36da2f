package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Token is one word of a text: Text is folded; Start/End are byte offsets in the
// ORIGINAL string; Index is the token's ordinal; Sentence the ordinal of its
// sentence (see Sentences).
type Token struct {
	Text                        string
	Start, End, Index, Sentence int
}

// asciiWord says which ASCII bytes belong to words; asciiUpper which need folding.
var asciiWord, asciiUpper = func() (w, u [utf8.RuneSelf]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		w[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		u[c] = 'A' <= c && c <= 'Z'
	}
	return
}()

// isWordRune reports whether r continues a word: letters, digits and combining
// marks. Apostrophes and hyphens are deliberately not word runes, so
// "d'Ottawa" and "Ottawa-Abkommen" give two tokens each.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiWord[r]
	}
	if r == 'ʼ' { // U+02BC is a letter to Unicode but an apostrophe in Ukrainian
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// Tokenize splits s into words: maximal runs of letters, digits and combining
// marks; hyphens, apostrophes (' ’ ʼ) and all punctuation separate tokens
// ("Ottawa-Abkommen" → ottawa, abkommen; "d'Ottawa" → d, ottawa).
func Tokenize(s string) []Token {
	return AppendTokens(nil, s)
}

// AppendTokens is Tokenize appending to dst, so a caller tokenizing many texts
// can reuse one slice.
func AppendTokens(dst []Token, s string) []Token {
	return appendTokens(dst, s, Sentences(s), nil)
}

// maxFoldCache bounds a Tokenizer's memory of folded words; news vocabulary
// is large but repetitive, so a full cache is simply dropped and refilled.
const maxFoldCache = 1 << 15

// Tokenizer tokenizes like Tokenize, but reuses its buffers and remembers the
// folded form of the words it meets, so tokenizing article after article
// allocates almost nothing. It is not safe for concurrent use: pool it.
type Tokenizer struct {
	folds map[string]string
	sents []Sentence
}

// Append is AppendTokens with the tokenizer's memory.
func (z *Tokenizer) Append(dst []Token, s string) []Token {
	z.sents = appendSentences(z.sents[:0], s)
	if z.folds == nil || len(z.folds) > maxFoldCache {
		z.folds = make(map[string]string, 1024)
	}
	return appendTokens(dst, s, z.sents, z.folds)
}

// appendTokens does the work of AppendTokens; folds, when not nil, caches Fold.
func appendTokens(dst []Token, s string, sents []Sentence, folds map[string]string) []Token {
	first := len(dst)
	sent := 0
	i := 0
	for i < len(s) {
		// Skip separators.
		c := s[i]
		if c < utf8.RuneSelf {
			if !asciiWord[c] {
				i++
				continue
			}
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				i += size
				continue
			}
		}
		start := i
		plain := true // all ASCII, no upper case: the token is its own folded form
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				if !asciiWord[c] {
					break
				}
				if asciiUpper[c] {
					plain = false
				}
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				break
			}
			plain = false
			i += size
		}
		word := s[start:i]
		text := word
		if !plain {
			if folds == nil {
				text = Fold(word)
			} else if f, ok := folds[word]; ok {
				text = f
			} else {
				text = Fold(word)
				// Clone the key: a substring would pin the whole article.
				folds[strings.Clone(word)] = text
			}
			if text == "" { // a run of bare combining marks
				continue
			}
		}
		for sent < len(sents)-1 && start >= sents[sent].End {
			sent++
		}
		dst = append(dst, Token{Text: text, Start: start, End: i, Index: len(dst) - first, Sentence: sent})
	}
	return dst
}

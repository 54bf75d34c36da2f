package disk

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/minewatch/minewatch/classify/textnorm"
)

const (
	// emptyToken stands in for a textnorm token that has nothing left after
	// ftsWord, so FTS positions still equal token indexes. It is a private-use
	// rune, which textnorm never puts in a token and queries cannot produce.
	emptyToken = "\uE000"
	// neverToken is a phrase no document contains, for query parts that can
	// never match (a NEAR between title: and text: terms).
	neverToken = "\uE001"
)

// ftsWord makes a folded token safe as exactly one token of the ascii FTS5
// tokenizer, which splits on ASCII characters other than letters and digits.
// Fold can emit those only through NFKC compatibility forms (rare), so they are
// dropped.
func ftsWord(tok string) string {
	clean := true
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c < 0x80 && !isASCIIAlnum(c) {
			clean = false
			break
		}
	}
	if clean {
		if tok == "" {
			return emptyToken
		}
		return tok
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c >= 0x80 || isASCIIAlnum(c) {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return emptyToken
	}
	return b.String()
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// ftsColumn is the FTS form of a field: its folded tokens joined by single
// spaces, one FTS token per textnorm token.
func ftsColumn(s string, buf []textnorm.Token) (string, []textnorm.Token) {
	buf = textnorm.AppendTokens(buf[:0], s)
	var b strings.Builder
	b.Grow(len(s))
	for i, t := range buf {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(ftsWord(t.Text))
	}
	return b.String(), buf
}

// ftsWriter makes the FTS columns of articles one after another, reusing its
// buffers, and collects the distinct words of the columns since reset for
// fts_terms (putAll writes them once per batch).
type ftsWriter struct {
	toks  []textnorm.Token
	terms map[string]struct{}
	list  []string
}

func (w *ftsWriter) reset() {
	if w.terms == nil {
		w.terms = map[string]struct{}{}
	}
	clear(w.terms)
}

// column is ftsColumn of s, noting its words.
func (w *ftsWriter) column(s string) string {
	var col string
	col, w.toks = ftsColumn(s, w.toks)
	for t := range strings.SplitSeq(col, " ") { // no slice of the words
		if t != "" && t != emptyToken {
			w.terms[t] = struct{}{}
		}
	}
	return col
}

// termsJSON lists the words noted since reset as a JSON array.
func (w *ftsWriter) termsJSON() (string, error) {
	if w.list == nil {
		w.list = make([]string, 0, len(w.terms)) // "[]" when empty, not "null"
	}
	w.list = w.list[:0]
	for t := range w.terms {
		w.list = append(w.list, t)
	}
	b, err := json.Marshal(w.list)
	if err != nil {
		return "", fmt.Errorf("encode fts terms: %w", err)
	}
	return string(b), nil
}

// queryWords folds one word of a query into the FTS tokens it stands for; a
// word textnorm splits (rare: the parser already splits most) gives several,
// searched as a phrase.
func queryWords(word string) []string {
	toks := textnorm.Tokenize(word)
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if w := ftsWord(t.Text); w != emptyToken {
			out = append(out, w)
		}
	}
	return out
}

// searchText is the body that is indexed and snippeted: the text, or the feed
// summary when there is no text, the same choice the classifier makes, so a
// rule tried on the archive finds what the classifier would.
func searchText(summary, text string) string {
	if strings.TrimSpace(text) == "" {
		return summary
	}
	return text
}

package disk

import (
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

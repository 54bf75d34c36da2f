package disk

import (
	"strings"
	"unicode/utf8"

	"github.com/minewatch/minewatch/classify/textnorm"
	"github.com/minewatch/minewatch/index"
)

const (
	// snippetLen is the snippet's target length in bytes of original text.
	snippetLen = 240
	// snippetLead is how much text before the first hit the snippet shows.
	snippetLead = 60
	ellipsis    = "…"
)

// snippet cuts about snippetLen bytes of text around the first token matching
// one of words, marking every matching token. Without words, or without a hit
// in text, it is the start of text.
func snippet(text string, words []snippetWord) []index.Fragment {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	toks := textnorm.Tokenize(text)
	first := -1
	if len(words) > 0 {
		for i, t := range toks {
			if matchesAny(ftsWord(t.Text), words) {
				first = i
				break
			}
		}
	}
	start := 0
	if first >= 0 && toks[first].Start > snippetLead {
		// Start at a word: the first token that leaves about snippetLead
		// bytes before the hit.
		start = toks[first].Start
		for i := first - 1; i >= 0 && toks[first].Start-toks[i].Start <= snippetLead; i-- {
			start = toks[i].Start
		}
	}
	end := len(text)
	if end-start > snippetLen {
		end = start + snippetLen
		// End after a whole word: back off to the end of the last token that
		// fits, when there is one.
		cut := -1
		for _, t := range toks {
			if t.Start >= start && t.End <= end {
				cut = t.End
			}
		}
		if cut > start {
			end = cut
		} else {
			for end > start && !utf8.RuneStart(text[end]) {
				end--
			}
		}
	}

	var frags []index.Fragment
	add := func(s string, match bool) {
		if s == "" {
			return
		}
		if n := len(frags); n > 0 && frags[n-1].Match == match {
			frags[n-1].Text += s
			return
		}
		frags = append(frags, index.Fragment{Text: s, Match: match})
	}
	if start > 0 {
		add(ellipsis, false)
	}
	pos := start
	if first >= 0 {
		for _, t := range toks[first:] {
			if t.End > end {
				break
			}
			if t.Start < start || !matchesAny(ftsWord(t.Text), words) {
				continue
			}
			add(text[pos:t.Start], false)
			add(text[t.Start:t.End], true)
			pos = t.End
		}
	}
	add(text[pos:end], false)
	if end < len(text) {
		add(ellipsis, false)
	}
	return frags
}

func matchesAny(tok string, words []snippetWord) bool {
	for _, w := range words {
		if tok == w.text || (w.prefix && strings.HasPrefix(tok, w.text)) {
			return true
		}
	}
	return false
}

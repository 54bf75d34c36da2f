package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/minewatch/minewatch/news"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlText turns feed-carried HTML content into plain text with paragraphs
// separated by "\n\n", the shape news.Article.Text has. It is only the
// fallback when an item's page could not be read, so it stays simple: block
// elements end paragraphs, script and style are dropped.
func htmlText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return joinParagraphs(strings.Split(s, "\n\n"))
	}
	var paras []string
	var cur strings.Builder
	flush := func() {
		if t := cur.String(); t != "" {
			paras = append(paras, t)
		}
		cur.Reset()
	}
	skip := 0
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			flush()
			return joinParagraphs(paras)
		case html.TextToken:
			if skip == 0 {
				cur.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			switch a := atom.Lookup(name); a {
			case atom.Script, atom.Style, atom.Noscript:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case atom.Br:
				cur.WriteByte(' ')
			case atom.P, atom.Div, atom.Li, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
				atom.Blockquote, atom.Tr, atom.Pre, atom.Figcaption, atom.Section, atom.Article, atom.Hr,
				atom.Ul, atom.Ol, atom.Table, atom.Dd, atom.Dt:
				flush()
			case atom.Td, atom.Th, atom.Img:
				cur.WriteByte(' ')
			}
		}
	}
}

func joinParagraphs(paras []string) string {
	out := make([]string, 0, len(paras))
	for _, p := range paras {
		if p = collapseSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n\n")
}

// collapseSpace trims s and turns every run of white space into one space.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u00a0' || r == '\u200b' {
			space = true
			continue
		}
		if unicode.IsControl(r) {
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// normLang reduces a language tag to its ISO 639-1 primary subtag, lower
// case: "en-GB" → "en". Tags whose primary subtag is not two letters give "".
func normLang(tag string) string {
	tag = strings.TrimSpace(tag)
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	tag = strings.ToLower(tag)
	if len(tag) != 2 || tag[0] < 'a' || tag[0] > 'z' || tag[1] < 'a' || tag[1] > 'z' {
		return ""
	}
	return tag
}

// Per-item caps. A feed or page may carry megabytes in one item (a broken
// CMS, a hostile server); every byte would be classified, indexed and shown.
// Real articles are far below these: a long report is ~100 KB of text.
const (
	maxTitleBytes   = 2 << 10
	maxSummaryBytes = 64 << 10
	maxTextBytes    = 1 << 20
)

// clipFields cuts an article's title, summary and text to the per-item caps
// and reports whether anything was cut.
func clipFields(a *news.Article) bool {
	cut := false
	for _, f := range []struct {
		s *string
		n int
	}{{&a.Title, maxTitleBytes}, {&a.Summary, maxSummaryBytes}, {&a.Text, maxTextBytes}} {
		if len(*f.s) > f.n {
			*f.s = clip(*f.s, f.n)
			cut = true
		}
	}
	return cut
}

// clip returns the longest prefix of s of at most n bytes that does not end
// inside a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

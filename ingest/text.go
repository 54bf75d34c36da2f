package ingest

import (
	"strings"
	"unicode"

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

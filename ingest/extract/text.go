package extract

import (
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// blockNames are elements that end a paragraph; the go-trafilatura output tree
// uses some names of its own (list, item, head, quote, row, cell, lb).
var blockNames = map[string]bool{
	"p": true, "div": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"li": true, "ul": true, "ol": true, "dl": true, "dt": true, "dd": true, "blockquote": true,
	"pre": true, "table": true, "tr": true, "thead": true, "tbody": true, "tfoot": true,
	"section": true, "article": true, "header": true, "footer": true, "figure": true,
	"figcaption": true, "main": true, "aside": true, "nav": true, "form": true, "address": true,
	"br": true, "hr": true, "caption": true, "details": true, "summary": true,
	"list": true, "item": true, "head": true, "quote": true, "row": true, "lb": true,
}

// cellNames separate words but not paragraphs.
var cellNames = map[string]bool{"td": true, "th": true, "cell": true}

// renderText turns a subtree into plain text: paragraphs separated by "\n\n",
// white space collapsed inside each. The walk is iterative.
func renderText(root *html.Node) string {
	var paras []string
	var cur strings.Builder
	flush := func() {
		if p := collapseSpace(cur.String()); p != "" {
			paras = append(paras, p)
		}
		cur.Reset()
	}
	type frame struct {
		n    *html.Node
		exit bool
	}
	stack := []frame{{n: root}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := f.n
		if f.exit {
			if blockNames[n.Data] {
				flush()
			} else if cellNames[n.Data] {
				cur.WriteByte(' ')
			}
			continue
		}
		switch n.Type {
		case html.TextNode:
			cur.WriteString(n.Data)
			continue
		case html.ElementNode:
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg:
				continue
			}
			if blockNames[n.Data] {
				flush()
			}
		}
		stack = append(stack, frame{n: n, exit: true})
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, frame{n: c})
		}
	}
	flush()
	return strings.Join(paras, "\n\n")
}

// collapseSpace trims s and turns every run of white space into one space.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u00a0' || r == '\u200b' || r == '\ufeff' {
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

// boilerplate are containers whose text is never the article.
func boilerplate(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Nav, atom.Header, atom.Footer, atom.Aside, atom.Form, atom.Button, atom.Select:
		return true
	}
	cls := strings.ToLower(attr(n, "class") + " " + attr(n, "id"))
	for _, w := range []string{"cookie", "comment", "share", "related", "newsletter", "sidebar", "advert", "promo", "footer", "navigation", "menu"} {
		if strings.Contains(cls, w) {
			return true
		}
	}
	return false
}

// simpleText is the linear-time extractor used when go-trafilatura cannot be:
// pages too large for it, or a failure inside it. It keeps the paragraphs,
// headings and list items of the <article> (else <main>, else <body>), outside
// navigation and other boilerplate containers.
func simpleText(doc *html.Node) string {
	root := findFirst(doc, atom.Article)
	if root == nil {
		root = findFirst(doc, atom.Main)
	}
	if root == nil {
		root = findFirst(doc, atom.Body)
	}
	if root == nil {
		root = doc
	}
	var paras []string
	stack := []*html.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Type != html.ElementNode && n.Type != html.DocumentNode {
			continue
		}
		if n != root && boilerplate(n) {
			continue
		}
		switch n.DataAtom {
		case atom.P, atom.H2, atom.H3, atom.H4, atom.Li, atom.Blockquote, atom.Pre:
			if t := collapseSpace(textOf(n)); t != "" {
				paras = append(paras, t)
			}
			continue
		case atom.Script, atom.Style:
			continue
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
	return strings.Join(paras, "\n\n")
}

func findFirst(doc *html.Node, a atom.Atom) *html.Node {
	stack := []*html.Node{doc}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Type == html.ElementNode && n.DataAtom == a {
			return n
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
	return nil
}

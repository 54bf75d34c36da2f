package extract

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxDepth bounds element nesting before parsing. golang.org/x/net/html refuses
// documents nested deeper than 512 elements, and nothing a reader wants is
// that deep, so deeper tags are dropped and their text kept.
const maxDepth = 200

// sanitize rewrites a page before it is parsed: it drops scripts (except
// JSON-LD, which holds metadata), styles, SVG, templates, comments and tags
// nested deeper than maxDepth. Both parsing and extraction get faster, and
// the parser's depth limit cannot reject the page.
func sanitize(src []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(src) / 2)
	z := html.NewTokenizer(bytes.NewReader(src))
	z.SetMaxBuf(0)
	var stack []string // open elements, by name
	skip := 0          // depth inside an element whose content is dropped
	var skipName string
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.Bytes()
		}
		raw := z.Raw()
		switch tt {
		case html.CommentToken:
			continue
		case html.DoctypeToken:
			out.Write(raw)
		case html.TextToken:
			if skip == 0 {
				out.Write(raw)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			nameB, hasAttr := z.TagName()
			name := string(nameB)
			a := atom.Lookup(nameB)
			if skip > 0 {
				if tt == html.StartTagToken && name == skipName {
					skip++
				}
				continue
			}
			if dropped(a, name) || (a == atom.Script && !isJSONLD(z, hasAttr)) {
				if tt == html.StartTagToken {
					skip, skipName = 1, name
				}
				continue
			}
			if tt == html.SelfClosingTagToken || isVoid(a) {
				out.Write(raw)
				continue
			}
			if len(stack) >= maxDepth {
				continue
			}
			stack = append(stack, name)
			out.Write(raw)
		case html.EndTagToken:
			nameB, _ := z.TagName()
			name := string(nameB)
			if skip > 0 {
				if name == skipName {
					skip--
				}
				continue
			}
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i] == name {
					stack = stack[:i]
					out.Write(raw)
					break
				}
			}
		}
	}
}

// dropped reports elements whose whole content is useless for extraction.
func dropped(a atom.Atom, name string) bool {
	switch a {
	case atom.Style, atom.Svg, atom.Template, atom.Noscript, atom.Iframe, atom.Math, atom.Canvas:
		return true
	}
	return a == 0 && name == "svg"
}

// isJSONLD reports whether the script tag being tokenized is JSON-LD. It reads
// the tag's attributes, so it must be the last use of them.
func isJSONLD(z *html.Tokenizer, hasAttr bool) bool {
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		if string(k) == "type" {
			return strings.EqualFold(strings.TrimSpace(string(v)), "application/ld+json")
		}
	}
	return false
}

func isVoid(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input,
		atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

package extract

import (
	"encoding/json"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// pageMeta is what one walk over the document collects for metadata.
type pageMeta struct {
	htmlLang  string
	titleTag  string
	h1        string // first <h1>, preferring one inside <article>
	props     map[string]string
	canonical string
	baseHref  string
	jsonLD    []string
	times     []timeElem
}

type timeElem struct {
	value     string // datetime attribute
	published bool   // itemprop=datePublished or the pubdate attribute
	inArticle bool
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// collectMeta walks the document once, without recursion.
func collectMeta(doc *html.Node) *pageMeta {
	m := &pageMeta{props: map[string]string{}}
	var h1Outside string
	type frame struct {
		n         *html.Node
		inArticle bool
	}
	stack := []frame{{doc, false}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := f.n
		inArticle := f.inArticle
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Html:
				if m.htmlLang == "" {
					m.htmlLang = attr(n, "lang")
					if m.htmlLang == "" {
						m.htmlLang = attr(n, "xml:lang")
					}
				}
			case atom.Title:
				if m.titleTag == "" && !inSVG(n) {
					m.titleTag = collapseSpace(textOf(n))
				}
			case atom.Meta:
				content := strings.TrimSpace(attr(n, "content"))
				if content == "" {
					break
				}
				for _, k := range []string{"property", "name", "itemprop", "http-equiv"} {
					if key := strings.ToLower(strings.TrimSpace(attr(n, k))); key != "" {
						if _, ok := m.props[key]; !ok {
							m.props[key] = content
						}
					}
				}
			case atom.Link:
				rel := strings.ToLower(attr(n, "rel"))
				if m.canonical == "" && hasToken(rel, "canonical") {
					m.canonical = strings.TrimSpace(attr(n, "href"))
				}
			case atom.Base:
				if m.baseHref == "" {
					m.baseHref = strings.TrimSpace(attr(n, "href"))
				}
			case atom.Script:
				if strings.EqualFold(strings.TrimSpace(attr(n, "type")), "application/ld+json") {
					m.jsonLD = append(m.jsonLD, textOf(n))
				}
				continue
			case atom.Style, atom.Noscript:
				continue
			case atom.Article:
				inArticle = true
			case atom.H1:
				t := collapseSpace(textOf(n))
				if t != "" {
					if inArticle && m.h1 == "" {
						m.h1 = t
					} else if h1Outside == "" {
						h1Outside = t
					}
				}
			case atom.Time:
				if v := strings.TrimSpace(attr(n, "datetime")); v != "" {
					pub := hasAttr(n, "pubdate") || strings.EqualFold(attr(n, "itemprop"), "datePublished")
					m.times = append(m.times, timeElem{value: v, published: pub, inArticle: inArticle})
				}
			}
			if ip := attr(n, "itemprop"); n.DataAtom != atom.Meta && n.DataAtom != atom.Time && ip != "" {
				// Microdata outside <meta>: <span itemprop="datePublished" content="…">.
				key := strings.ToLower(ip)
				if v := strings.TrimSpace(attr(n, "content")); v != "" {
					if _, ok := m.props[key]; !ok {
						m.props[key] = v
					}
				}
			}
			if strings.Contains(strings.ToLower(attr(n, "itemtype")), "article") {
				inArticle = true
			}
		}
		// Push children in reverse so they are visited in document order.
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, frame{c, inArticle})
		}
	}
	if m.h1 == "" {
		m.h1 = h1Outside
	}
	return m
}

func inSVG(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Namespace == "svg" || p.DataAtom == atom.Svg {
			return true
		}
	}
	return false
}

func hasToken(list, tok string) bool {
	for f := range strings.FieldsSeq(list) {
		if f == tok {
			return true
		}
	}
	return false
}

// textOf concatenates the text under n, without recursion.
func textOf(n *html.Node) string {
	var b strings.Builder
	stack := []*html.Node{n}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
			continue
		}
		if c.Type == html.ElementNode && (c.DataAtom == atom.Script && c != n || c.DataAtom == atom.Style) {
			continue
		}
		for k := c.LastChild; k != nil; k = k.PrevSibling {
			stack = append(stack, k)
		}
	}
	return b.String()
}

// ldInfo is what the JSON-LD of a page says about its article.
type ldInfo struct {
	headline, datePublished, language, publisher string
	authors                                      []string
}

var articleTypes = map[string]bool{
	"article": true, "newsarticle": true, "reportagenewsarticle": true, "analysisnewsarticle": true,
	"blogposting": true, "liveblogposting": true, "opinionnewsarticle": true, "backgroundnewsarticle": true,
	"reviewnewsarticle": true, "report": true, "techarticle": true, "scholarlyarticle": true,
	"socialmediaposting": true, "posting": true, "webpage": true, "itempage": true,
}

// parseJSONLD reads the JSON-LD blocks and returns the article they describe:
// the first object of an article type, else the first with a datePublished.
func parseJSONLD(blocks []string) ldInfo {
	var best, fallback map[string]any
	bestRank := 100
	var visit func(v any, depth int)
	visit = func(v any, depth int) {
		if depth > 20 || (best != nil && bestRank == 0) {
			return
		}
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				visit(e, depth+1)
			}
		case map[string]any:
			if rank, ok := typeRank(x["@type"]); ok && rank < bestRank {
				best, bestRank = x, rank
			}
			if fallback == nil {
				if _, ok := x["datePublished"]; ok {
					fallback = x
				}
			}
			if g, ok := x["@graph"]; ok {
				visit(g, depth+1)
			}
			if me, ok := x["mainEntity"]; ok {
				visit(me, depth+1)
			}
		}
	}
	for _, b := range blocks {
		var v any
		dec := json.NewDecoder(strings.NewReader(strings.TrimSpace(b)))
		if err := dec.Decode(&v); err != nil {
			continue
		}
		visit(v, 0)
	}
	obj := best
	if obj == nil || (bestRank > 0 && fallback != nil) {
		if fallback != nil {
			obj = fallback
		}
	}
	if obj == nil {
		return ldInfo{}
	}
	info := ldInfo{
		headline:      ldString(obj["headline"]),
		datePublished: ldString(obj["datePublished"]),
		language:      ldString(obj["inLanguage"]),
		publisher:     ldName(obj["publisher"]),
	}
	if info.headline == "" {
		info.headline = ldString(obj["name"])
	}
	info.authors = ldNames(obj["author"])
	return info
}

// typeRank ranks @type values: news articles first, then other articles, then
// web pages; ok is false for other types.
func typeRank(t any) (rank int, ok bool) {
	rank = 100
	check := func(s string) {
		s = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(s, "http://schema.org/"), "https://schema.org/"))
		if !articleTypes[s] {
			return
		}
		r := 1
		switch {
		case strings.Contains(s, "newsarticle"):
			r = 0
		case s == "webpage" || s == "itempage":
			r = 2
		}
		if r < rank {
			rank, ok = r, true
		}
	}
	switch x := t.(type) {
	case string:
		check(x)
	case []any:
		for _, e := range x {
			if s, isStr := e.(string); isStr {
				check(s)
			}
		}
	}
	return rank, ok
}

func ldString(v any) string {
	switch x := v.(type) {
	case string:
		return collapseSpace(x)
	case []any:
		if len(x) > 0 {
			return ldString(x[0])
		}
	case map[string]any:
		if s, ok := x["@value"].(string); ok {
			return collapseSpace(s)
		}
		if s, ok := x["name"].(string); ok {
			return collapseSpace(s)
		}
	}
	return ""
}

func ldName(v any) string {
	switch x := v.(type) {
	case string:
		return collapseSpace(x)
	case map[string]any:
		return ldString(x["name"])
	case []any:
		if len(x) > 0 {
			return ldName(x[0])
		}
	}
	return ""
}

func ldNames(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = append(out, ldNames(e)...)
		}
	default:
		if n := ldName(x); n != "" && !looksLikeURL(n) {
			out = append(out, n)
		}
	}
	return out
}

func looksLikeURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "/")
}

package extract

import (
	"bytes"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"

	"github.com/minewatch/minewatch/ingest/canon"
)

// nonArticleExt are link targets that are never article pages.
var nonArticleExt = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true, ".svg": true,
	".pdf": true, ".zip": true, ".mp3": true, ".mp4": true, ".css": true, ".js": true,
	".xml": true, ".rss": true, ".ico": true, ".doc": true, ".docx": true, ".xls": true,
}

// Links returns the article links of a listing page: absolute, canonicalised
// (canon.Clean) and de-duplicated, in page order. With a selector, every
// matching element's href (or the href of the anchors inside it) is taken.
// Without one, the page's own-site links are taken, except the page itself,
// the home page and links to files.
func Links(page []byte, pageURL, selector string) ([]string, error) {
	base, err := url.Parse(strings.TrimSpace(pageURL))
	if err != nil || !base.IsAbs() {
		return nil, fmt.Errorf("links %s: page URL is not absolute", pageURL)
	}
	sel := strings.TrimSpace(selector)
	if sel != "" {
		if _, err := cascadia.ParseGroup(sel); err != nil {
			return nil, fmt.Errorf("links %s: %w %q: %v", pageURL, ErrBadSelector, sel, err)
		}
	}
	doc, err := html.Parse(bytes.NewReader(sanitize(page)))
	if err != nil {
		return nil, fmt.Errorf("links %s: parse HTML: %w", pageURL, err)
	}
	if m := collectMeta(doc); m.baseHref != "" {
		if b, err := base.Parse(m.baseHref); err == nil && b.IsAbs() {
			base = b
		}
	}
	self, _ := canon.Clean(base.String())
	gq := goquery.NewDocumentFromNode(doc)

	var hrefs []string
	if sel != "" {
		gq.Find(sel).Each(func(_ int, s *goquery.Selection) {
			if h, ok := s.Attr("href"); ok {
				hrefs = append(hrefs, h)
				return
			}
			s.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
				h, _ := a.Attr("href")
				hrefs = append(hrefs, h)
			})
		})
	} else {
		gq.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
			h, _ := a.Attr("href")
			hrefs = append(hrefs, h)
		})
	}

	seen := map[string]bool{}
	var out []string
	for _, h := range hrefs {
		h = strings.TrimSpace(h)
		if h == "" || strings.HasPrefix(h, "#") {
			continue
		}
		ref, err := url.Parse(h)
		if err != nil {
			continue
		}
		abs := base.ResolveReference(ref)
		c, err := canon.Clean(abs.String())
		if err != nil || seen[c] || c == self {
			continue
		}
		if sel == "" {
			cu, err := url.Parse(c)
			if err != nil || !sameSite(cu.Hostname(), base.Hostname()) || cu.Path == "/" ||
				nonArticleExt[strings.ToLower(path.Ext(cu.Path))] {
				continue
			}
		}
		seen[c] = true
		out = append(out, c)
	}
	return out, nil
}

// sameSite compares hosts ignoring a leading "www." and letter case.
func sameSite(a, b string) bool {
	a = strings.TrimPrefix(strings.ToLower(a), "www.")
	b = strings.TrimPrefix(strings.ToLower(b), "www.")
	return a == b
}

package extract

import (
	"strings"
	"unicode/utf8"
)

// titleSeps separate a headline from the site or section name in <title> and
// og:title.
var titleSeps = []string{" | ", " :: ", " « ", " » ", " – ", " — ", " - ", " · ", " / "}

// cleanTitle removes site-name and section parts from a title: parts equal to
// the site name wherever they are, then short trailing parts.
func cleanTitle(t, siteName string) string {
	t = collapseSpace(t)
	site := strings.ToLower(collapseSpace(siteName))
	for changed := true; changed; {
		changed = false
		for _, sep := range titleSeps {
			i := strings.LastIndex(t, sep)
			if i <= 0 {
				continue
			}
			head, tail := t[:i], t[i+len(sep):]
			switch {
			case site != "" && strings.EqualFold(tail, site):
				t, changed = head, true
			case site != "" && strings.HasPrefix(strings.ToLower(t), site+sep):
				t, changed = t[len(site)+len(sep):], true
			case site == "" && shortTail(head, tail):
				t, changed = head, true
			case site != "" && shortTail(head, tail) && strings.Contains(strings.ToLower(tail), firstWord(site)):
				t, changed = head, true
			}
			if changed {
				break
			}
		}
	}
	return strings.TrimSpace(t)
}

// shortTail reports whether tail looks like a site or section name after a
// headline: at most four words and clearly shorter than the headline.
func shortTail(head, tail string) bool {
	words := len(strings.Fields(tail))
	return words > 0 && words <= 4 && utf8.RuneCountInString(tail)*2 < utf8.RuneCountInString(head)
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return "\x00"
	}
	return strings.TrimPrefix(f[0], "www.")
}

// similarTitles reports whether two titles are the same headline, allowing one
// to be a shortened or extended form of the other.
func similarTitles(a, b string) bool {
	a, b = strings.ToLower(collapseSpace(a)), strings.ToLower(collapseSpace(b))
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return strings.Contains(b, a) && len(a)*10 >= len(b)*6
}

// chooseTitle prefers the <h1> when og:title, JSON-LD or <title> confirm it,
// then og:title, the JSON-LD headline and the <title>.
func chooseTitle(og, ld, h1, titleTag, siteName string) string {
	og, ld, tt := cleanTitle(og, siteName), cleanTitle(ld, siteName), cleanTitle(titleTag, siteName)
	h1 = collapseSpace(h1)
	if h1 != "" && (similarTitles(h1, og) || similarTitles(h1, ld) || similarTitles(h1, tt)) {
		return h1
	}
	for _, t := range []string{og, ld, tt, h1} {
		if t != "" {
			return t
		}
	}
	return ""
}

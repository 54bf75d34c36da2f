package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minewatch/minewatch/news"
)

// humanTime is the date shown to analysts; UTC, because sources span many
// time zones and relative dates mislead in a permalink read days later.
func humanTime(t time.Time) string {
	if t.IsZero() {
		return "unknown date"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// thousands formats a count with thin separators, e.g. 12,345.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// webURL returns u when it is an absolute http or https URL, else "". Feeds
// carry javascript:, data: and relative links; only web links become anchors.
func webURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || p.Host == "" {
		return ""
	}
	switch strings.ToLower(p.Scheme) {
	case "http", "https":
		return p.String()
	}
	return ""
}

// articleLink is the article's canonical URL, or its feed URL when the
// canonical one is not a web link: a page's hostile or broken rel=canonical
// must not cost the reader the link to the original.
func articleLink(d news.Document) string {
	return firstNonEmpty(webURL(d.CanonicalURL), webURL(d.URL))
}

// pluralize picks the singular or plural noun for n.
func pluralize(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

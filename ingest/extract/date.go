package extract

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	htmldate "github.com/markusmobius/go-htmldate"
	"golang.org/x/net/html"
)

// Publication dates outside [minDate, now+maxAhead] are wrong (a template's
// copyright year, a time zone typo, an event date), so they are ignored.
var minDate = time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC)

const maxAhead = 24 * time.Hour

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -0700 MST",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	time.RFC1123Z,
	time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	"January 2, 2006 3:04 PM",
	"January 2, 2006",
	"Jan 2, 2006",
	"2006/01/02 15:04:05",
	"2006/01/02",
	"02.01.2006 15:04",
	"02.01.2006",
	"20060102",
}

// parseDate reads a machine-readable date as pages write them in metadata.
// Dates without a zone are taken as UTC.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return time.Time{}, false
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	// Unix seconds or milliseconds, as some CMSs put in meta tags.
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 9 {
		if len(s) >= 12 {
			return time.UnixMilli(n).UTC(), true
		}
		return time.Unix(n, 0).UTC(), true
	}
	return time.Time{}, false
}

func plausible(t, now time.Time) bool {
	return !t.IsZero() && !t.Before(minDate) && !t.After(now.Add(maxAhead))
}

// metaDateKeys are meta names and properties that carry the publication date,
// most trustworthy first.
var metaDateKeys = []string{
	"article:published_time", "og:article:published_time", "og:published_time",
	"datepublished", "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued",
	"dc.date", "dcterms.date", "dc.date.created", "dcterms.created", "date", "pubdate",
	"publishdate", "publish-date", "publish_date", "article.published", "article_date_original",
	"cxenseparse:recs:publishtime", "originalpublicationdate", "release_date",
}

var urlDateRe = regexp.MustCompile(`/((?:19|20)\d{2})[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|-|_|\.|$)`)

// dateFromURL reads a /yyyy/mm/dd/ date from a URL path.
func dateFromURL(u string) (time.Time, bool) {
	m := urlDateRe.FindStringSubmatch(u)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", m[1]+"-"+m[2]+"-"+m[3])
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// publishDate finds the publication date and says where it came from.
func publishDate(doc *html.Node, m *pageMeta, ld ldInfo, pageURL string, now time.Time) (time.Time, string) {
	if t, ok := parseDate(ld.datePublished); ok && plausible(t, now) {
		return t, "jsonld"
	}
	for _, k := range metaDateKeys {
		if t, ok := parseDate(m.props[k]); ok && plausible(t, now) {
			return t, "meta"
		}
	}
	// A <time> marked as the publication time, else the first one inside
	// the article; a lone <time> elsewhere is too often "today" in a header.
	var cands []string
	for _, te := range m.times {
		if te.published {
			cands = append(cands, te.value)
		}
	}
	for _, te := range m.times {
		if te.inArticle {
			cands = append(cands, te.value)
		}
	}
	if len(m.times) == 1 {
		cands = append(cands, m.times[0].value)
	}
	for _, c := range cands {
		if t, ok := parseDate(c); ok && plausible(t, now) {
			return t, "time"
		}
	}
	if t, ok := dateFromURL(pageURL); ok && plausible(t, now) {
		return t, "url"
	}
	res, err := htmldate.FromDocument(doc, htmldate.Options{
		URL:                 pageURL,
		UseOriginalDate:     true,
		SkipExtensiveSearch: true,
		MinDate:             minDate,
		MaxDate:             now.Add(maxAhead),
	})
	if err == nil && !res.IsZero() {
		if t := res.DateTime.UTC(); plausible(t, now) {
			return t, "htmldate"
		}
	}
	return time.Time{}, ""
}

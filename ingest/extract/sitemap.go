package extract

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNotSitemap is returned when a body is neither a sitemap nor a sitemap index.
var ErrNotSitemap = errors.New("not a sitemap or sitemap index")

// SitemapURL is one <url> of a sitemap, or one <sitemap> of a sitemap index
// (then only Loc and Published are set).
type SitemapURL struct {
	Loc       string
	Published time.Time // news:publication_date, else lastmod; UTC; zero when absent or implausible
	Title     string    // news:title
	Language  string    // news:publication/news:language, ISO 639-1
}

// maxSitemapBytes caps a decompressed sitemap: the protocol allows 50 MB.
const maxSitemapBytes = 50 << 20

// maxSitemapEntries is the protocol's limit of entries per file.
const maxSitemapEntries = 50000

// Sitemap parses a sitemap (with Google News extensions) or a sitemap index.
// A gzip-compressed body is decompressed. Entries without an http(s) <loc>
// are skipped.
func Sitemap(body []byte) (urls []SitemapURL, isIndex bool, err error) {
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, false, fmt.Errorf("sitemap: gunzip: %w", err)
		}
		body, err = io.ReadAll(io.LimitReader(zr, maxSitemapBytes+1))
		if err != nil {
			return nil, false, fmt.Errorf("sitemap: gunzip: %w", err)
		}
		if len(body) > maxSitemapBytes {
			return nil, false, fmt.Errorf("sitemap: larger than %d bytes decompressed", maxSitemapBytes)
		}
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	// The caller has converted the body to UTF-8 whatever the declaration says.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }

	now := time.Now()
	var cur *SitemapURL
	var path []string
	root := ""
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if root == "" {
				return nil, false, fmt.Errorf("sitemap: %w: %v", ErrNotSitemap, err)
			}
			// Keep what came before a syntax error: a truncated sitemap still
			// lists its first articles.
			return urls, isIndex, fmt.Errorf("sitemap: after %d entries: %w", len(urls), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if root == "" {
				switch name {
				case "urlset":
				case "sitemapindex":
					isIndex = true
				default:
					return nil, false, fmt.Errorf("sitemap: %w: root element <%s>", ErrNotSitemap, t.Name.Local)
				}
				root = name
			}
			path = append(path, name)
			text.Reset()
			if len(path) == 2 && (name == "url" || name == "sitemap") {
				cur = &SitemapURL{}
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if len(path) == 0 {
				continue
			}
			name := path[len(path)-1]
			path = path[:len(path)-1]
			v := strings.TrimSpace(text.String())
			text.Reset()
			if cur == nil {
				continue
			}
			switch {
			case len(path) == 1 && (name == "url" || name == "sitemap"):
				if cur.Loc != "" && len(urls) < maxSitemapEntries {
					urls = append(urls, *cur)
				}
				cur = nil
			case name == "loc" && len(path) == 2:
				if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
					cur.Loc = v
				}
			case name == "lastmod" && len(path) == 2:
				if t, ok := parseDate(v); ok && cur.Published.IsZero() && plausible(t, now) {
					cur.Published = t
				}
			case name == "publication_date":
				if t, ok := parseDate(v); ok && plausible(t, now) {
					cur.Published = t
				}
			case name == "title" && len(path) >= 3:
				cur.Title = collapseSpace(v)
			case name == "language" && len(path) >= 3:
				cur.Language = normLang(v)
			}
		}
	}
	if root == "" {
		return nil, false, fmt.Errorf("sitemap: %w: no root element", ErrNotSitemap)
	}
	return urls, isIndex, nil
}

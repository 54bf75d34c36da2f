package demo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// resource is one URL of the demo site. Its body depends on the request's
// scheme and host, because every link in it is absolute.
type resource struct {
	contentType string
	modified    time.Time
	render      func(base string) ([]byte, error)
}

type handler struct {
	site      *site
	t         *templates
	resources map[string]resource // by path
}

func newHandler(s *site) *handler {
	t, err := parseTemplates()
	if err != nil {
		panic(fmt.Sprintf("demo: embedded templates: %v", err))
	}
	h := &handler{site: s, t: t, resources: make(map[string]resource)}
	const (
		htmlType = "text/html; charset=utf-8"
		xmlType  = "application/xml; charset=utf-8"
	)
	h.resources["/"] = resource{htmlType, s.newest, func(base string) ([]byte, error) { return s.renderRoot(t, base) }}
	h.resources["/robots.txt"] = resource{"text/plain; charset=utf-8", s.newest, func(base string) ([]byte, error) {
		var b bytes.Buffer
		renderRobots(&b, base, s)
		return b.Bytes(), nil
	}}
	for _, o := range s.outlets {
		home := o.prefix()
		h.resources[home] = resource{htmlType, s.outletNewest(o), func(base string) ([]byte, error) {
			return s.renderHome(t, base, o, home)
		}}
		index := home + o.Index
		switch o.Format {
		case formatRSS:
			h.resources[index] = resource{"application/rss+xml; charset=utf-8", s.outletNewest(o), func(base string) ([]byte, error) {
				return renderText(t.rss, s.feedData(base, o, index))
			}}
		case formatAtom:
			h.resources[index] = resource{"application/atom+xml; charset=utf-8", s.outletNewest(o), func(base string) ([]byte, error) {
				return renderText(t.atom, s.feedData(base, o, index))
			}}
		case formatJSON:
			h.resources[index] = resource{"application/feed+json; charset=utf-8", s.outletNewest(o), func(base string) ([]byte, error) {
				return renderJSONFeed(s.feedData(base, o, index))
			}}
		case formatListing:
			h.resources[index] = resource{htmlType, s.outletNewest(o), func(base string) ([]byte, error) {
				return s.renderHome(t, base, o, index)
			}}
		case formatSitemap:
			h.resources[index] = resource{xmlType, s.outletNewest(o), func(base string) ([]byte, error) {
				return renderText(t.news, s.feedData(base, o, index))
			}}
			h.resources[home+"sitemap.xml"] = resource{xmlType, s.outletNewest(o), func(base string) ([]byte, error) {
				return renderText(t.idx, s.feedData(base, o, index))
			}}
		}
	}
	for _, a := range s.articles {
		h.resources[a.Path] = resource{"text/html; charset=" + a.Charset, a.Updated, func(base string) ([]byte, error) {
			return s.renderArticle(t, base, a)
		}}
	}
	return h
}

// outletNewest is when an outlet last changed: its feed's Last-Modified.
func (s *site) outletNewest(o *outlet) time.Time {
	var t time.Time
	for _, a := range s.byOutlet[o.ID] {
		if a.Updated.After(t) {
			t = a.Updated
		}
	}
	return t
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	res, ok := h.resources[r.URL.Path]
	if !ok {
		http.Error(w, "404 page not found on the minewatch demo site", http.StatusNotFound)
		return
	}
	body, err := res.render(baseURL(r))
	if err != nil {
		http.Error(w, "demo site: "+err.Error(), http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(body)
	w.Header().Set("Content-Type", res.contentType)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:10])+`"`)
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// ServeContent answers If-None-Match and If-Modified-Since with 304 by the
	// precedence rules of RFC 9110 §13.2.2, and handles HEAD and ranges.
	http.ServeContent(w, r, "", res.modified, bytes.NewReader(body))
}

// baseURL is scheme://host of the request, so the site works on any address.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if !validHost(host) {
		// A Host header is client input: anything but a plain name or address
		// with a port could break out of a URL or a charset, so it is never echoed.
		host = "localhost"
	}
	return scheme + "://" + host
}

// validHost accepts host names, IPv4 and bracketed IPv6 addresses with an
// optional port, in ASCII only.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.ContainsRune(".-:[]_", c):
		default:
			return false
		}
	}
	return true
}

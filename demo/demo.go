// Package demo serves an invented, offline news site about the landmine and
// cluster-munition treaties, so minewatch can be tried and tested end to end.
//
// The site has seven outlets in seven languages, read through RSS, Atom, JSON
// Feed, an HTML listing and a news sitemap, with about thirty article pages
// wrapped in realistic boilerplate. Expected says what a correct pipeline
// should find on each page. All text is original and fictional, though it
// follows the real 2025–2026 timeline; see README.md.
package demo

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/minewatch/minewatch/news"
)

// Expectation is what a correct pipeline should find in one article page,
// labelled by the rules of ../shared/eval/README.md.
type Expectation struct {
	Path     string // path on the demo site, e.g. "/bpb/news/2025/03/18/..."
	Relevant bool
	Topics   []string
	Entities []ExpectedEntity
}

// ExpectedEntity is one (country, action, treaty) the article asserts.
type ExpectedEntity struct {
	Country string // ISO 3166-1 alpha-2
	Action  news.Action
	Treaty  news.Treaty
}

// Handler serves the demo site. Links in feeds and pages are absolute, built
// from the request's Host, so the site works on any port.
func Handler() http.Handler {
	return newHandler(mustLoadSite())
}

// Sources returns the minewatch sources that read the demo site at base
// (e.g. "http://127.0.0.1:8081").
func Sources(base string) []news.Source {
	base = strings.TrimRight(base, "/")
	var out []news.Source
	for _, o := range newOutlets() {
		src := news.Source{
			ID:         "demo-" + o.ID,
			Name:       o.Name + " (demo)",
			Kind:       o.kind(),
			URL:        base + o.prefix() + o.Index,
			Language:   o.Language,
			Country:    o.Country,
			Schedule:   o.SourceEvery,
			FetchPages: true,
		}
		if o.Format == formatListing {
			src.Selectors.Links = o.Selector
		}
		out = append(out, src)
	}
	return out
}

// Expected lists, per article path, what a correct pipeline should find. Pages
// under /private/ are left out: robots.txt forbids them, so a correct
// pipeline never reads them.
func Expected() []Expectation {
	s := mustLoadSite()
	var out []Expectation
	for _, a := range s.articles {
		if a.Private {
			continue
		}
		e := a.Expect
		e.Topics = append([]string(nil), e.Topics...)
		e.Entities = append([]ExpectedEntity(nil), e.Entities...)
		out = append(out, e)
	}
	return out
}

// mustLoadSite loads the embedded content. It can only fail if the content
// committed with this package is broken, which the tests catch, so a panic
// (like template.Must) is the honest answer.
func mustLoadSite() *site {
	s, err := loadSite()
	if err != nil {
		panic(fmt.Sprintf("demo: embedded content: %v", err))
	}
	return s
}

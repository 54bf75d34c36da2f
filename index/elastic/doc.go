package elastic

import (
	"slices"
	"strings"
	"time"

	"github.com/minewatch/minewatch/news"
)

// source is an article's _source. Field names are the mapping's; times are
// omitted when zero so they come back zero.
type source struct {
	ID            string     `json:"id"`
	SourceID      string     `json:"source_id,omitempty"`
	URL           string     `json:"url,omitempty"`
	CanonicalURL  string     `json:"canonical_url,omitempty"`
	Title         string     `json:"title"`
	Summary       string     `json:"summary,omitempty"`
	Text          string     `json:"text,omitempty"`
	Body          string     `json:"body,omitempty"` // what is searched: Text, or Summary when there is no text
	Language      string     `json:"language,omitempty"`
	Authors       []string   `json:"authors"`
	SiteName      string     `json:"site_name,omitempty"`
	Published     *time.Time `json:"published,omitempty"`
	PublishedFrom string     `json:"published_from,omitempty"`
	FirstSeen     *time.Time `json:"first_seen,omitempty"`
	Date          *time.Time `json:"date,omitempty"` // Published, else FirstSeen: what sorts and filters
	StoryID       string     `json:"story_id,omitempty"`
	SimHash       uint64     `json:"simhash,omitempty"`
	// SimBands are the hash's four 16-bit bands as keywords ("2:beef"), so
	// FindStory finds candidates with a terms query (see story.go).
	SimBands []string `json:"simhash_bands,omitempty"`

	Relevant     bool              `json:"relevant"`
	Score        float64           `json:"score"`
	Topics       []news.TopicScore `json:"topics"`
	Entities     []news.Entity     `json:"entities"`
	RulesVersion string            `json:"rules_version,omitempty"`

	Countries []string `json:"countries,omitempty"`
	Actions   []string `json:"actions,omitempty"`
	Treaties  []string `json:"treaties,omitempty"`
}

// toSource flattens a document for indexing.
func toSource(d news.Document) source {
	s := source{
		ID: d.ID, SourceID: d.SourceID, URL: d.URL, CanonicalURL: d.CanonicalURL,
		Title: d.Title, Summary: d.Summary, Text: d.Text, Body: searchText(d.Summary, d.Text),
		Language: d.Language, Authors: d.Authors, SiteName: d.SiteName,
		Published: tsOrNil(d.Published), PublishedFrom: d.PublishedFrom, FirstSeen: tsOrNil(d.FirstSeen),
		StoryID: d.StoryID, SimHash: d.SimHash,
		Relevant: d.Classification.Relevant, Score: d.Classification.Score,
		Topics: d.Classification.Topics, Entities: d.Classification.Entities,
		RulesVersion: d.Classification.RulesVersion,
	}
	s.SimBands = simBands(d.SimHash)
	s.Date = s.Published
	if s.Date == nil {
		s.Date = s.FirstSeen
	}
	for _, e := range d.Classification.Entities {
		s.Countries = appendUnique(s.Countries, e.Country)
		s.Actions = appendUnique(s.Actions, string(e.Action))
		s.Treaties = appendUnique(s.Treaties, string(e.Treaty))
	}
	return s
}

func appendUnique(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// document rebuilds the news.Document.
func (s source) document() news.Document {
	d := news.Document{
		Article: news.Article{
			ID: s.ID, SourceID: s.SourceID, URL: s.URL, CanonicalURL: s.CanonicalURL,
			Title: s.Title, Summary: s.Summary, Text: s.Text, Language: s.Language,
			Authors: s.Authors, SiteName: s.SiteName, PublishedFrom: s.PublishedFrom,
		},
		Classification: news.Classification{
			Relevant: s.Relevant, Score: s.Score, Topics: s.Topics, Entities: s.Entities,
			RulesVersion: s.RulesVersion,
		},
		StoryID: s.StoryID,
		SimHash: s.SimHash,
	}
	if s.Published != nil {
		d.Published = s.Published.UTC()
	}
	if s.FirstSeen != nil {
		d.FirstSeen = s.FirstSeen.UTC()
	}
	return d
}

// searchText is the body that is indexed and snippeted: the text, or the feed
// summary when there is no text, the choice the classifier and the disk
// backend make.
func searchText(summary, text string) string {
	if strings.TrimSpace(text) == "" {
		return summary
	}
	return text
}

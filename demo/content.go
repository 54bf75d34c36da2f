package demo

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/encoding/charmap"

	"github.com/minewatch/minewatch/news"
)

//go:embed content/*.yaml
var contentFS embed.FS

// ErrBadContent wraps every problem found in the embedded articles or their labels.
var ErrBadContent = errors.New("demo: bad content")

// charsetWindows1257 is the one legacy charset the demo serves, on one
// Lithuanian page, so charset detection is tested on a real Baltic code page.
const charsetWindows1257 = "windows-1257"

// articleFile is the schema of content/<outlet>.yaml.
type articleFile struct {
	Articles []articleYAML `yaml:"articles"`
}

type articleYAML struct {
	Path      string     `yaml:"path"` // relative to the outlet prefix, or absolute under /private/
	Title     string     `yaml:"title"`
	Summary   string     `yaml:"summary"`
	Author    string     `yaml:"author"`
	Lang      string     `yaml:"lang"`
	Section   string     `yaml:"section"`
	Published string     `yaml:"published"`
	Updated   string     `yaml:"updated"`
	Charset   string     `yaml:"charset"`
	Tracking  bool       `yaml:"tracking"` // the feed links it with utm_ parameters
	Private   bool       `yaml:"private"`  // under /private/, which robots.txt forbids
	Body      string     `yaml:"body"`
	Expect    expectYAML `yaml:"expect"`
}

type expectYAML struct {
	Relevant bool         `yaml:"relevant"`
	Topics   []string     `yaml:"topics"`
	Entities []entityYAML `yaml:"entities"`
}

type entityYAML struct {
	Country string `yaml:"country"`
	Action  string `yaml:"action"`
	Treaty  string `yaml:"treaty"`
}

// article is one page of the demo site, ready to render.
type article struct {
	outlet     *outlet
	Path       string // absolute path on the site
	Title      string
	Summary    string
	Author     string
	Lang       string
	Section    string
	Published  time.Time
	Updated    time.Time // equals Published when the article was never updated
	Charset    string    // "utf-8" or charsetWindows1257
	Tracking   bool
	Private    bool
	Paragraphs []string
	Expect     Expectation
}

// site is the parsed, validated demo content.
type site struct {
	outlets  []*outlet
	articles []*article          // outlet order, then file order
	byPath   map[string]*article // by Path
	byOutlet map[string][]*article
	newest   time.Time
}

// loadSite parses and checks the embedded articles of every outlet.
func loadSite() (*site, error) {
	files := make(map[string][]byte)
	for _, o := range newOutlets() {
		b, err := contentFS.ReadFile("content/" + o.ID + ".yaml")
		if err != nil {
			return nil, fmt.Errorf("read content of %s: %w", o.ID, err)
		}
		files[o.ID] = b
	}
	return parseSite(newOutlets(), files)
}

// parseSite builds the site from one YAML document per outlet id. It is
// separate from loadSite so tests can feed it broken content.
func parseSite(outlets []*outlet, files map[string][]byte) (*site, error) {
	s := &site{
		outlets:  outlets,
		byPath:   make(map[string]*article),
		byOutlet: make(map[string][]*article),
	}
	for _, o := range outlets {
		var f articleFile
		dec := yaml.NewDecoder(bytes.NewReader(files[o.ID]))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("%w: content/%s.yaml: %w", ErrBadContent, o.ID, err)
		}
		if len(f.Articles) == 0 {
			return nil, fmt.Errorf("%w: content/%s.yaml has no articles", ErrBadContent, o.ID)
		}
		for i, y := range f.Articles {
			a, err := newArticle(o, y)
			if err != nil {
				return nil, fmt.Errorf("%w: content/%s.yaml article %d (%q): %w", ErrBadContent, o.ID, i+1, y.Path, err)
			}
			if _, dup := s.byPath[a.Path]; dup {
				return nil, fmt.Errorf("%w: content/%s.yaml: path %s used twice", ErrBadContent, o.ID, a.Path)
			}
			s.byPath[a.Path] = a
			s.articles = append(s.articles, a)
			s.byOutlet[o.ID] = append(s.byOutlet[o.ID], a)
			if a.Updated.After(s.newest) {
				s.newest = a.Updated
			}
		}
	}
	return s, nil
}

var (
	pathRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9/._,-]*[a-z0-9/]$`)
	countryRe = regexp.MustCompile(`^[A-Z]{2}$`)
	langRe    = regexp.MustCompile(`^[a-z]{2}$`)
)

func newArticle(o *outlet, y articleYAML) (*article, error) {
	a := &article{
		outlet:   o,
		Title:    strings.TrimSpace(y.Title),
		Summary:  strings.TrimSpace(y.Summary),
		Author:   strings.TrimSpace(y.Author),
		Lang:     y.Lang,
		Section:  y.Section,
		Charset:  "utf-8",
		Tracking: y.Tracking,
		Private:  y.Private,
	}
	if !pathRe.MatchString(y.Path) {
		return nil, fmt.Errorf("path %q: want lower-case letters, digits and / . _ , - only", y.Path)
	}
	if y.Private {
		a.Path = "/private/" + y.Path
	} else {
		a.Path = o.prefix() + y.Path
	}
	if a.Lang == "" {
		a.Lang = o.Language
	}
	if !langRe.MatchString(a.Lang) {
		return nil, fmt.Errorf("language %q: want ISO 639-1", a.Lang)
	}
	if a.Title == "" || a.Summary == "" || a.Author == "" || a.Section == "" {
		return nil, errors.New("title, summary, author and section are required")
	}
	var err error
	if a.Published, err = time.Parse(time.RFC3339, y.Published); err != nil {
		return nil, fmt.Errorf("published: %w", err)
	}
	a.Updated = a.Published
	if y.Updated != "" {
		if a.Updated, err = time.Parse(time.RFC3339, y.Updated); err != nil {
			return nil, fmt.Errorf("updated: %w", err)
		}
		if a.Updated.Before(a.Published) {
			return nil, errors.New("updated is before published")
		}
	}
	for p := range strings.SplitSeq(strings.TrimSpace(y.Body), "\n\n") {
		p = strings.Join(strings.Fields(p), " ")
		if p != "" {
			a.Paragraphs = append(a.Paragraphs, p)
		}
	}
	if len(a.Paragraphs) < 2 {
		return nil, fmt.Errorf("body has %d paragraphs, want at least 2", len(a.Paragraphs))
	}
	switch y.Charset {
	case "", "utf-8":
	case charsetWindows1257:
		// Fail here, not when serving, if a character has no windows-1257 byte.
		enc := charmap.Windows1257.NewEncoder()
		for _, s := range append([]string{a.Title, a.Summary, a.Author, o.Name, o.Tagline}, a.Paragraphs...) {
			if _, err := enc.String(s); err != nil {
				return nil, fmt.Errorf("text not encodable in %s: %q: %w", charsetWindows1257, s, err)
			}
		}
		a.Charset = charsetWindows1257
	default:
		return nil, fmt.Errorf("charset %q: only utf-8 and %s are served", y.Charset, charsetWindows1257)
	}
	if a.Expect, err = newExpectation(a.Path, y.Expect); err != nil {
		return nil, err
	}
	return a, nil
}

// isTopic reports whether t is a topic of the default taxonomy
// (../shared/eval/README.md).
func isTopic(t string) bool {
	switch t {
	case news.TopicTreatyWithdrawal, news.TopicTreatyMembership, news.TopicProduction, news.TopicStockpile,
		news.TopicTransferUse, news.TopicDeminingFunding, news.TopicCasualtiesVictims,
		news.TopicTreatyMeetings, news.TopicClusterMunitions:
		return true
	}
	return false
}

// newExpectation checks a label against the mechanical parts of the labelling
// rules; the judgement calls are documented beside each article.
func newExpectation(path string, y expectYAML) (Expectation, error) {
	e := Expectation{Path: path, Relevant: y.Relevant, Topics: slices.Clone(y.Topics)}
	if !y.Relevant {
		if len(y.Topics) > 0 || len(y.Entities) > 0 {
			return e, errors.New("a non-relevant article has no topics or entities")
		}
		return e, nil
	}
	if len(y.Topics) == 0 {
		return e, errors.New("a relevant article needs at least one topic")
	}
	for i, t := range y.Topics {
		if !isTopic(t) {
			return e, fmt.Errorf("unknown topic %q", t)
		}
		if slices.Contains(y.Topics[:i], t) {
			return e, fmt.Errorf("topic %q listed twice", t)
		}
	}
	seen := make(map[string]bool)
	for _, ey := range y.Entities {
		ent := ExpectedEntity{Country: ey.Country, Action: news.Action(ey.Action), Treaty: news.Treaty(ey.Treaty)}
		if !countryRe.MatchString(ent.Country) {
			return e, fmt.Errorf("country %q: want ISO 3166-1 alpha-2", ent.Country)
		}
		if !slices.Contains(news.Actions, ent.Action) {
			return e, fmt.Errorf("unknown action %q", ent.Action)
		}
		switch ent.Treaty {
		case news.TreatyOttawa, news.TreatyCCM, news.TreatyNone:
		default:
			return e, fmt.Errorf("unknown treaty %q", ent.Treaty)
		}
		switch ent.Action {
		case news.ActionFundingCut, news.ActionFundingIncrease, news.ActionClearance:
			if ent.Treaty != news.TreatyNone {
				return e, fmt.Errorf("%s is always treaty none", ent.Action)
			}
		case news.ActionWithdrawAnnounce, news.ActionWithdrawVote, news.ActionWithdrawNotify,
			news.ActionWithdrawEffective, news.ActionRemain, news.ActionJoinRatify:
			if ent.Treaty == news.TreatyNone {
				return e, fmt.Errorf("%s must name its treaty", ent.Action)
			}
		}
		if ent.Treaty == news.TreatyCCM && !slices.Contains(y.Topics, news.TopicClusterMunitions) {
			return e, fmt.Errorf("a ccm entity needs topic %s", news.TopicClusterMunitions)
		}
		key := news.EventKey(ent.Country, ent.Action, ent.Treaty)
		if seen[key] {
			return e, fmt.Errorf("entity %s listed twice", key)
		}
		seen[key] = true
		e.Entities = append(e.Entities, ent)
	}
	return e, nil
}

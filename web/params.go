package web

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// ErrBadParameter wraps a search parameter that cannot be understood (a bad
// date, an unknown sort, a malformed filter value).
var ErrBadParameter = errors.New("web: bad parameter")

const (
	defaultLimit = 20
	// maxLimit keeps one page cheap to render and to compute facets for.
	maxLimit = 100
	// maxValues and maxValueLen bound what one URL can ask the index to do.
	maxValues   = 50
	maxValueLen = 200
	maxTextLen  = 2000
)

// Date presets; "" and "custom" use since/until.
const (
	preset24h    = "24h"
	preset7d     = "7d"
	preset30d    = "30d"
	presetCustom = "custom"
)

var presetDurations = map[string]time.Duration{
	preset24h: 24 * time.Hour,
	preset7d:  7 * 24 * time.Hour,
	preset30d: 30 * 24 * time.Hour,
}

// searchParams is the state of a search as it travels in the URL. Everything a
// result page shows derives from it, which makes every page a permalink.
type searchParams struct {
	Text      string
	Topics    []string
	Countries []string
	Actions   []string
	Treaties  []string
	Sources   []string
	Languages []string
	Preset    string
	Since     string // as typed, re-shown in the form
	Until     string
	Sort      string // "", "relevance" or "date"
	Limit     int    // 0 means default
	Cursor    string
	// AllArticles is the inverse of RelevantOnly so that the zero value and a
	// URL without the parameter both mean "relevant only".
	AllArticles bool
}

// filterKeys are the multi-valued filters in URL order.
var filterKeys = []string{"topic", "country", "action", "treaty", "source", "lang"}

func (p *searchParams) filter(key string) *[]string {
	switch key {
	case "topic":
		return &p.Topics
	case "country":
		return &p.Countries
	case "action":
		return &p.Actions
	case "treaty":
		return &p.Treaties
	case "source":
		return &p.Sources
	case "lang":
		return &p.Languages
	}
	return nil
}

// parseParams reads the URL state. It keeps going after a bad value so the
// page can re-show the form as typed, and returns the first problem found.
func parseParams(v url.Values) (searchParams, error) {
	var p searchParams
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrBadParameter}, args...)...))
	}

	p.Text = strings.TrimSpace(v.Get("q"))
	if len(p.Text) > maxTextLen {
		bad("q is longer than %d bytes", maxTextLen)
		p.Text = truncateUTF8(p.Text, maxTextLen)
	}
	for _, key := range filterKeys {
		vals, err := filterValues(key, v[key])
		if err != nil {
			errs = append(errs, err)
		}
		*p.filter(key) = vals
	}

	p.Preset = strings.TrimSpace(v.Get("preset"))
	if _, ok := presetDurations[p.Preset]; !ok && p.Preset != "" && p.Preset != presetCustom {
		bad("preset %q: want 24h, 7d, 30d or custom", p.Preset)
		p.Preset = ""
	}
	p.Since = strings.TrimSpace(v.Get("since"))
	p.Until = strings.TrimSpace(v.Get("until"))
	if _, err := parseDate(p.Since, false); err != nil {
		bad("since: %v", err)
	}
	if _, err := parseDate(p.Until, true); err != nil {
		bad("until: %v", err)
	}

	switch s := strings.TrimSpace(v.Get("sort")); s {
	case "", string(index.SortRelevance), string(index.SortDate):
		p.Sort = s
	default:
		bad("sort %q: want relevance or date", s)
	}
	if s := strings.TrimSpace(v.Get("limit")); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil || n < 1:
			bad("limit %q: want a positive number", s)
		case n > maxLimit:
			p.Limit = maxLimit
		default:
			p.Limit = n
		}
	}
	p.Cursor = v.Get("cursor")
	if len(p.Cursor) > maxValueLen*5 {
		bad("cursor is too long")
		p.Cursor = ""
	}
	// The form sends a hidden relevant=0 before the checkbox's relevant=1, so
	// the last value is the one the analyst chose.
	if rv := v["relevant"]; len(rv) > 0 {
		switch strings.ToLower(strings.TrimSpace(rv[len(rv)-1])) {
		case "0", "false", "off", "no", "all":
			p.AllArticles = true
		case "", "1", "true", "on", "yes":
		default:
			bad("relevant %q: want 1 or 0", rv[len(rv)-1])
		}
	}
	return p, errors.Join(errs...)
}

// filterValues splits comma lists (handy in the API), drops blanks and
// duplicates, normalises case, and rejects values no document can have.
func filterValues(key string, raw []string) ([]string, error) {
	var out []string
	for _, r := range raw {
		for s := range strings.SplitSeq(r, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			switch key {
			case "country":
				s = strings.ToUpper(s)
			case "lang", "action", "treaty":
				s = strings.ToLower(s)
			}
			if err := checkFilterValue(key, s); err != nil {
				return out, err
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
			if len(out) > maxValues {
				return out[:maxValues], fmt.Errorf("%w: more than %d %s values", ErrBadParameter, maxValues, key)
			}
		}
	}
	return out, nil
}

func checkFilterValue(key, s string) error {
	if len(s) > maxValueLen {
		return fmt.Errorf("%w: %s value longer than %d bytes", ErrBadParameter, key, maxValueLen)
	}
	switch key {
	case "country":
		if len(s) != 2 || !isASCIILetters(s) {
			return fmt.Errorf("%w: country %q: want an ISO 3166-1 alpha-2 code such as PL", ErrBadParameter, s)
		}
	case "lang":
		if len(s) < 2 || len(s) > 3 || !isASCIILetters(s) {
			return fmt.Errorf("%w: lang %q: want an ISO 639-1 code such as pl", ErrBadParameter, s)
		}
	case "action":
		if !slices.Contains(news.Actions, news.Action(s)) {
			return fmt.Errorf("%w: unknown action %q", ErrBadParameter, s)
		}
	case "treaty":
		switch news.Treaty(s) {
		case news.TreatyOttawa, news.TreatyCCM, news.TreatyNone:
		default:
			return fmt.Errorf("%w: treaty %q: want ottawa, ccm or none", ErrBadParameter, s)
		}
	default:
		for _, r := range s {
			if r < 0x20 || r == 0x7f {
				return fmt.Errorf("%w: %s value has a control character", ErrBadParameter, key)
			}
		}
	}
	return nil
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// parseDate accepts a day (2006-01-02, UTC) or an RFC 3339 instant. A day given
// as the end of a range includes that whole day, because Query.Until is
// exclusive and analysts mean "up to and including".
func parseDate(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want a date such as 2025-06-30", s)
	}
	return t.UTC(), nil
}

// query turns the URL state into an index query; now anchors the presets.
func (p searchParams) query(now time.Time) (index.Query, error) {
	q := index.Query{
		Text:         p.Text,
		Topics:       slices.Clone(p.Topics),
		Countries:    slices.Clone(p.Countries),
		Sources:      slices.Clone(p.Sources),
		Languages:    slices.Clone(p.Languages),
		RelevantOnly: !p.AllArticles,
		Sort:         index.Sort(p.Sort),
		Limit:        p.Limit,
		Cursor:       p.Cursor,
		Facets:       true,
	}
	if q.Limit == 0 {
		q.Limit = defaultLimit
	}
	for _, a := range p.Actions {
		q.Actions = append(q.Actions, news.Action(a))
	}
	for _, t := range p.Treaties {
		q.Treaties = append(q.Treaties, news.Treaty(t))
	}
	if d, ok := presetDurations[p.Preset]; ok {
		q.Since = now.UTC().Add(-d)
		return q, nil
	}
	var err error
	if q.Since, err = parseDate(p.Since, false); err != nil {
		return q, fmt.Errorf("%w: since: %v", ErrBadParameter, err)
	}
	if q.Until, err = parseDate(p.Until, true); err != nil {
		return q, fmt.Errorf("%w: until: %v", ErrBadParameter, err)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, fmt.Errorf("%w: since %s is not before until %s", ErrBadParameter, p.Since, p.Until)
	}
	return q, nil
}

// values is the canonical URL form of the state (repeated keys, defaults
// left out), used for every link the pages build.
func (p searchParams) values() url.Values {
	v := url.Values{}
	if p.Text != "" {
		v.Set("q", p.Text)
	}
	for _, key := range filterKeys {
		for _, s := range *p.filter(key) {
			v.Add(key, s)
		}
	}
	if p.Preset != "" {
		v.Set("preset", p.Preset)
	}
	if p.Preset == "" || p.Preset == presetCustom {
		if p.Since != "" {
			v.Set("since", p.Since)
		}
		if p.Until != "" {
			v.Set("until", p.Until)
		}
	}
	if p.Sort != "" {
		v.Set("sort", p.Sort)
	}
	if p.Limit != 0 && p.Limit != defaultLimit {
		v.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Cursor != "" {
		v.Set("cursor", p.Cursor)
	}
	if p.AllArticles {
		v.Set("relevant", "0")
	}
	return v
}

// clone copies the slices so link builders can change one filter freely.
func (p searchParams) clone() searchParams {
	c := p
	for _, key := range filterKeys {
		*c.filter(key) = slices.Clone(*p.filter(key))
	}
	return c
}

// toggled returns the state with value switched in or out of a filter, on the
// first page (a cursor belongs to the old result set).
func (p searchParams) toggled(key, value string) searchParams {
	c := p.clone()
	c.Cursor = ""
	f := c.filter(key)
	if i := slices.Index(*f, value); i >= 0 {
		*f = slices.Delete(*f, i, i+1)
	} else {
		*f = append(*f, value)
	}
	return c
}

func (p searchParams) hasFilters() bool {
	for _, key := range filterKeys {
		if len(*p.filter(key)) > 0 {
			return true
		}
	}
	return false
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Encoded is the URL query of the state, for links in templates.
func (p searchParams) Encoded() string { return p.values().Encode() }

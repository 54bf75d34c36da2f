package elastic

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

func TestParseHighlight(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []index.Fragment
	}{
		{"plain", "no match here", []index.Fragment{{Text: "no match here"}}},
		{"one", "the \uE000Ottawa\uE001 treaty", []index.Fragment{{Text: "the "}, {Text: "Ottawa", Match: true}, {Text: " treaty"}}},
		{"phrase split into words", "on \uE000Cluster Munitions\uE001.", []index.Fragment{
			{Text: "on "}, {Text: "Cluster", Match: true}, {Text: " "}, {Text: "Munitions", Match: true}, {Text: "."}}},
		{"adjacent marks", "\uE000a\uE001\uE000b\uE001", []index.Fragment{{Text: "a", Match: true}, {Text: "b", Match: true}}},
		{"unterminated", "x \uE000Lietuvą", []index.Fragment{{Text: "x "}, {Text: "Lietuvą", Match: true}}},
		{"stray end tag", "a\uE001b", []index.Fragment{{Text: "ab"}}},
		{"hyphenated match", "\uE000Ottawa-Abkommen\uE001", []index.Fragment{{Text: "Ottawa", Match: true}, {Text: "-"}, {Text: "Abkommen", Match: true}}},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseHighlight(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseHighlight(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestTrimFragments(t *testing.T) {
	long := strings.Repeat("filler words here ", 30)
	frags := []index.Fragment{{Text: long}, {Text: "Ottawa", Match: true}, {Text: long}}
	got := trimFragments(frags)
	var b strings.Builder
	matched := false
	for _, f := range got {
		b.WriteString(f.Text)
		matched = matched || f.Match && f.Text == "Ottawa"
	}
	if n := utf8.RuneCountInString(b.String()); n > snippetMax || !matched {
		t.Errorf("trimmed to %d characters, match kept %v: %q", n, matched, b.String())
	}
	short := []index.Fragment{{Text: "a "}, {Text: "b", Match: true}}
	if got := trimFragments(short); !reflect.DeepEqual(got, short) {
		t.Errorf("short snippet changed: %+v", got)
	}
}

func TestCutAtWord(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"one two three four", 10, "one two…"},
		{"Łotwa i Litwa zrobiły", 12, "Łotwa i…"},
	}
	for _, tc := range tests {
		if got := cutAtWord(tc.in, tc.n); got != tc.want {
			t.Errorf("cutAtWord(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestCursor(t *testing.T) {
	after := []json.RawMessage{json.RawMessage(`1.5`), json.RawMessage(`-9223372036854775808`), json.RawMessage(`"id-1"`)}
	c := encodeCursor(42, after)
	got, err := decodeCursor(c, 42)
	if err != nil || !reflect.DeepEqual(got, after) {
		t.Fatalf("round trip = %s, %v", got, err)
	}
	for _, bad := range []string{"not a cursor!", encodeCursor(41, after), "e30", encodeCursor(42, []json.RawMessage{json.RawMessage(`{"match_all":{}}`)})} {
		if _, err := decodeCursor(bad, 42); !errors.Is(err, index.ErrBadQuery) {
			t.Errorf("decodeCursor(%q) = %v, want ErrBadQuery", bad, err)
		}
	}
}

func TestBuildSearch(t *testing.T) {
	since := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		q    index.Query
		want []string
		not  []string
	}{
		{"match all sorted by date", index.Query{}, []string{`"match_all"`, `"sort":[{"date":`, `"size":20`}, []string{`"_score"`}},
		{"relevance first", index.Query{Text: "ottawa"}, []string{`"sort":[{"_score"`, `"match_phrase":{"body"`, `"match_phrase":{"title":{"boost":2`}, nil},
		{"filters", index.Query{Topics: []string{"a"}, Countries: []string{"PL"}, Actions: []news.Action{news.ActionUse}, Treaties: []news.Treaty{news.TreatyCCM},
			Sources: []string{"pap"}, Languages: []string{"pl"}, Since: since, RelevantOnly: true},
			[]string{`{"terms":{"topics.topic":["a"]}}`, `{"terms":{"countries":["PL"]}}`, `{"terms":{"actions":["use"]}}`,
				`{"terms":{"treaties":["ccm"]}}`, `{"terms":{"source_id":["pap"]}}`, `{"terms":{"language":["pl"]}}`,
				`"gte":"2025-01-02T03:04:05.000Z"`, `{"term":{"relevant":true}}`}, nil},
		{"limit capped", index.Query{Limit: 5000}, []string{`"size":1000`}, nil},
		{"facets and histogram", index.Query{Facets: true, Histogram: true}, []string{`"facet_country":{"terms":{"field":"countries"`, `"calendar_interval":"1d"`}, nil},
		{"title scoped NEAR", index.Query{Text: "title:(sea NEAR/1 mine)"}, []string{`"intervals":{"title"`, `"max_gaps":0`}, []string{`"intervals":{"body"`}},
		{"NEAR with OR operand", index.Query{Text: "(cut OR raised) NEAR/4 demining"}, []string{`"any_of"`}, nil},
		{"phrase operand", index.Query{Text: `"State Department" NEAR/3 funding`}, []string{`"match":{"max_gaps":0,"ordered":true,"query":"State Department"}`}, nil},
		{"prefix phrase operand", index.Query{Text: `"humanitarian demin*" NEAR/3 cut`}, []string{`"all_of":{"intervals":[{"match"`, `{"prefix":{"prefix":"demin"}}`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := buildSearch(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(r.body)
			for _, w := range tc.want {
				if !strings.Contains(string(data), w) {
					t.Errorf("body lacks %s:\n%s", w, data)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(string(data), w) {
					t.Errorf("body has %s:\n%s", w, data)
				}
			}
		})
	}
	for _, bad := range []index.Query{{Text: "a AND ("}, {Sort: "popularity"}, {Cursor: "!!"}} {
		if _, err := buildSearch(bad); !errors.Is(err, index.ErrBadQuery) {
			t.Errorf("buildSearch(%+v) = %v, want ErrBadQuery", bad, err)
		}
	}
}

func TestSimBands(t *testing.T) {
	if got := simBands(0); got != nil {
		t.Errorf("simBands(0) = %v", got)
	}
	got := simBands(0xDEADBEEFCAFEF00D)
	want := []string{"0:f00d", "1:cafe", "2:beef", "3:dead"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("simBands = %v, want %v", got, want)
	}
}

func TestSourceRoundTrip(t *testing.T) {
	d := news.Document{Article: news.Article{ID: "x", Title: "T", Summary: "only a summary", Published: time.Date(2025, 5, 1, 0, 0, 0, 1, time.UTC)},
		SimHash: 1 << 63}
	src := toSource(d)
	if src.Body != "only a summary" || src.Date == nil || !src.Date.Equal(d.Published) {
		t.Errorf("source = %+v", src)
	}
	data, _ := json.Marshal(src)
	var back source
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.document(); !reflect.DeepEqual(got, d) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", got, d)
	}
}

// Package indextest is the contract suite every index backend runs, in the
// manner of testing/slogtest: Run checks a fresh store against index.Store.
package indextest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// Run tests a backend against the index contract. newStore returns a fresh,
// empty store for each subtest and arranges its Close (t.Cleanup). When the
// store also implements index.StateStore, index.EventStore, index.URLChecker,
// index.SearchSaver, index.StoryFinder, index.Outbox or index.LeaseRenewer, those contracts are
// tested too; the others' subtests skip.
func Run(t *testing.T, newStore func(t *testing.T) index.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s index.Store)
	}{
		{"PutGetRoundTrip", testRoundTrip},
		{"GetUnknown", testGetUnknown},
		{"UpsertByID", testUpsert},
		{"PutEmpty", testPutEmpty},
		{"MatchText", testMatch},
		{"Filters", testFilters},
		{"Facets", testFacets},
		{"SortDate", testSortDate},
		{"SortRelevance", testSortRelevance},
		{"Paginate", testPaginate},
		{"Snippets", testSnippets},
		{"SummaryWithoutText", testSummaryOnly},
		{"BadQuery", testBadQuery},
		{"ConcurrentPutSearch", testConcurrent},
		{"KnownURLs", testKnownURLs},
		{"SourceStates", testSourceStates},
		{"RecordEventOnce", testRecordEventOnce},
		{"Events", testEvents},
		{"Histogram", testHistogram},
		{"SavedSearches", testSavedSearches},
		{"FindStory", testFindStory},
		{"StoryDocuments", testStoryDocuments},
		{"OutboxRecordEventAndEnqueue", testRecordEventAndEnqueue},
		{"OutboxEnqueueOnce", testEnqueueOnce},
		{"OutboxLeaseExclusive", testLeaseExclusive},
		{"OutboxLeaseExpiry", testLeaseExpiry},
		{"OutboxUpdateMessages", testUpdateMessages},
		{"OutboxLeaseRenew", testLeaseRenew},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// put stores docs and fails the test on any failure.
func put(t *testing.T, s index.Store, docs ...news.Document) {
	t.Helper()
	res, err := s.Put(context.Background(), docs...)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if len(res.Failed) > 0 || res.Indexed != len(docs) {
		t.Fatalf("Put: indexed %d of %d, failed %v", res.Indexed, len(docs), res.Failed)
	}
}

// putFixtures stores Fixtures and returns them.
func putFixtures(t *testing.T, s index.Store) map[string]news.Document {
	t.Helper()
	fx := Fixtures()
	var docs []news.Document
	for _, d := range fx {
		docs = append(docs, d)
	}
	put(t, s, docs...)
	return fx
}

// search runs q and fails the test on error.
func search(t *testing.T, s index.Store, q index.Query) index.Hits {
	t.Helper()
	h, err := s.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return h
}

// keysOf maps hits back to fixture keys, sorted.
func keysOf(fx map[string]news.Document, hits index.Hits) []string {
	byID := map[string]string{}
	for k, d := range fx {
		byID[d.ID] = k
	}
	var keys []string
	for _, h := range hits.Docs {
		k, ok := byID[h.ID]
		if !ok {
			k = "?" + h.ID
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sorted(keys ...string) []string {
	out := slices.Clone(keys)
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// sameDoc compares documents, times by instant (backends may change the
// location) and the rest exactly.
func sameDoc(a, b news.Document) error {
	if !a.Published.Equal(b.Published) {
		return fmt.Errorf("published %v, want %v", a.Published, b.Published)
	}
	if !a.FirstSeen.Equal(b.FirstSeen) {
		return fmt.Errorf("first seen %v, want %v", a.FirstSeen, b.FirstSeen)
	}
	a.Published, b.Published, a.FirstSeen, b.FirstSeen = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("got\n%+v\nwant\n%+v", a, b)
	}
	return nil
}

func testRoundTrip(t *testing.T, s index.Store) {
	d := Fixtures()[KeyPoland]
	d.Summary = "Posłowie zagłosowali za wypowiedzeniem konwencji."
	d.Authors = []string{"Anna Nowak", "Jan Kowalski"}
	d.SiteName = "PAP"
	d.PublishedFrom = "jsonld"
	d.StoryID = "story-1"
	d.SimHash = 0xF00DFACEDEADBEEF // the top bit set: backends without unsigned integers must keep it
	d.Classification.Topics[0].Matches = []news.RuleMatch{{
		RuleID: "withdrawal-pl", Weight: 1.5,
		Hits: []news.TermHit{{Term: "wypowiedz*", Span: news.Span{Field: news.FieldText, Start: 22, End: 35}}},
	}}
	d.Classification.Entities[0].CountryName = "Polska"
	d.Classification.Entities[0].EvidenceAt = news.Span{Field: news.FieldText, Start: 0, End: 96}
	d.Classification.Score = 3.25
	put(t, s, d)
	got, err := s.Get(context.Background(), d.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if err := sameDoc(got, d); err != nil {
		t.Fatal(err)
	}

	// A document with only the required id must come back as it went in,
	// zero dates included.
	bare := news.Document{Article: news.Article{ID: "bare", Title: "Bare"}}
	put(t, s, bare)
	got, err = s.Get(context.Background(), "bare")
	if err != nil {
		t.Fatalf("Get bare: %v", err)
	}
	if !got.Published.IsZero() || !got.FirstSeen.IsZero() {
		t.Errorf("zero dates came back as %v, %v", got.Published, got.FirstSeen)
	}
	if got.Title != "Bare" || len(got.Classification.Topics) != 0 || got.Classification.Relevant {
		t.Errorf("bare document came back as %+v", got)
	}
}

func testGetUnknown(t *testing.T, s index.Store) {
	_, err := s.Get(context.Background(), "no-such-id")
	if !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("Get unknown: err = %v, want ErrNotFound", err)
	}
}

func testUpsert(t *testing.T, s index.Store) {
	orig := Fixtures()[KeyFinland]
	put(t, s, orig)
	again := orig
	again.Title = "Finland completes its exit from the mine ban treaty"
	again.FirstSeen = orig.FirstSeen.Add(48 * time.Hour)
	again.Classification.Topics = []news.TopicScore{{Topic: news.TopicTreatyMembership, Score: 1}}
	put(t, s, again)
	put(t, s, again) // twice: still one document

	got, err := s.Get(context.Background(), orig.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Title != again.Title {
		t.Errorf("Title = %q, want the new %q", got.Title, again.Title)
	}
	if !got.FirstSeen.Equal(orig.FirstSeen) {
		t.Errorf("FirstSeen = %v, want the first %v", got.FirstSeen, orig.FirstSeen)
	}
	if h := search(t, s, index.Query{}); h.Total != 1 || len(h.Docs) != 1 {
		t.Errorf("after re-Put: Total %d, %d docs; want 1", h.Total, len(h.Docs))
	}
	if h := search(t, s, index.Query{Text: "title:completes"}); h.Total != 1 {
		t.Errorf("new title word: Total %d, want 1", h.Total)
	}
	if h := search(t, s, index.Query{Text: "title:notifies"}); h.Total != 0 {
		t.Errorf("old title word: Total %d, want 0 (the index must forget replaced text)", h.Total)
	}
	if h := search(t, s, index.Query{Topics: []string{news.TopicTreatyWithdrawal}}); h.Total != 0 {
		t.Errorf("old topic: Total %d, want 0", h.Total)
	}
	if h := search(t, s, index.Query{Topics: []string{news.TopicTreatyMembership}}); h.Total != 1 {
		t.Errorf("new topic: Total %d, want 1", h.Total)
	}
}

func testPutEmpty(t *testing.T, s index.Store) {
	res, err := s.Put(context.Background())
	if err != nil || res.Indexed != 0 {
		t.Fatalf("Put() = %+v, %v; want nothing indexed, no error", res, err)
	}
	res, err = s.Put(context.Background(), news.Document{Article: news.Article{Title: "no id"}})
	if err != nil {
		t.Fatalf("Put without id: %v (want it in Failed, not an error)", err)
	}
	if res.Indexed != 0 || len(res.Failed) != 1 {
		t.Fatalf("Put without id = %+v, want one failure", res)
	}
}

func testMatch(t *testing.T, s index.Store) {
	fx := putFixtures(t, s)
	all := make([]string, 0, len(fx))
	for k := range fx {
		all = append(all, k)
	}
	without := func(drop ...string) []string {
		var out []string
		for _, k := range all {
			if !slices.Contains(drop, k) {
				out = append(out, k)
			}
		}
		return sorted(out...)
	}
	ottawa := []string{KeyFinland, KeyNorway, KeyDemining, KeyEstonia}
	tests := []struct {
		name, q string
		want    []string
	}{
		{"word", "Norwegen", sorted(KeyNorway)},
		{"word in body only", "dredging", sorted(KeyNavalMine)},
		{"whole words only", "mines", sorted(KeyFinland)},
		{"word from a split compound", "abkommen", sorted(KeyNorway)},
		{"phrase", `"anti-personnel mines"`, sorted(KeyFinland)},
		{"phrase in wrong order", `"mines anti-personnel"`, sorted()},
		{"phrase with prefix", `"humanitarian demin*"`, sorted(KeyDemining)},
		{"prefix", "konwenc*", sorted(KeyPoland)},
		{"prefix english", "withdraw*", sorted(KeyFinland)},
		{"AND", "ottawa AND finland", sorted(KeyFinland)},
		{"implicit AND", "ottawa finland", sorted(KeyFinland)},
		{"OR", "finland OR norwegen", sorted(KeyFinland, KeyNorway)},
		{"AND NOT", "ottawa NOT finland", sorted(KeyNorway, KeyDemining, KeyEstonia)},
		{"top-level NOT", "NOT ottawa", without(ottawa...)},
		{"NOT under OR", "finland OR NOT ottawa", without(KeyNorway, KeyDemining, KeyEstonia)},
		{"only NOTs under AND", "NOT ottawa AND NOT mine", without(append(ottawa, KeyNavalMine)...)},
		{"NOT of a group", "NOT (ottawa OR mine)", without(append(ottawa, KeyNavalMine)...)},
		{"NEAR within", "cut NEAR/4 demining", sorted(KeyDemining)},
		{"NEAR reversed", "demining NEAR/4 cut", sorted(KeyDemining)},
		{"NEAR beyond", "cut NEAR/3 demining", sorted()},
		{"NEAR adjacent", "sea NEAR/1 mine", sorted(KeyNavalMine)},
		{"NEAR with OR operand", "(cut OR raised) NEAR/4 demining", sorted(KeyDemining)},
		{"NEAR phrase", `"State Department" NEAR/3 funding`, sorted(KeyDemining)},
		{"NEAR sentence", "withdrawal NEAR/s notified", sorted(KeyFinland)},
		{"title scope", "title:ottawa", sorted(KeyFinland, KeyNorway, KeyEstonia)},
		{"text scope", "text:ottawa", sorted(KeyFinland, KeyDemining)},
		{"title scope on a group", "title:(norwegen OR seimas)", sorted(KeyNorway, KeyLithuania)},
		{"title scope NEAR", "title:(sea NEAR/1 mine)", sorted(KeyNavalMine)},
		{"case", "FINLAND", sorted(KeyFinland)},
		{"diacritic in text", "lietuva", sorted(KeyLithuania)},
		{"capital in text", "konwencji", sorted(KeyPoland)},
		{"ł is l", "lotwa", sorted(KeyPoland)},
		{"l is ł", "łotwa", sorted(KeyPoland)},
		{"diacritic in query", "Liepāja", sorted(KeyNavalMine)},
		{"no diacritic in query", "liepaja", sorted(KeyNavalMine)},
		{"Cyrillic", "оттавської", sorted(KeyUkraine)},
		{"Cyrillic upper case", "ОТТАВСЬКОЇ", sorted(KeyUkraine)},
		{"Cyrillic prefix", "протипіхотн*", sorted(KeyUkraine)},
		{"Estonian", "jalaväemiinide", sorted(KeyEstonia)},
		{"nothing", "zzzzqqq", sorted()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := search(t, s, index.Query{Text: tc.q, Limit: 100})
			if got := keysOf(fx, h); !reflect.DeepEqual(sorted(got...), tc.want) {
				t.Errorf("%s: got %v, want %v", tc.q, got, tc.want)
			}
			if h.Total != len(tc.want) {
				t.Errorf("%s: Total %d, want %d", tc.q, h.Total, len(tc.want))
			}
		})
	}
}

func testFilters(t *testing.T, s index.Store) {
	fx := putFixtures(t, s)
	tests := []struct {
		name string
		q    index.Query
		want []string
	}{
		{"topic", index.Query{Topics: []string{news.TopicClusterMunitions}}, sorted(KeyLithuania)},
		{"topics any of", index.Query{Topics: []string{news.TopicProduction, news.TopicDeminingFunding}}, sorted(KeyPoland, KeyDemining)},
		{"country", index.Query{Countries: []string{"PL"}}, sorted(KeyPoland)},
		{"countries", index.Query{Countries: []string{"FI", "EE"}}, sorted(KeyFinland, KeyEstonia)},
		{"action", index.Query{Actions: []news.Action{news.ActionWithdrawVote}}, sorted(KeyPoland, KeyEstonia)},
		{"treaty", index.Query{Treaties: []news.Treaty{news.TreatyCCM}}, sorted(KeyLithuania)},
		{"source", index.Query{Sources: []string{"reuters"}}, sorted(KeyFinland, KeyDemining)},
		{"language", index.Query{Languages: []string{"uk", "de"}}, sorted(KeyUkraine, KeyNorway)},
		{"since", index.Query{Since: base.AddDate(0, 0, -60)}, sorted(KeyNorway, KeyNavalMine, KeyDemining)},
		{"until", index.Query{Until: base.AddDate(0, 0, -200)}, sorted(KeyLithuania)},
		{"since and until", index.Query{Since: base.AddDate(0, 0, -150), Until: base.AddDate(0, 0, -80)}, sorted(KeyFinland, KeyUkraine)},
		{"relevant only", index.Query{RelevantOnly: true, Sources: []string{"lsm", "reuters"}}, sorted(KeyFinland, KeyDemining)},
		{"filters combine", index.Query{Actions: []news.Action{news.ActionWithdrawVote}, Languages: []string{"pl"}}, sorted(KeyPoland)},
		{"filter and text", index.Query{Text: "ottawa", Sources: []string{"reuters"}}, sorted(KeyFinland, KeyDemining)},
		{"filter and NOT text", index.Query{Text: "NOT ottawa", Countries: []string{"PL", "NO"}}, sorted(KeyPoland)},
		{"no match", index.Query{Countries: []string{"XX"}}, sorted()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 100
			h := search(t, s, tc.q)
			if got := keysOf(fx, h); !reflect.DeepEqual(sorted(got...), tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if h.Total != len(tc.want) {
				t.Errorf("Total %d, want %d", h.Total, len(tc.want))
			}
		})
	}
}

func testFacets(t *testing.T, s index.Store) {
	fx := putFixtures(t, s)
	// Limit 1: facets and Total must count the whole match set, not the page.
	h := search(t, s, index.Query{Facets: true, Limit: 1})
	if h.Total != len(fx) {
		t.Fatalf("Total %d, want %d", h.Total, len(fx))
	}
	want := map[string]map[string]int{
		index.FacetTopic: {news.TopicTreatyWithdrawal: 5, news.TopicProduction: 1, news.TopicClusterMunitions: 1,
			news.TopicTreatyMembership: 1, news.TopicDeminingFunding: 1},
		index.FacetCountry: {"PL": 1, "LT": 1, "FI": 1, "UA": 1, "NO": 1, "US": 1, "EE": 1},
		index.FacetAction: {string(news.ActionWithdrawVote): 2, string(news.ActionResumeProduction): 1,
			string(news.ActionWithdrawEffective): 1, string(news.ActionWithdrawNotify): 1,
			string(news.ActionWithdrawAnnounce): 1, string(news.ActionRemain): 1, string(news.ActionFundingCut): 1},
		// PL has an ottawa and a none entity: counted once per treaty.
		index.FacetTreaty:   {"ottawa": 5, "none": 2, "ccm": 1},
		index.FacetSource:   {"pap": 1, "lrt": 1, "reuters": 2, "ukrinform": 1, "dw": 1, "lsm": 1, "err": 1},
		index.FacetLanguage: {"pl": 1, "lt": 1, "en": 3, "uk": 1, "de": 1, "et": 1},
	}
	checkFacets(t, h, want)

	// With a query and a filter the counts follow the match set.
	h = search(t, s, index.Query{Text: "ottawa", Languages: []string{"en"}, Facets: true})
	checkFacets(t, h, map[string]map[string]int{
		index.FacetTopic:    {news.TopicTreatyWithdrawal: 1, news.TopicDeminingFunding: 1},
		index.FacetCountry:  {"FI": 1, "US": 1},
		index.FacetAction:   {string(news.ActionWithdrawNotify): 1, string(news.ActionFundingCut): 1},
		index.FacetTreaty:   {"ottawa": 1, "none": 1},
		index.FacetSource:   {"reuters": 2},
		index.FacetLanguage: {"en": 2},
	})

	if h := search(t, s, index.Query{}); len(h.Facets) != 0 {
		t.Errorf("facets computed without Facets: %v", h.Facets)
	}
}

func checkFacets(t *testing.T, h index.Hits, want map[string]map[string]int) {
	t.Helper()
	for name, values := range want {
		fc := h.Facets[name]
		got := map[string]int{}
		for i, c := range fc {
			got[c.Value] = c.Count
			if i > 0 && c.Count > fc[i-1].Count {
				t.Errorf("facet %s not largest first: %v", name, fc)
			}
		}
		if !reflect.DeepEqual(got, values) {
			t.Errorf("facet %s = %v, want %v", name, got, values)
		}
	}
}

func testSortDate(t *testing.T, s index.Store) {
	fx := putFixtures(t, s)
	for _, q := range []index.Query{{}, {Sort: index.SortDate}, {Text: "ottawa OR konwencji OR mine", Sort: index.SortDate}} {
		h := search(t, s, q)
		if len(h.Docs) < 3 {
			t.Fatalf("%+v: %d docs", q, len(h.Docs))
		}
		for i := 1; i < len(h.Docs); i++ {
			if h.Docs[i].Published.After(h.Docs[i-1].Published) {
				t.Errorf("%+v: not newest first at %d: %v after %v", q, i, h.Docs[i].Published, h.Docs[i-1].Published)
			}
		}
	}
	h := search(t, s, index.Query{Limit: 1})
	if h.Docs[0].ID != fx[KeyDemining].ID {
		t.Errorf("newest = %s, want the demining story", h.Docs[0].Title)
	}
	// Without Published, FirstSeen dates the document.
	undated := doc("undated", "bulk", "en", time.Time{}, "Undated", "Undated item", nil)
	undated.FirstSeen = base.Add(time.Hour)
	put(t, s, undated)
	h = search(t, s, index.Query{Limit: 1})
	if h.Docs[0].ID != undated.ID {
		t.Errorf("newest = %s, want the undated item first seen last", h.Docs[0].Title)
	}
	if h := search(t, s, index.Query{Since: base, Limit: 5}); h.Total != 1 {
		t.Errorf("Since with FirstSeen only: Total %d, want 1", h.Total)
	}
}

func testSortRelevance(t *testing.T, s index.Store) {
	fx := putFixtures(t, s)
	h := search(t, s, index.Query{Text: "ottawa"})
	if len(h.Docs) != 4 {
		t.Fatalf("got %d docs, want 4", len(h.Docs))
	}
	for i := 1; i < len(h.Docs); i++ {
		if h.Docs[i].Score > h.Docs[i-1].Score {
			t.Errorf("scores not descending at %d: %v", i, h.Docs[i].Score)
		}
	}
	// The demining story mentions Ottawa once in a long body and never in
	// its title: it must not be first.
	if h.Docs[0].ID == fx[KeyDemining].ID {
		t.Errorf("a passing mention ranks first")
	}
	if h.Docs[0].Score <= 0 {
		t.Errorf("best score %v, want > 0", h.Docs[0].Score)
	}
}

func testPaginate(t *testing.T, s index.Store) {
	bulk := filler(47)
	put(t, s, bulk...)
	for _, q := range []index.Query{
		{Limit: 7},
		{Sort: index.SortDate, Limit: 5, Text: "bulletin"},
		{Sort: index.SortRelevance, Limit: 6, Text: "landmines OR region"},
		{Limit: 10, Text: "region NOT zzz", Topics: []string{news.TopicDeminingFunding}},
		{Limit: 1000},
	} {
		t.Run(fmt.Sprintf("%s/%d/%s", q.Sort, q.Limit, q.Text), func(t *testing.T) {
			seen := map[string]bool{}
			var prev *index.Hit
			pages := 0
			for {
				h := search(t, s, q)
				pages++
				if h.Total != len(bulk) {
					t.Fatalf("page %d: Total %d, want %d", pages, h.Total, len(bulk))
				}
				if len(h.Docs) > q.Limit {
					t.Fatalf("page %d: %d docs over limit %d", pages, len(h.Docs), q.Limit)
				}
				for i := range h.Docs {
					d := &h.Docs[i]
					if seen[d.ID] {
						t.Fatalf("page %d: %s twice", pages, d.ID)
					}
					seen[d.ID] = true
					if q.Sort != index.SortRelevance && q.Text == "" && prev != nil && d.Published.After(prev.Published) {
						t.Fatalf("page %d: date order broken", pages)
					}
					prev = d
				}
				if h.NextCursor == "" {
					break
				}
				if len(h.Docs) != q.Limit {
					t.Fatalf("page %d: short page %d with a next cursor", pages, len(h.Docs))
				}
				q.Cursor = h.NextCursor
				if pages > len(bulk) {
					t.Fatal("cursor never ends")
				}
			}
			if len(seen) != len(bulk) {
				t.Fatalf("paged through %d docs, want %d", len(seen), len(bulk))
			}
		})
	}
	// Limit is capped and defaulted.
	if h := search(t, s, index.Query{}); len(h.Docs) != 20 {
		t.Errorf("default limit gave %d docs, want 20", len(h.Docs))
	}
}

func testSnippets(t *testing.T, s index.Store) {
	fx := putFixtures(t, s)
	long := doc("long", "bulk", "en", base, "Long report",
		strings.Repeat("Nothing about treaties here, only weather and traffic. ", 20)+
			"At the end the minister said Lithuania would leave the Convention on Cluster Munitions. "+
			strings.Repeat("More unrelated filler text follows. ", 20), nil)
	put(t, s, long)

	tests := []struct {
		q, docID string
		want     []string // matched pieces, folded
	}{
		{"konwencji", fx[KeyPoland].ID, []string{"Konwencji"}},
		{"lietuva", fx[KeyLithuania].ID, []string{"Lietuvą"}},
		{"withdraw*", fx[KeyFinland].ID, []string{"withdrawal"}},
		{`"cluster munitions" AND lithuania`, long.ID, []string{"Lithuania", "Cluster", "Munitions"}},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			h := search(t, s, index.Query{Text: tc.q})
			var hit *index.Hit
			for i := range h.Docs {
				if h.Docs[i].ID == tc.docID {
					hit = &h.Docs[i]
				}
			}
			if hit == nil {
				t.Fatalf("%s: document not found", tc.q)
			}
			var text strings.Builder
			var matched []string
			for _, f := range hit.Snippet {
				text.WriteString(f.Text)
				if f.Match {
					matched = append(matched, f.Text)
				}
			}
			for _, w := range tc.want {
				if !slices.Contains(matched, w) {
					t.Errorf("snippet %q: matches %q, want %q among them", text.String(), matched, w)
				}
			}
			if n := len([]rune(text.String())); n > 300 {
				t.Errorf("snippet has %d characters, want about 240", n)
			}
		})
	}
	// Without a query the snippet is the start of the text.
	h := search(t, s, index.Query{Sources: []string{"dw"}})
	if len(h.Docs) != 1 || len(h.Docs[0].Snippet) == 0 || !strings.HasPrefix(h.Docs[0].Snippet[0].Text, "Die norwegische") {
		t.Errorf("snippet without query = %+v", h.Docs)
	}
	// NoSnippets: the same hits, no snippets.
	with := search(t, s, index.Query{Text: "ottawa"})
	without := search(t, s, index.Query{Text: "ottawa", NoSnippets: true})
	if with.Total == 0 || without.Total != with.Total || len(without.Docs) != len(with.Docs) {
		t.Fatalf("NoSnippets changed the hits: %d/%d, want %d/%d", without.Total, len(without.Docs), with.Total, len(with.Docs))
	}
	for i, h := range without.Docs {
		if h.ID != with.Docs[i].ID || len(h.Snippet) != 0 {
			t.Errorf("NoSnippets hit %d = %s with %d snippet pieces, want %s with none", i, h.ID, len(h.Snippet), with.Docs[i].ID)
		}
	}
}

// testSummaryOnly: an item of a query feed often has only its feed summary;
// like the classifier, search then reads the summary as the text.
func testSummaryOnly(t *testing.T, s index.Store) {
	d := doc("lv-summary", "gnews", "lv", base, "Saeima balso par izstāšanos", "", []string{news.TopicTreatyWithdrawal})
	d.Summary = "Saeima galīgajā lasījumā atbalstīja Latvijas izstāšanos no Otavas konvencijas."
	put(t, s, d)
	h := search(t, s, index.Query{Text: "otavas NEAR/2 konvencijas"})
	if h.Total != 1 || len(h.Docs) != 1 {
		t.Fatalf("summary not searched: Total %d", h.Total)
	}
	var matched []string
	for _, f := range h.Docs[0].Snippet {
		if f.Match {
			matched = append(matched, f.Text)
		}
	}
	if !reflect.DeepEqual(matched, []string{"Otavas", "konvencijas"}) {
		t.Errorf("snippet matches %q, want Otavas and konvencijas", matched)
	}
}

func testBadQuery(t *testing.T, s index.Store) {
	putFixtures(t, s)
	for _, q := range []index.Query{
		{Text: "ottawa AND ("},
		{Text: "ottawa)"},
		{Text: "author:smith"},
		{Text: "mine NEAR/0 ban"},
		{Text: `"unterminated`},
		{Text: "ottawa", Cursor: "not a cursor!"},
		{Text: "ottawa", Sort: "popularity"},
	} {
		_, err := s.Search(context.Background(), q)
		if !errors.Is(err, index.ErrBadQuery) {
			t.Errorf("Search(%+v): err = %v, want ErrBadQuery", q, err)
		}
	}
	// A cursor from one query is refused by another.
	h := search(t, s, index.Query{Limit: 1})
	if _, err := s.Search(context.Background(), index.Query{Limit: 1, Text: "ottawa", Cursor: h.NextCursor}); !errors.Is(err, index.ErrBadQuery) {
		t.Errorf("foreign cursor: err = %v, want ErrBadQuery", err)
	}
}

func testConcurrent(t *testing.T, s index.Store) {
	putFixtures(t, s)
	bulk := filler(40)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(bulk); i += 4 {
				if _, err := s.Put(context.Background(), bulk[i]); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for range 10 {
				if _, err := s.Search(context.Background(), index.Query{Text: "bulletin OR ottawa", Facets: true}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if h := search(t, s, index.Query{Text: "bulletin"}); h.Total != len(bulk) {
		t.Errorf("after concurrent puts: Total %d, want %d", h.Total, len(bulk))
	}
}

func testKnownURLs(t *testing.T, s index.Store) {
	uc, ok := s.(index.URLChecker)
	if !ok {
		t.Skip("store does not implement index.URLChecker")
	}
	fx := putFixtures(t, s)
	pl := fx[KeyPoland]
	unknown := "https://example.org/never-seen"
	got, err := uc.KnownURLs(context.Background(), []string{pl.URL, fx[KeyFinland].CanonicalURL, unknown})
	if err != nil {
		t.Fatalf("KnownURLs: %v", err)
	}
	if !got[pl.URL] || !got[fx[KeyFinland].CanonicalURL] || got[unknown] {
		t.Errorf("KnownURLs = %v", got)
	}
	// Many URLs at once.
	many := make([]string, 2000)
	for i := range many {
		many[i] = fmt.Sprintf("https://example.org/%d", i)
	}
	many[1500] = fx[KeyNorway].CanonicalURL
	got, err = uc.KnownURLs(context.Background(), many)
	if err != nil {
		t.Fatalf("KnownURLs many: %v", err)
	}
	n := 0
	for _, known := range got {
		if known {
			n++
		}
	}
	if n != 1 || !got[fx[KeyNorway].CanonicalURL] {
		t.Errorf("KnownURLs many: %d known, want only the Norway URL", n)
	}
}

func testSourceStates(t *testing.T, s index.Store) {
	ss, ok := s.(index.StateStore)
	if !ok {
		t.Skip("store does not implement index.StateStore")
	}
	ctx := context.Background()
	got, err := ss.SourceStates(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v, %v", got, err)
	}
	st := news.SourceState{
		SourceID: "lrt", URL: "https://www.lrt.lt/rss", Validators: news.Validators{ETag: `"abc"`, LastModified: "Wed, 26 Nov 2025 10:00:00 GMT"},
		NextCheck: base.Add(time.Hour), LastAttempt: base, LastSuccess: base.Add(-time.Hour),
		LastError: "timeout", LastErrorClass: "timeout", ConsecutiveFailures: 2, ItemsSeen: 30, ArticlesTotal: 412,
	}
	other := news.SourceState{SourceID: "pap", URL: "https://pap.pl/rss.xml"}
	for _, s := range []news.SourceState{st, other} {
		if err := ss.SaveSourceState(ctx, s); err != nil {
			t.Fatalf("SaveSourceState: %v", err)
		}
	}
	st.ConsecutiveFailures = 0
	st.LastError = ""
	if err := ss.SaveSourceState(ctx, st); err != nil {
		t.Fatalf("SaveSourceState again: %v", err)
	}
	got, err = ss.SourceStates(ctx)
	if err != nil {
		t.Fatalf("SourceStates: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("SourceStates: %d states, want 2", len(got))
	}
	g := got["lrt"]
	if !g.NextCheck.Equal(st.NextCheck) || !g.LastAttempt.Equal(st.LastAttempt) || !g.LastSuccess.Equal(st.LastSuccess) {
		t.Errorf("times: got %+v, want %+v", g, st)
	}
	g.NextCheck, g.LastAttempt, g.LastSuccess = st.NextCheck, st.LastAttempt, st.LastSuccess
	if !reflect.DeepEqual(g, st) {
		t.Errorf("got %+v, want %+v", g, st)
	}
}

func testRecordEventOnce(t *testing.T, s index.Store) {
	es, ok := s.(index.EventStore)
	if !ok {
		t.Skip("store does not implement index.EventStore")
	}
	ev := news.Event{
		Key: news.EventKey("LT", news.ActionWithdrawEffective, news.TreatyCCM), Country: "LT",
		Action: news.ActionWithdrawEffective, Treaty: news.TreatyCCM, FirstSeen: base,
		FirstArticleID: "a1", FirstSourceID: "lrt", Evidence: "Nuo kovo 6 dienos Lietuvą nebesaisto konvencija.", Articles: 1,
	}
	const workers = 20
	var created sync.WaitGroup
	results := make(chan bool, workers)
	errs := make(chan error, workers)
	start := make(chan struct{})
	for i := range workers {
		created.Go(func() {
			<-start
			e := ev
			e.FirstArticleID = fmt.Sprintf("a%d", i)
			c, err := es.RecordEvent(context.Background(), e)
			if err != nil {
				errs <- err
				return
			}
			results <- c
		})
	}
	close(start)
	created.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Fatalf("RecordEvent: %v", err)
	}
	n := 0
	for c := range results {
		if c {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d of %d concurrent RecordEvent calls created the event, want exactly 1", n, workers)
	}
	c, err := es.RecordEvent(context.Background(), ev)
	if err != nil || c {
		t.Fatalf("RecordEvent again = %v, %v; want false", c, err)
	}
}

func testEvents(t *testing.T, s index.Store) {
	es, ok := s.(index.EventStore)
	if !ok {
		t.Skip("store does not implement index.EventStore")
	}
	ctx := context.Background()
	mk := func(country string, a news.Action, tr news.Treaty, daysAgo int) news.Event {
		return news.Event{Key: news.EventKey(country, a, tr), Country: country, Action: a, Treaty: tr,
			FirstSeen: base.AddDate(0, 0, -daysAgo), FirstArticleID: country + "-1", FirstSourceID: "src",
			Evidence: "evidence for " + country, Articles: 1}
	}
	fi := mk("FI", news.ActionWithdrawNotify, news.TreatyOttawa, 150)
	fi.EffectiveDate = fi.FirstSeen.AddDate(0, 6, 0)
	evs := []news.Event{
		fi,
		mk("LT", news.ActionWithdrawEffective, news.TreatyCCM, 400),
		mk("PL", news.ActionWithdrawVote, news.TreatyOttawa, 80),
		mk("PL", news.ActionResumeProduction, news.TreatyNone, 79),
	}
	for _, ev := range evs {
		if c, err := es.RecordEvent(ctx, ev); err != nil || !c {
			t.Fatalf("RecordEvent %s = %v, %v", ev.Key, c, err)
		}
	}
	keys := func(list []news.Event) []string {
		var out []string
		for _, e := range list {
			out = append(out, e.Key)
		}
		return out
	}
	tests := []struct {
		name string
		f    index.EventFilter
		want []string
	}{
		{"all newest first", index.EventFilter{}, []string{evs[3].Key, evs[2].Key, evs[0].Key, evs[1].Key}},
		{"country", index.EventFilter{Countries: []string{"PL"}}, []string{evs[3].Key, evs[2].Key}},
		{"action", index.EventFilter{Actions: []news.Action{news.ActionWithdrawNotify, news.ActionWithdrawEffective}}, []string{evs[0].Key, evs[1].Key}},
		{"since", index.EventFilter{Since: base.AddDate(0, 0, -100)}, []string{evs[3].Key, evs[2].Key}},
		{"none", index.EventFilter{Countries: []string{"NO"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := es.Events(ctx, tc.f)
			if err != nil {
				t.Fatalf("Events: %v", err)
			}
			if !reflect.DeepEqual(keys(got), tc.want) {
				t.Errorf("got %v, want %v", keys(got), tc.want)
			}
		})
	}
	got, err := es.Events(ctx, index.EventFilter{Countries: []string{"FI"}})
	if err != nil || len(got) != 1 {
		t.Fatalf("Events FI: %v, %v", got, err)
	}
	g := got[0]
	if !g.FirstSeen.Equal(fi.FirstSeen) || !g.EffectiveDate.Equal(fi.EffectiveDate) {
		t.Errorf("dates: got %v/%v, want %v/%v", g.FirstSeen, g.EffectiveDate, fi.FirstSeen, fi.EffectiveDate)
	}
	g.FirstSeen, g.EffectiveDate = fi.FirstSeen, fi.EffectiveDate
	if !reflect.DeepEqual(g, fi) {
		t.Errorf("got %+v, want %+v", g, fi)
	}
}

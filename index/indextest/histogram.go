package indextest

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/news"
)

// midnight is the UTC day of t.
func midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func testHistogram(t *testing.T, s index.Store) {
	fx := putFixtures(t, s)
	// Two more on the Finland story's day, one dated only by FirstSeen, and
	// one late in the evening, which is still that UTC day.
	fiDay := midnight(fx[KeyFinland].Published)
	undated := doc("hist-undated", "bulk", "en", time.Time{}, "Ottawa treaty exit debated", "Ottawa.",
		[]string{news.TopicTreatyWithdrawal}, ent("LV", news.ActionWithdrawVote, news.TreatyOttawa, "Ottawa."))
	undated.FirstSeen = fiDay.Add(time.Hour)
	late := doc("hist-late", "bulk", "en", fiDay.Add(23*time.Hour+59*time.Minute), "Ottawa convention", "Ottawa.",
		[]string{news.TopicTreatyWithdrawal, news.TopicProduction},
		ent("FI", news.ActionWithdrawNotify, news.TreatyOttawa, "Ottawa."),
		ent("FI", news.ActionProduce, news.TreatyNone, "Ottawa."))
	put(t, s, undated, late)

	// Limit 1: the histogram, like Total, covers every match.
	h := search(t, s, index.Query{Text: "ottawa", Histogram: true, Limit: 1})
	day := func(k string) time.Time { return midnight(fx[k].Published) }
	want := []index.DayCount{
		{Day: day(KeyEstonia), Count: 1, Topics: map[string]int{news.TopicTreatyWithdrawal: 1}, Countries: map[string]int{"EE": 1}},
		{Day: fiDay, Count: 3,
			Topics:    map[string]int{news.TopicTreatyWithdrawal: 3, news.TopicProduction: 1},
			Countries: map[string]int{"FI": 2, "LV": 1}},
		{Day: day(KeyNorway), Count: 1, Topics: map[string]int{news.TopicTreatyMembership: 1}, Countries: map[string]int{"NO": 1}},
		{Day: day(KeyDemining), Count: 1, Topics: map[string]int{news.TopicDeminingFunding: 1}, Countries: map[string]int{"US": 1}},
	}
	checkHistogram(t, h, want)

	// Filters narrow it; an irrelevant match has a day but no topics.
	h = search(t, s, index.Query{Text: "mine OR ottawa", Languages: []string{"en"}, Since: fiDay.Add(24 * time.Hour), Histogram: true})
	checkHistogram(t, h, []index.DayCount{
		{Day: day(KeyNavalMine), Count: 1},
		{Day: day(KeyDemining), Count: 1, Topics: map[string]int{news.TopicDeminingFunding: 1}, Countries: map[string]int{"US": 1}},
	})

	// Without text, over everything.
	h = search(t, s, index.Query{Histogram: true, Limit: 1})
	if len(h.Histogram) != len(fx) {
		t.Errorf("all documents: %d days, want %d", len(h.Histogram), len(fx))
	}
	checkHistogramTotal(t, h)

	if h := search(t, s, index.Query{Text: "ottawa"}); h.Histogram != nil {
		t.Errorf("histogram without Histogram: %v", h.Histogram)
	}
	if h := search(t, s, index.Query{Text: "zzzzqqq", Histogram: true}); len(h.Histogram) != 0 {
		t.Errorf("histogram of no matches: %v", h.Histogram)
	}
}

func checkHistogram(t *testing.T, h index.Hits, want []index.DayCount) {
	t.Helper()
	checkHistogramTotal(t, h)
	if len(h.Histogram) != len(want) {
		t.Fatalf("histogram has %d days, want %d: %+v", len(h.Histogram), len(want), h.Histogram)
	}
	for i, got := range h.Histogram {
		w := want[i]
		if !got.Day.Equal(w.Day) {
			t.Errorf("day %d is %v, want %v", i, got.Day, w.Day)
		}
		if got.Count != w.Count || !sameCounts(got.Topics, w.Topics) || !sameCounts(got.Countries, w.Countries) {
			t.Errorf("day %v = %d %v %v, want %d %v %v", w.Day, got.Count, got.Topics, got.Countries, w.Count, w.Topics, w.Countries)
		}
	}
}

// checkHistogramTotal checks the histogram's order and that its days add up
// to Total.
func checkHistogramTotal(t *testing.T, h index.Hits) {
	t.Helper()
	n := 0
	for i, dc := range h.Histogram {
		n += dc.Count
		if !dc.Day.Equal(midnight(dc.Day)) {
			t.Errorf("day %v is not midnight UTC", dc.Day)
		}
		if i > 0 && !dc.Day.After(h.Histogram[i-1].Day) {
			t.Errorf("histogram not oldest first at %d", i)
		}
		if dc.Count == 0 {
			t.Errorf("empty day %v listed", dc.Day)
		}
	}
	if n != h.Total {
		t.Errorf("histogram counts %d matches, Total is %d", n, h.Total)
	}
}

// sameCounts treats nil and empty maps alike.
func sameCounts(a, b map[string]int) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func testSavedSearches(t *testing.T, s index.Store) {
	ss, ok := s.(index.SearchSaver)
	if !ok {
		t.Skip("store does not implement index.SearchSaver")
	}
	ctx := context.Background()
	if list, err := ss.SavedSearches(ctx); err != nil || len(list) != 0 {
		t.Fatalf("empty store: %v, %v", list, err)
	}
	baltic := index.SavedSearch{ID: "baltic", Name: "Baltic withdrawals", Created: base,
		Query: index.Query{Text: `withdraw* NEAR/5 (ottawa OR "mine ban")`, Countries: []string{"EE", "LV", "LT"},
			Actions: []news.Action{news.ActionWithdrawVote}, Treaties: []news.Treaty{news.TreatyOttawa},
			Since: base.AddDate(-1, 0, 0), RelevantOnly: true, Sort: index.SortDate, Facets: true, Histogram: true,
			Limit: 50, Cursor: "abc"}}
	funding := index.SavedSearch{ID: "funding", Name: "Demining funding", Created: base.Add(time.Hour),
		Query: index.Query{Topics: []string{news.TopicDeminingFunding}, Languages: []string{"en"}}}
	for _, x := range []index.SavedSearch{baltic, funding} {
		if err := ss.SaveSearch(ctx, x); err != nil {
			t.Fatalf("SaveSearch %s: %v", x.ID, err)
		}
	}
	renamed := funding
	renamed.Name = "US demining funding"
	renamed.Query.Countries = []string{"US"}
	if err := ss.SaveSearch(ctx, renamed); err != nil {
		t.Fatalf("SaveSearch again: %v", err)
	}
	list, err := ss.SavedSearches(ctx)
	if err != nil {
		t.Fatalf("SavedSearches: %v", err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	baltic.Query.Limit, baltic.Query.Cursor = 0, "" // not kept
	want := []index.SavedSearch{baltic, renamed}
	if len(list) != len(want) {
		t.Fatalf("SavedSearches: %d, want %d: %+v", len(list), len(want), list)
	}
	for i := range want {
		g, w := list[i], want[i]
		if !g.Created.Equal(w.Created) || !g.Query.Since.Equal(w.Query.Since) || !g.Query.Until.Equal(w.Query.Until) {
			t.Errorf("%s: times %v/%v, want %v/%v", w.ID, g.Created, g.Query.Since, w.Created, w.Query.Since)
		}
		g.Created, g.Query.Since, g.Query.Until = w.Created, w.Query.Since, w.Query.Until
		if !reflect.DeepEqual(g, w) {
			t.Errorf("got %+v, want %+v", g, w)
		}
	}
	if err := ss.DeleteSearch(ctx, "baltic"); err != nil {
		t.Fatalf("DeleteSearch: %v", err)
	}
	if list, err := ss.SavedSearches(ctx); err != nil || len(list) != 1 || list[0].ID != "funding" {
		t.Errorf("after delete: %+v, %v", list, err)
	}
	if err := ss.DeleteSearch(ctx, "baltic"); !errors.Is(err, index.ErrNotFound) {
		t.Errorf("DeleteSearch twice: err = %v, want ErrNotFound", err)
	}
}

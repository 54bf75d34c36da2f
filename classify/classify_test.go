package classify

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/news"
)

func mustMatcher(t *testing.T, src string) *Matcher {
	t.Helper()
	n, err := query.Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	m, err := CompileQuery(n)
	if err != nil {
		t.Fatalf("CompileQuery(%q): %v", src, err)
	}
	return m
}

func TestMatch(t *testing.T) {
	tests := map[string]struct {
		query, title, text string
		want               bool
	}{
		"case":                   {"landmine", "", "LANDMINE ban", true},
		"diacritics":             {"konwencja", "", "Konwencją", true},
		"diacritics folded":      {"konwencją", "", "KONWENCJA", true},
		"ł vs l":                 {"Łotwa", "", "lotwa wystepuje", true},
		"l matches ł":            {"lotwa", "", "Łotwa występuje", true},
		"lithuanian ė":           {"pasitrauke", "", "Lietuva pasitraukė", true},
		"latvian ā":              {"izstāšanās", "", "IZSTASANAS", true},
		"estonian õ":             {"võttis", "", "VOTTIS", true},
		"german ß":               {"strasse", "", "Straße", true},
		"cyrillic case":          {"мины", "", "МИНЫ запрещены", true},
		"cyrillic ё":             {"ёж", "", "ЕЖ", true},
		"ukrainian ї":            {"Україна", "", "УКРАЇНА", true},
		"nfkc ligature":          {"finland", "", "ﬁnland leaves", true},
		"nfkc fullwidth":         {"mine", "", "ＭＩＮＥ", true},
		"combining sequence":     {"café", "", "cafe\u0301 bomb", true},
		"whole word":             {"mine", "", "undermine", false},
		"no plural":              {"mine", "", "mines", false},
		"prefix plural":          {"mine*", "", "mines", true},
		"prefix itself":          {"mine*", "", "mine", true},
		"prefix not infix":       {"mine*", "", "undermine", false},
		"prefix diacritics":      {"konwencj*", "", "Konwencję", true},
		"prefix folded rule":     {"izstāš*", "", "izstasanas", true},
		"hyphen splits":          {"anti-personnel", "", "anti personnel mines", true},
		"hyphen in text":         {`"anti personnel"`, "", "anti-personnel mines", true},
		"apostrophe":             {"d'Ottawa", "", "la convention d’Ottawa", true},
		"phrase order":           {`"Ottawa Convention"`, "", "Convention Ottawa", false},
		"phrase":                 {`"Ottawa Convention"`, "", "the Ottawa  Convention on", true},
		"phrase gap":             {`"Ottawa Convention"`, "", "Ottawa mine Convention", false},
		"phrase across sentence": {`"mine ban"`, "", "It was a mine. Ban them.", false},
		"phrase prefix":          {`"Ottawa konw*"`, "", "Ottawa konwencja", true},
		"phrase repeated word":   {`"mine mine"`, "", "mine mine", true},
		"and":                    {"mine AND ban", "", "ban the mine", true},
		"and missing":            {"mine AND ban", "", "the mine", false},
		"or":                     {"mina OR mine", "", "the mine", true},
		"not":                    {"mine NOT naval", "", "naval mine", false},
		"not absent":             {"mine NOT naval", "", "land mine", true},
		"top not":                {"NOT naval", "", "nothing here", true},
		"top not present":        {"NOT naval", "", "naval", false},
		"near forward":           {"withdraw* NEAR/3 Ottawa", "", "withdraw from the Ottawa treaty", true},
		"near backward":          {"withdraw* NEAR/3 Ottawa", "", "Ottawa treaty: Poland withdraws", true},
		"near too far":           {"withdraw* NEAR/2 Ottawa", "", "withdraw from the Ottawa treaty", false},
		"near adjacent":          {"a NEAR/1 b", "", "x a b x", true},
		"near 1 gap":             {"a NEAR/1 b", "", "a x b", false},
		"near same token":        {"mine* NEAR/5 mines", "", "mines", false},
		"near or operands":       {"(leave OR withdraw*) NEAR/4 (treaty OR convention)", "", "the convention they will leave", true},
		"near phrase":            {`"cluster munitions" NEAR/2 ban`, "", "ban on cluster munitions", true},
		"near sentence":          {"withdraw* NEAR/s Ottawa", "", "Poland will withdraw, sources said, from a treaty signed in Ottawa in 1997.", true},
		"near sentence split":    {"withdraw* NEAR/s Ottawa", "", "Poland will withdraw. Ottawa regrets it.", false},
		"near different fields":  {"withdraw* NEAR/5 Ottawa", "Poland to withdraw", "Ottawa", false},
		"near in title":          {"withdraw* NEAR/5 Ottawa", "Poland to withdraw from Ottawa", "", true},
		"title scope":            {"title:mine", "mine", "", true},
		"title scope not text":   {"title:mine", "", "mine", false},
		"text scope":             {"text:mine", "mine", "", false},
		"title group":            {"title:(mina OR mine)", "Mina", "", true},
		"any field title":        {"mine", "Mine", "", true},
		"title phrase":           {`title:"Ottawa Convention"`, "Leaving the Ottawa Convention", "", true},
		"title near scoped":      {"title:withdraw* NEAR/3 Ottawa", "Poland withdraws", "withdraws from Ottawa", false},
		"keyword word":           {`"OR"`, "", "or", true},
		"numbers":                {"1997", "", "the 1997 treaty", true},
		"empty article":          {"mine", "", "", false},
		"cyrillic prefix":        {"Оттавськ*", "", "з Оттавської конвенції", true},
		"greek":                  {"νάρκες", "", "ΝΑΡΚΕΣ", true},
		"nested not in and":      {"(mine OR mina) NOT (naval OR sea)", "", "mina sea", false},
		"and of or":              {"(a OR b) (c OR d)", "", "b d", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := mustMatcher(t, tc.query)
			got, hits := m.Match(tc.title, tc.text)
			if got != tc.want {
				t.Fatalf("Match(%q) on title %q text %q = %v, want %v", tc.query, tc.title, tc.text, got, tc.want)
			}
			for _, h := range hits {
				src := tc.text
				if h.Field == news.FieldTitle {
					src = tc.title
				}
				if h.Start < 0 || h.End > len(src) || h.Start >= h.End {
					t.Fatalf("hit %+v out of range of %q", h, src)
				}
			}
		})
	}
}

func TestMatchHits(t *testing.T) {
	m := mustMatcher(t, `withdraw* NEAR/3 Ottawa OR title:"mine ban" NOT naval`)
	title := "Mine ban: Poland leaves"
	text := "Poland withdraws from the Ottawa treaty. It may withdraw later. Ottawa is a city."
	ok, hits := m.Match(title, text)
	if !ok {
		t.Fatal("no match")
	}
	want := []news.TermHit{
		{Term: `"mine ban"`, Span: news.Span{Field: news.FieldTitle, Start: 0, End: 8}},
		{Term: "withdraw*", Span: news.Span{Field: news.FieldText, Start: 7, End: 16}},
		{Term: "Ottawa", Span: news.Span{Field: news.FieldText, Start: 26, End: 32}},
		// NEAR/n is not bounded by sentences: "withdraw later. Ottawa" is 2 apart.
		{Term: "withdraw*", Span: news.Span{Field: news.FieldText, Start: 48, End: 56}},
		{Term: "Ottawa", Span: news.Span{Field: news.FieldText, Start: 64, End: 70}},
	}
	if !reflect.DeepEqual(hits, want) {
		t.Fatalf("hits = %+v\nwant %+v", hits, want)
	}
	for _, h := range hits {
		src := text
		if h.Field == news.FieldTitle {
			src = title
		}
		t.Logf("%s → %q", h.Term, src[h.Start:h.End])
	}
}

func TestMatcherConcurrent(t *testing.T) {
	m := mustMatcher(t, "mine* NEAR/3 ban")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				text := strings.Repeat("x ", (i+j)%5) + "mines ban"
				if ok, hits := m.Match("", text); !ok || len(hits) != 2 {
					t.Errorf("Match(%q) = %v, %v", text, ok, hits)
					return
				}
				if ok, _ := m.Match("", "nothing"); ok {
					t.Error("matched nothing")
					return
				}
			}
		})
	}
	wg.Wait()
}

type fakeEntities struct {
	mu    sync.Mutex
	calls [][]string
}

func (f *fakeEntities) ExtractAt(_ time.Time, title, text, language string, topics []string) []news.Entity {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, topics)
	return []news.Entity{{Country: "PL", Action: news.ActionWithdrawAnnounce, Treaty: news.TreatyOttawa, Evidence: title}}
}

func testClassifier(t *testing.T, ents EntityExtractor) *Classifier {
	t.Helper()
	c, err := New(Options{
		Topics: []TopicDef{
			{ID: news.TopicTreatyWithdrawal},
			{ID: news.TopicClusterMunitions, Threshold: 2},
			{ID: news.TopicDeminingFunding, Threshold: 1.5},
		},
		Rules: []RuleText{
			{ID: "wd-en", Topic: news.TopicTreatyWithdrawal, Query: `(withdraw* OR leav*) NEAR/6 (Ottawa OR "mine ban")`},
			{ID: "wd-pl", Topic: news.TopicTreatyWithdrawal, Language: "pl", Query: `wystąpi* NEAR/5 ottawsk*`},
			{ID: "ccm-1", Topic: news.TopicClusterMunitions, Query: `"cluster munitions"`},
			{ID: "ccm-2", Topic: news.TopicClusterMunitions, Query: `CCM OR "Convention on Cluster Munitions"`},
			{ID: "fund-1", Topic: news.TopicDeminingFunding, Weight: 0.5, Query: `demining`},
			{ID: "fund-2", Topic: news.TopicDeminingFunding, Weight: 1, Query: `fund* NEAR/s (cut* OR slash*)`},
		},
		Entities: ents,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestClassify(t *testing.T) {
	tests := map[string]struct {
		article news.Article
		topics  []string
		score   float64
	}{
		"withdrawal": {news.Article{Title: "Poland to leave Ottawa Convention", Language: "en"}, []string{news.TopicTreatyWithdrawal}, 1},
		"language rule applies": {news.Article{Title: "Polska wystąpi z konwencji ottawskiej", Language: "pl"},
			[]string{news.TopicTreatyWithdrawal}, 1},
		"language rule skipped": {news.Article{Title: "Polska wystąpi z konwencji ottawskiej", Language: "en"}, []string{}, 0},
		"threshold not reached": {news.Article{Text: "Cluster munitions were used.", Language: "en"}, []string{}, 1},
		"threshold reached by two rules": {news.Article{Text: "Cluster munitions were used; the CCM bans them.", Language: "en"},
			[]string{news.TopicClusterMunitions}, 2},
		"weights add":     {news.Article{Text: "US funding cuts hit demining in Laos.", Language: "en"}, []string{news.TopicDeminingFunding}, 1.5},
		"weak rule alone": {news.Article{Text: "Demining continues.", Language: "en"}, []string{}, 0.5},
		"summary when no text": {news.Article{Summary: "Lithuania will withdraw from the Ottawa treaty", Language: "en"},
			[]string{news.TopicTreatyWithdrawal}, 1},
		"text preferred over summary": {news.Article{Summary: "Lithuania will withdraw from the Ottawa treaty", Text: "Nothing.", Language: "en"},
			[]string{}, 0},
		"two topics strongest first": {news.Article{Title: "Lithuania leaves the CCM", Text: "Lithuania will leave the Ottawa Convention and the Convention on Cluster Munitions; cluster munitions stocks remain.", Language: "en"},
			[]string{news.TopicClusterMunitions, news.TopicTreatyWithdrawal}, 2},
		"irrelevant": {news.Article{Title: "Naval mine found in Liepāja port", Language: "en"}, []string{}, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ents := &fakeEntities{}
			c := testClassifier(t, ents)
			got := c.Classify(tc.article)
			if ids := got.TopicIDs(); !reflect.DeepEqual(ids, tc.topics) {
				t.Fatalf("topics = %v, want %v", ids, tc.topics)
			}
			if got.Score != tc.score {
				t.Errorf("score = %v, want %v", got.Score, tc.score)
			}
			if got.Relevant != (len(tc.topics) > 0) {
				t.Errorf("relevant = %v", got.Relevant)
			}
			if got.RulesVersion != c.Version() || c.Version() == "" {
				t.Errorf("rules version %q, classifier %q", got.RulesVersion, c.Version())
			}
			if got.Relevant {
				if len(ents.calls) != 1 || !reflect.DeepEqual(ents.calls[0], tc.topics) || len(got.Entities) != 1 {
					t.Errorf("entity calls %v, entities %v", ents.calls, got.Entities)
				}
			} else if len(ents.calls) != 0 || len(got.Entities) != 0 {
				t.Errorf("extractor called for an irrelevant article: %v", ents.calls)
			}
			for _, ts := range got.Topics {
				if len(ts.Matches) == 0 {
					t.Errorf("topic %s has no explanation", ts.Topic)
				}
				var sum float64
				for _, m := range ts.Matches {
					sum += m.Weight
					if len(m.Hits) == 0 {
						t.Errorf("rule %s matched without hits", m.RuleID)
					}
				}
				if sum != ts.Score {
					t.Errorf("topic %s score %v, weights sum %v", ts.Topic, ts.Score, sum)
				}
			}
		})
	}
}

func TestClassifyExplains(t *testing.T) {
	c := testClassifier(t, nil)
	a := news.Article{Title: "Poland to leave Ottawa Convention", Text: "Funding was cut. Demining slows.", Language: "en"}
	got := c.Classify(a)
	want := []news.TopicScore{
		{Topic: news.TopicDeminingFunding, Score: 1.5, Matches: []news.RuleMatch{
			{RuleID: "fund-1", Weight: 0.5, Hits: []news.TermHit{{Term: "demining", Span: news.Span{Field: news.FieldText, Start: 17, End: 25}}}},
			{RuleID: "fund-2", Weight: 1, Hits: []news.TermHit{
				{Term: "fund*", Span: news.Span{Field: news.FieldText, Start: 0, End: 7}},
				{Term: "cut*", Span: news.Span{Field: news.FieldText, Start: 12, End: 15}},
			}},
		}},
		{Topic: news.TopicTreatyWithdrawal, Score: 1, Matches: []news.RuleMatch{
			{RuleID: "wd-en", Weight: 1, Hits: []news.TermHit{
				{Term: "leav*", Span: news.Span{Field: news.FieldTitle, Start: 10, End: 15}},
				{Term: "Ottawa", Span: news.Span{Field: news.FieldTitle, Start: 16, End: 22}},
			}},
		}},
	}
	if !reflect.DeepEqual(got.Topics, want) {
		t.Fatalf("topics =\n%+v\nwant\n%+v", got.Topics, want)
	}
	if got.Entities == nil {
		t.Error("entities is nil, want an empty list")
	}
}

func TestVersion(t *testing.T) {
	opts := func(q string) Options {
		return Options{Topics: []TopicDef{{ID: "t"}}, Rules: []RuleText{{ID: "r", Topic: "t", Query: q}}}
	}
	v := func(q string) string {
		c, err := New(opts(q))
		if err != nil {
			t.Fatal(err)
		}
		return c.Version()
	}
	if v("mine OR mina") != v("(mine)   OR\n mina") {
		t.Error("reformatting changed the version")
	}
	if v("mine OR mina") == v("mine OR mines") {
		t.Error("a changed rule kept the version")
	}
	if v("Mine") != v("mine") {
		t.Error("case of a word changed the version though matching is case-blind")
	}
}

func TestRuleErrors(t *testing.T) {
	topics := []TopicDef{{ID: "t"}}
	tests := map[string]struct {
		rule RuleText
		want string
	}{
		"same line": {RuleText{ID: "r1", Topic: "t", Query: "mine AND", File: "rules.yaml", Line: 10, Col: 12},
			"rules.yaml:10:20: rule r1: expected a term or '(' after AND, found end of query"},
		"later line": {RuleText{ID: "r2", Topic: "t", Query: "(mine OR mina)\n  AND\n  (Ottawa", File: "rules.yaml", Line: 20, Col: 7},
			"rules.yaml:22:10: rule r2: missing ')' to close the '(' at line 3, column 3; found end of query"},
		"unknown field": {RuleText{ID: "r3", Topic: "t", Query: "body:mine", File: "f.yaml", Line: 3, Col: 5},
			`f.yaml:3:5: rule r3: unknown field "body": fields are title and text`},
		"unknown topic": {RuleText{ID: "r4", Topic: "nope", Query: "mine", File: "f.yaml", Line: 4, Col: 1},
			`f.yaml:4:1: rule r4: unknown topic "nope"`},
		"bad weight": {RuleText{ID: "r5", Topic: "t", Query: "mine", Weight: -1, File: "f.yaml", Line: 5, Col: 1},
			"f.yaml:5:1: rule r5: weight must be a positive number, not -1"},
		"bad language": {RuleText{ID: "r6", Topic: "t", Query: "mine", Language: "polish", File: "f.yaml", Line: 6, Col: 1},
			`f.yaml:6:1: rule r6: language "polish" is not an ISO 639-1 code`},
		"only negative": {RuleText{ID: "r8", Topic: "t", Query: "NOT naval OR NOT sea", File: "f.yaml", Line: 8, Col: 3},
			"f.yaml:8:3: rule r8: query NOT naval OR NOT sea matches articles containing none of its words: a rule must require at least one word"},
		"no file": {RuleText{ID: "r7", Topic: "t", Query: "a NEAR/0 b"},
			"rule r7: NEAR distance must be 1–100 or s (same sentence), not \"0\""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := New(Options{Topics: topics, Rules: []RuleText{tc.rule}})
			if err == nil {
				t.Fatal("New accepted a bad rule")
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("error %v has no RuleError", err)
			}
			if re.Error() != tc.want {
				t.Fatalf("error = %q\nwant    %q", re.Error(), tc.want)
			}
		})
	}
}

func TestRuleErrorsAllReported(t *testing.T) {
	_, err := New(Options{
		Topics: []TopicDef{{ID: "t"}},
		Rules: []RuleText{
			{ID: "ok", Topic: "t", Query: "mine"},
			{ID: "bad1", Topic: "t", Query: "(", Line: 1, Col: 1},
			{ID: "bad2", Topic: "x", Query: "mine"},
			{ID: "ok", Topic: "t", Query: "mine"},
		},
	})
	if err == nil {
		t.Fatal("New accepted bad rules")
	}
	for _, want := range []string{"rule bad1:", "rule bad2:", "rule ok: rule id used twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !errors.Is(err, ErrUnknownTopic) {
		t.Error("errors.Is(err, ErrUnknownTopic) = false")
	}
}

func TestNewTopicErrors(t *testing.T) {
	for name, topics := range map[string][]TopicDef{
		"empty id":  {{ID: ""}},
		"duplicate": {{ID: "a"}, {ID: "a"}},
		"negative":  {{ID: "a", Threshold: -1}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(Options{Topics: topics}); err == nil {
				t.Fatal("New accepted bad topics")
			}
		})
	}
}

// TestClassifyConcurrentAndRepeatable classifies the same articles in many
// goroutines and in different orders: pooled scan state must never leak from
// one article into the next.
func TestClassifyConcurrentAndRepeatable(t *testing.T) {
	c := testClassifier(t, nil)
	arts := []news.Article{
		{Title: "Poland to leave Ottawa Convention", Text: "Funding was cut. Demining slows.", Language: "en"},
		{Title: "Polska wystąpi z konwencji ottawskiej", Language: "pl"},
		{Text: "Cluster munitions were used; the CCM bans them.", Language: "en"},
		{Title: "Naval mine found", Text: "Nothing to see.", Language: "en"},
		{Summary: "Lithuania will withdraw from the Ottawa treaty", Language: "en"},
	}
	want := make([]news.Classification, len(arts))
	for i, a := range arts {
		want[i] = c.Classify(a)
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for k := range 40 {
				i := (g*7 + k*3) % len(arts)
				if got := c.Classify(arts[i]); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("article %d classified differently: %+v, want %+v", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

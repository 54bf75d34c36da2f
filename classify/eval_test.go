package classify_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/minewatch/minewatch/classify"
	"github.com/minewatch/minewatch/classify/entities"
	"github.com/minewatch/minewatch/config"
	"github.com/minewatch/minewatch/news"
)

// Floors a little below what the default rule pack reaches on each set, so a
// regression in the rules, the matcher or the extractor fails the build. dev is
// what the rules were written against; challenge (testdata/challenge, written
// independently, phrased away from dev) and the demo site's labels are the
// checks that they generalise.
// The demo has 32 articles, so one miss costs about three points there.
var floors = map[string]struct{ relevance, topics, entities float64 }{
	"dev":       {0.98, 0.98, 0.97},
	"challenge": {0.97, 0.96, 0.96},
	"demo":      {0.95, 0.94, 0.93},
}

// repoRoot walks up from the package directory to the one holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
}

type evalEntity struct {
	Country string `json:"country" yaml:"country"` // English short name, or alpha-2 code (demo)
	Action  string `json:"action" yaml:"action"`
	Treaty  string `json:"treaty" yaml:"treaty"`
}

type evalItem struct {
	ID        string       `json:"id"`
	Language  string       `json:"language"`
	Title     string       `json:"title"`
	Text      string       `json:"text"`
	Relevant  bool         `json:"relevant"`
	Topics    []string     `json:"topics"`
	Entities  []evalEntity `json:"entities"`
	Published time.Time    `json:"-"`
}

// readJSONL reads items in the dev.jsonl format.
func readJSONL(t testing.TB, path string) []evalItem {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var items []evalItem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var it evalItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return items
}

func readEvalItems(t testing.TB) []evalItem {
	t.Helper()
	path := filepath.Join(repoRoot(t), "..", "shared", "eval", "dev.jsonl")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("evaluation set not available (%v); it lives in ../shared/eval beside the repository", err)
	}
	return readJSONL(t, path)
}

// readChallenge reads testdata/challenge/*.jsonl, the independent set.
func readChallenge(t testing.TB) []evalItem {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "challenge", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/challenge/*.jsonl")
	}
	var items []evalItem
	for _, f := range files {
		items = append(items, readJSONL(t, f)...)
	}
	return items
}

// demoOutletLanguage is the language of each demo outlet's articles unless an
// article says otherwise (demo/outlets.go).
var demoOutletLanguage = map[string]string{
	"bpb": "en", "kurier": "pl", "nemuno": "lt", "visnyk": "uk", "lfn": "en", "naw": "en",
}

// readDemo reads the labelled articles of the demo site (demo/content/*.yaml):
// written by another engineer, so a check the rule authors did not tune on.
func readDemo(t testing.TB) []evalItem {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "demo", "content", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no demo content in demo/content")
	}
	var items []evalItem
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Articles []struct {
				Path      string `yaml:"path"`
				Title     string `yaml:"title"`
				Lang      string `yaml:"lang"`
				Published string `yaml:"published"`
				Body      string `yaml:"body"`
				Expect    struct {
					Relevant bool         `yaml:"relevant"`
					Topics   []string     `yaml:"topics"`
					Entities []evalEntity `yaml:"entities"`
				} `yaml:"expect"`
			} `yaml:"articles"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		outlet := strings.TrimSuffix(filepath.Base(f), ".yaml")
		for _, a := range doc.Articles {
			lang := a.Lang
			if lang == "" {
				lang = demoOutletLanguage[outlet]
			}
			if lang == "" {
				t.Fatalf("%s: %s: no language (add the outlet to demoOutletLanguage)", f, a.Path)
			}
			pub, err := time.Parse(time.RFC3339, a.Published)
			if err != nil {
				t.Fatalf("%s: %s: published: %v", f, a.Path, err)
			}
			// Paragraphs as the site renders them: lines joined, blank lines kept.
			var paras []string
			for p := range strings.SplitSeq(strings.TrimSpace(a.Body), "\n\n") {
				if p = strings.Join(strings.Fields(p), " "); p != "" {
					paras = append(paras, p)
				}
			}
			items = append(items, evalItem{
				ID: outlet + "/" + a.Path, Language: lang, Title: strings.TrimSpace(a.Title),
				Text: strings.Join(paras, "\n\n"), Relevant: a.Expect.Relevant, Topics: a.Expect.Topics,
				Entities: a.Expect.Entities, Published: pub.UTC(),
			})
		}
	}
	return items
}

// rulePack is config/rules.yaml as this test reads it: the config package owns
// the real loader, this keeps the evaluation independent of it.
type rulePack struct {
	Topics []struct {
		ID        string  `yaml:"id"`
		Name      string  `yaml:"name"`
		Threshold float64 `yaml:"threshold"`
		Rules     []struct {
			ID       string  `yaml:"id"`
			Language string  `yaml:"language"`
			Weight   float64 `yaml:"weight"`
			Query    string  `yaml:"query"`
		} `yaml:"rules"`
	} `yaml:"topics"`
}

func loadRulePack(t testing.TB) classify.Options {
	t.Helper()
	path := filepath.Join(repoRoot(t), "config", "rules.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var pack rulePack
	if err := doc.Decode(&pack); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	lines := queryLines(&doc)
	var opts classify.Options
	for _, tp := range pack.Topics {
		opts.Topics = append(opts.Topics, classify.TopicDef{ID: tp.ID, Threshold: tp.Threshold})
		for _, r := range tp.Rules {
			pos := lines[r.ID]
			opts.Rules = append(opts.Rules, classify.RuleText{
				ID: r.ID, Topic: tp.ID, Query: r.Query, Language: r.Language, Weight: r.Weight,
				File: "config/rules.yaml", Line: pos[0], Col: pos[1],
			})
		}
	}
	return opts
}

// queryLines maps each rule id to the line and column of its query.
func queryLines(n *yaml.Node) map[string][2]int {
	out := map[string][2]int{}
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			var id string
			var q *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				switch n.Content[i].Value {
				case "id":
					id = n.Content[i+1].Value
				case "query":
					q = n.Content[i+1]
				}
			}
			if id != "" && q != nil {
				out[id] = [2]int{q.Line, q.Column}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return out
}

// counts accumulates true and false positives and negatives.
type counts struct{ tp, fp, fn int }

func (c *counts) add(o counts) { c.tp += o.tp; c.fp += o.fp; c.fn += o.fn }

func (c counts) prf() (p, r, f float64) {
	if c.tp+c.fp > 0 {
		p = float64(c.tp) / float64(c.tp+c.fp)
	} else {
		p = 1
	}
	if c.tp+c.fn > 0 {
		r = float64(c.tp) / float64(c.tp+c.fn)
	} else {
		r = 1
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return
}

func (c counts) String() string {
	p, r, f := c.prf()
	return fmt.Sprintf("%5.3f %5.3f %5.3f", p, r, f)
}

func setCounts(gold, got map[string]bool) counts {
	var c counts
	for k := range gold {
		if got[k] {
			c.tp++
		} else {
			c.fn++
		}
	}
	for k := range got {
		if !gold[k] {
			c.fp++
		}
	}
	return c
}

type scores struct{ items, relevance, topics, entities, triples counts }

func (s *scores) add(o scores) {
	s.items.add(o.items)
	s.relevance.add(o.relevance)
	s.topics.add(o.topics)
	s.entities.add(o.entities)
	s.triples.add(o.triples)
}

// newEvalClassifier builds the default rule pack with the entity extractor,
// its clock pinned so "two years ago" means the same thing every run.
func newEvalClassifier(t testing.TB) (*classify.Classifier, *entities.Extractor) {
	t.Helper()
	x, err := entities.New(entities.WithNow(func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }))
	if err != nil {
		t.Fatal(err)
	}
	opts := loadRulePack(t)
	opts.Entities = x
	c, err := classify.New(opts)
	if err != nil {
		t.Fatalf("rules.yaml: %v", err)
	}
	return c, x
}

// evaluate classifies every item and returns the totals, the scores per
// language and a line for each item that went wrong.
func evaluate(t testing.TB, c *classify.Classifier, x *entities.Extractor, items []evalItem) (scores, map[string]*scores, []string) {
	t.Helper()
	total := scores{}
	byLang := map[string]*scores{}
	var errorsSeen []string
	for _, it := range items {
		cl := c.Classify(news.Article{Title: it.Title, Text: it.Text, Language: it.Language, Published: it.Published})
		var rel counts
		switch {
		case cl.Relevant && it.Relevant:
			rel.tp++
		case cl.Relevant:
			rel.fp++
		case it.Relevant:
			rel.fn++
		}
		goldT, gotT := map[string]bool{}, map[string]bool{}
		for _, tp := range it.Topics {
			goldT[tp] = true
		}
		for _, tp := range cl.TopicIDs() {
			gotT[tp] = true
		}
		goldE, gotE := map[string]bool{}, map[string]bool{}
		goldX, gotX := map[string]bool{}, map[string]bool{}
		for _, e := range it.Entities {
			code := e.Country
			if len(code) != 2 || strings.ToUpper(code) != code || x.CountryName(code) == "" {
				var ok bool
				if code, ok = x.CountryCode(e.Country); !ok {
					t.Fatalf("%s: country %q is not in the gazetteer", it.ID, e.Country)
				}
			}
			goldE[code+"/"+e.Action] = true
			goldX[code+"/"+e.Action+"/"+e.Treaty] = true
		}
		for _, e := range cl.Entities {
			gotE[e.Country+"/"+string(e.Action)] = true
			gotX[e.Key()] = true
		}
		s := scores{items: counts{tp: 1}, relevance: rel, topics: setCounts(goldT, gotT), entities: setCounts(goldE, gotE), triples: setCounts(goldX, gotX)}
		if byLang[it.Language] == nil {
			byLang[it.Language] = &scores{}
		}
		total.add(s)
		byLang[it.Language].add(s)
		if s.relevance.fp+s.relevance.fn+s.topics.fp+s.topics.fn+s.triples.fp+s.triples.fn > 0 {
			errorsSeen = append(errorsSeen, fmt.Sprintf("%s %s %q topics want %v got %v; entities want %v got %v",
				it.ID, it.Language, it.Title, keys(goldT), keys(gotT), keys(goldX), keys(gotX)))
		}
	}
	return total, byLang, errorsSeen
}

func scoreTable(name string, total scores, byLang map[string]*scores) string {
	langs := make([]string, 0, len(byLang))
	for l := range byLang {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s\n%-5s %5s | %-17s | %-17s | %-17s | %-17s\n", name, "lang", "items", "relevance P R F1", "topics P R F1", "(country,action)", "(c,a,treaty)")
	row := func(name string, s scores) {
		fmt.Fprintf(&b, "%-5s %5d | %s | %s | %s | %s\n", name, s.items.tp, s.relevance, s.topics, s.entities, s.triples)
	}
	for _, l := range langs {
		row(l, *byLang[l])
	}
	row("all", total)
	return b.String()
}

// TestEval classifies every item of the dev set, the challenge set and the
// demo site's labelled articles with the default rule pack and the entity
// extractor, and reports precision, recall and F1 for relevance, topics
// (micro) and (country, action) pairs, overall and per language. Run with -v
// to see every item that went wrong.
func TestEval(t *testing.T) {
	c, x := newEvalClassifier(t)
	sets := []struct {
		name string
		read func(testing.TB) []evalItem
	}{
		{"dev", readEvalItems},
		{"challenge", readChallenge},
		{"demo", readDemo},
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			items := set.read(t)
			total, byLang, errorsSeen := evaluate(t, c, x, items)
			t.Log(scoreTable(set.name, total, byLang))
			if testing.Verbose() {
				for _, e := range errorsSeen {
					t.Log(e)
				}
			}
			fl := floors[set.name]
			for _, chk := range []struct {
				name  string
				c     counts
				floor float64
			}{
				{"relevance", total.relevance, fl.relevance},
				{"topic micro", total.topics, fl.topics},
				{"(country, action)", total.entities, fl.entities},
			} {
				if _, _, f := chk.c.prf(); f < chk.floor {
					t.Errorf("%s: %s F1 %.3f is below the floor %.2f", set.name, chk.name, f, chk.floor)
				}
			}
		})
	}
}

// TestChallengeSetWellFormed keeps the challenge set honest: every label uses
// the taxonomy's ids, non-relevant items carry nothing, and the set stays
// large, balanced and in all ten languages.
func TestChallengeSetWellFormed(t *testing.T) {
	items := readChallenge(t)
	x, err := entities.New()
	if err != nil {
		t.Fatal(err)
	}
	topics := map[string]bool{}
	for _, tp := range loadRulePack(t).Topics {
		topics[tp.ID] = true
	}
	actions := map[string]bool{}
	for _, a := range news.Actions {
		actions[string(a)] = true
	}
	ids := map[string]bool{}
	langs := map[string]int{}
	relevant := 0
	for _, it := range items {
		if ids[it.ID] {
			t.Errorf("%s: id used twice", it.ID)
		}
		ids[it.ID] = true
		langs[it.Language]++
		if it.Title == "" || it.Text == "" {
			t.Errorf("%s: empty title or text", it.ID)
		}
		if !it.Relevant && (len(it.Topics) > 0 || len(it.Entities) > 0) {
			t.Errorf("%s: a non-relevant item has topics or entities", it.ID)
		}
		if it.Relevant {
			relevant++
			if len(it.Topics) == 0 {
				t.Errorf("%s: a relevant item needs a topic", it.ID)
			}
		}
		for _, tp := range it.Topics {
			if !topics[tp] {
				t.Errorf("%s: unknown topic %q", it.ID, tp)
			}
		}
		for _, e := range it.Entities {
			if _, ok := x.CountryCode(e.Country); !ok {
				t.Errorf("%s: country %q is not in the gazetteer", it.ID, e.Country)
			}
			if !actions[e.Action] {
				t.Errorf("%s: unknown action %q", it.ID, e.Action)
			}
			switch news.Treaty(e.Treaty) {
			case news.TreatyOttawa, news.TreatyCCM, news.TreatyNone:
			default:
				t.Errorf("%s: unknown treaty %q", it.ID, e.Treaty)
			}
		}
	}
	if len(items) < 150 {
		t.Errorf("%d items, want at least 150", len(items))
	}
	if share := float64(relevant) / float64(len(items)); share < 0.4 || share > 0.6 {
		t.Errorf("%.0f%% relevant, want about half", share*100)
	}
	for _, l := range []string{"en", "pl", "fi", "et", "lv", "lt", "uk", "ru", "de", "fr"} {
		if langs[l] < 10 {
			t.Errorf("language %s has %d items, want at least 10", l, langs[l])
		}
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestRulePackMatchesConfigDefault makes sure this test evaluates what the
// program runs: the rules read here equal the config package's default pack.
func TestRulePackMatchesConfigDefault(t *testing.T) {
	norm := func(w float64) float64 {
		if w == 0 {
			return 1
		}
		return w
	}
	mine := map[string]string{}
	for _, r := range loadRulePack(t).Rules {
		mine[r.ID] = fmt.Sprintf("%s|%s|%s|%g", r.Topic, r.Language, r.Query, norm(r.Weight))
	}
	theirs := map[string]string{}
	for _, tp := range config.Default().Topics {
		for _, r := range tp.Rules {
			theirs[r.ID] = fmt.Sprintf("%s|%s|%s|%g", tp.ID, r.Language, r.Query, norm(r.Weight))
		}
	}
	for id, v := range mine {
		if theirs[id] != v {
			t.Errorf("rule %s: rules.yaml gives %q, config.Default() %q", id, v, theirs[id])
		}
	}
	for id := range theirs {
		if _, ok := mine[id]; !ok {
			t.Errorf("rule %s is in config.Default() but not in rules.yaml", id)
		}
	}
}

// TestRulePackExamples runs the default pack over headlines written for this
// test (not from the dev set): hard negatives must stay out, and the topic of
// each story must be the one an analyst would give it.
func TestRulePackExamples(t *testing.T) {
	opts := loadRulePack(t)
	c, err := classify.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang, title, text string
		want              []string // topics; nil means not relevant
	}{
		{"en", "Lithuania's parliament votes to ditch landmine treaty", "Lithuania's parliament voted on Thursday to leave the Ottawa Convention banning anti-personnel mines.", []string{"treaty_withdrawal"}},
		{"en", "Poland plans to make a million landmines", "Poland will produce up to one million anti-personnel mines, a deputy minister said.", []string{"production"}},
		{"en", "Landmine Monitor 2025: casualties rise for fifth year", "The Landmine Monitor recorded 6,279 casualties in 2024.", []string{"casualties_victims"}},
		{"en", "Europe's frontline states turn back to landmines", "Poland, Finland and the Baltic states are leaving the Ottawa Convention, which bans anti-personnel mines, citing the threat from Russia.", []string{"treaty_withdrawal"}},
		{"en", "HALO Trust warns of funding gap for mine clearance in Angola", "Demining groups say US cuts have left a gap of $50 million.", []string{"demining_funding"}},
		{"en", "UN chief concerned over withdrawals from mine ban treaty", "Secretary-General Antonio Guterres said withdrawals from the Anti-Personnel Mine Ban Convention set a dangerous precedent.", []string{"treaty_withdrawal"}},
		{"en", "Landmines remain a deadly threat in Cambodia's north-west", "Villagers are still killed by landmines decades after the war, and much of the land is still contaminated with mines.", []string{"casualties_victims", "demining_funding"}},
		{"en", "The hidden landmine in your variable-rate mortgage", "Borrowers who took variable-rate loans could see payments jump; one reader was killed by the fees, she joked.", nil},
		{"pl", "Rosja używa min przeciwpiechotnych na froncie", "Rosyjskie wojska używają min przeciwpiechotnych na całej linii frontu.", []string{"transfer_use"}},
		{"de", "Litauen tritt aus Streumunition-Abkommen aus", "Litauen ist offiziell aus dem Übereinkommen über Streumunition ausgetreten.", []string{"cluster_munitions", "treaty_withdrawal"}},
		{"fr", "Déminage : la France débloque 10 millions d'euros pour l'Ukraine", "La France débloque 10 millions d'euros supplémentaires pour le déminage humanitaire en Ukraine.", []string{"demining_funding"}},
		// Hard negatives.
		{"en", "Senators visit Ottawa for trade talks", "A delegation of US senators met Canadian officials in Ottawa to discuss tariffs on steel.", nil},
		{"en", "Miners trapped after collapse at Polish coal mine", "Rescuers are trying to reach three miners trapped after a collapse at a coal mine in Silesia.", nil},
		{"en", "Mine blast kills five at Pakistan coal pit", "An explosion at a coal mine killed five workers.", nil},
		{"en", "Bitcoin miners flock to Paraguay", "Crypto mining firms are setting up in Paraguay to use cheap hydropower.", nil},
		{"en", "Estonia's Riigikogu votes to leave Istanbul Convention", "Estonian lawmakers voted to withdraw from the Istanbul Convention on violence against women.", nil},
		{"en", "Naval divers defuse WWII sea mine off Gdansk", "Polish navy divers defused a World War Two sea mine found in the port of Gdansk.", nil},
		{"en", "Cluster of Legionnaires' cases kills two in Riga", "Health officials in Riga reported a cluster of Legionnaires' disease cases.", nil},
		{"en", "Ottawa Senators clinch playoff spot", "The Ottawa Senators beat Toronto 4-2.", nil},
		{"en", "Budget negotiations a minefield for Finnish government", "The coalition faces a political minefield over spending cuts.", nil},
		{"en", "CCM wins Tanzania vote by a landslide", "The ruling CCM party won the election.", nil},
		{"ru", "Госдума обсудила выход из ДСНВ", "Депутаты обсудили выход России из договора.", nil},
		{"pl", "Pole minowe dla koalicji: spór o budżet", "Budżet to prawdziwe pole minowe dla rządu.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			cl := c.Classify(news.Article{Language: tt.lang, Title: tt.title, Text: tt.text})
			got := cl.TopicIDs()
			slices.Sort(got)
			if len(got) == 0 {
				got = nil
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("topics %v, want %v", got, tt.want)
			}
			if cl.Relevant != (tt.want != nil) {
				t.Errorf("relevant %v, want %v", cl.Relevant, tt.want != nil)
			}
		})
	}
}

// BenchmarkClassifyDefaultPack measures what production runs: the default
// rule pack, alone and with the entity extractor (which runs on relevant
// articles only), over the dev and challenge sets.
func BenchmarkClassifyDefaultPack(b *testing.B) {
	arts, size := benchArticles(b)
	withEntities, _ := newEvalClassifier(b)
	rulesOnly, err := classify.New(loadRulePack(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		c    *classify.Classifier
	}{{"rules", rulesOnly}, {"rules+entities", withEntities}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, a := range arts {
					bc.c.Classify(a)
				}
			}
		})
	}
}

// benchArticles are the challenge and dev sets as articles, and their size in
// bytes of title and text.
func benchArticles(b *testing.B) ([]news.Article, int64) {
	items := append(readChallenge(b), readEvalItems(b)...)
	arts := make([]news.Article, len(items))
	var size int64
	for i, it := range items {
		arts[i] = news.Article{Title: it.Title, Text: it.Text, Language: it.Language}
		size += int64(len(it.Title) + len(it.Text))
	}
	return arts, size
}

// BenchmarkBareScan is the floor for BenchmarkClassifyDefaultPack (issue #4):
// the same articles scanned once for the same default pack's patterns, with
// nothing else (see Classifier.BareScan in export_test.go).
func BenchmarkBareScan(b *testing.B) {
	arts, size := benchArticles(b)
	c, err := classify.New(loadRulePack(b))
	if err != nil {
		b.Fatal(err)
	}
	hits := 0
	for _, a := range arts {
		hits += c.BareScan(a.Title, a.Text)
	}
	if hits == 0 {
		b.Fatal("the bare scan found no patterns in the benchmark articles")
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range arts {
			c.BareScan(a.Title, a.Text)
		}
	}
}

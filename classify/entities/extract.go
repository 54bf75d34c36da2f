package entities

import (
	"embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minewatch/minewatch/classify/textnorm"
	"github.com/minewatch/minewatch/news"
)

//go:embed data/countries.tsv data/names.tsv data/inflections.tsv data/cues.tsv
var dataFS embed.FS

// Extractor finds entities. It is immutable after New and safe for concurrent use.
type Extractor struct {
	g    *gazetteer
	cues *cueSet
	now  func() time.Time
	// keys merges the gazetteer's and the cues' indexes: one lookup per token.
	keys map[string]*keyEntry
	// work keeps the per-article buffers (*work) between articles.
	work sync.Pool
}

// Option configures an Extractor.
type Option func(*Extractor)

// WithNow sets the clock that dates "historical" years: a year two or more
// before the current one is background. Tests pin it; the default is time.Now.
func WithNow(now func() time.Time) Option {
	return func(x *Extractor) { x.now = now }
}

// New loads the embedded gazetteer and action cues.
func New(opts ...Option) (*Extractor, error) {
	read := func(name string) ([]byte, error) {
		b, err := dataFS.ReadFile("data/" + name)
		if err != nil {
			return nil, fmt.Errorf("entities: read %s: %w", name, err)
		}
		return b, nil
	}
	var files [4][]byte
	for i, n := range []string{"countries.tsv", "names.tsv", "inflections.tsv", "cues.tsv"} {
		b, err := read(n)
		if err != nil {
			return nil, err
		}
		files[i] = b
	}
	g, err := loadGazetteer(files[0], files[1], files[2])
	if err != nil {
		return nil, fmt.Errorf("entities: gazetteer: %w", err)
	}
	cs, err := compileCues(files[3])
	if err != nil {
		return nil, fmt.Errorf("entities: cues: %w", err)
	}
	x := &Extractor{g: g, cues: cs, now: time.Now, keys: keyIndex(g, cs)}
	for _, o := range opts {
		o(x)
	}
	return x, nil
}

// Countries lists the gazetteer's ISO 3166-1 countries in code order.
func (x *Extractor) Countries() []Country { return slices.Clone(x.g.countries) }

// CountryName returns the English short name of an alpha-2 code, or "".
func (x *Extractor) CountryName(code string) string { return x.g.byCode[code] }

// CountryCode returns the alpha-2 code of an English short name (any case or
// diacritics), as written in news.Entity.CountryName and the eval set.
func (x *Extractor) CountryCode(name string) (string, bool) {
	c, ok := x.g.byName[textnorm.Fold(name)]
	return c, ok
}

// Mentions returns the countries named in text, in order. language is the
// article's ISO 639-1 code ("" if unknown).
func (x *Extractor) Mentions(text, language string) []Mention {
	toks := textnorm.Tokenize(text)
	return x.g.mentions(nil, text, toks, lookupKeys(nil, x.keys, toks), normLanguage(language))
}

// stage orders the withdrawal steps; an article reports the latest one, the
// earlier ones are background.
var stage = map[news.Action]int{
	news.ActionWithdrawAnnounce: 1, news.ActionWithdrawVote: 2,
	news.ActionWithdrawNotify: 3, news.ActionWithdrawEffective: 4,
}

var stageAction = map[string]news.Action{
	"announce": news.ActionWithdrawAnnounce, "vote": news.ActionWithdrawVote,
	"notify": news.ActionWithdrawNotify, "effective": news.ActionWithdrawEffective,
}

var simpleAction = map[string]news.Action{
	"remain": news.ActionRemain, "join": news.ActionJoinRatify, "resume": news.ActionResumeProduction,
	"produce": news.ActionProduce, "destroy": news.ActionDestroyStockpile, "transfer": news.ActionTransfer,
	"use": news.ActionUse, "fundcut": news.ActionFundingCut, "fundup": news.ActionFundingIncrease,
	"casualty": news.ActionCasualties, "clear": news.ActionClearance,
}

// actionTopics says which topic an action belongs to: an entity is only kept
// when the classifier found its topic, so a background sentence in an article
// about something else adds nothing.
var actionTopics = map[news.Action][]string{
	news.ActionWithdrawAnnounce:  {news.TopicTreatyWithdrawal},
	news.ActionWithdrawVote:      {news.TopicTreatyWithdrawal},
	news.ActionWithdrawNotify:    {news.TopicTreatyWithdrawal},
	news.ActionWithdrawEffective: {news.TopicTreatyWithdrawal},
	news.ActionRemain:            {news.TopicTreatyMembership, news.TopicTreatyWithdrawal},
	news.ActionJoinRatify:        {news.TopicTreatyMembership},
	news.ActionResumeProduction:  {news.TopicProduction},
	news.ActionProduce:           {news.TopicProduction},
	news.ActionDestroyStockpile:  {news.TopicStockpile},
	news.ActionTransfer:          {news.TopicTransferUse},
	news.ActionUse:               {news.TopicTransferUse},
	news.ActionFundingCut:        {news.TopicDeminingFunding},
	news.ActionFundingIncrease:   {news.TopicDeminingFunding},
	news.ActionCasualties:        {news.TopicCasualtiesVictims},
	news.ActionClearance:         {news.TopicDeminingFunding},
}

// sentence is one sentence of the title or the text with what was found in it.
type sentence struct {
	field      news.Field
	src        string // the whole field
	start, end int    // byte span in src
	lo, hi     int    // token range [lo, hi) in toks
	toks       []textnorm.Token
	hits       []hit
	mentions   []Mention
	background [][2]int // token ranges of clauses opened by "after", "since", "which"...
	ccm, apm   bool
	apmWeak    bool
	lead       bool      // the headline or the first sentence of the text
	prev       *sentence // the sentence before, in the same field; nil for the first
	head       *sentence // the headline's first sentence; nil when there is no headline
	lang       string    // the article's language
}

func (s *sentence) has(class string, from, to int) bool {
	for _, h := range s.hits {
		if h.cue.class == class && h.first >= from && h.first < to {
			return true
		}
	}
	return false
}

func (s *sentence) inBackground(i int) bool {
	for _, r := range s.background {
		if i >= r[0] && i < r[1] {
			return true
		}
	}
	return false
}

// candidate is one entity before stages are resolved and duplicates removed.
type candidate struct {
	code    string // "" for a stage whose sentence names no country ("the law was signed")
	action  news.Action
	generic bool // a bare "withdraw"/"left": its stage comes from the article
	sent    *sentence
}

// Extract returns the (country, action, treaty) entities the text asserts, each
// with its evidence sentence. topics are the topics the classifier gave the
// article: an action counts only under its topic (nil means "do not filter";
// an empty, non-nil slice means the article is not relevant and yields none).
func (x *Extractor) Extract(title, text, language string, topics []string) []news.Entity {
	return x.ExtractAt(time.Time{}, title, text, language, topics)
}

// ExtractAt is Extract for an article published at published: years two or
// more before it are background ("ratified in 2012"). A zero published time
// means now, which is right for fresh news but would make a 2024 article's
// own events history when it is read in 2026.
func (x *Extractor) ExtractAt(published time.Time, title, text, language string, topics []string) []news.Entity {
	if topics != nil && len(topics) == 0 {
		return nil
	}
	w := x.getWork()
	defer x.putWork(w)
	w.title = w.Append(w.title[:0], title)
	w.text = w.Append(w.text[:0], text)
	return x.extract(w, published, title, text, language, topics, w.title, w.text)
}

// ExtractTokensAt is ExtractAt for a caller that has already tokenized the
// article, as the classifier has: titleToks and textToks must be what
// textnorm.Tokenize (or a textnorm.Tokenizer) returns for title and text.
// They are read, not kept.
func (x *Extractor) ExtractTokensAt(published time.Time, title, text, language string, topics []string, titleToks, textToks []textnorm.Token) []news.Entity {
	if topics != nil && len(topics) == 0 {
		return nil
	}
	w := x.getWork()
	defer x.putWork(w)
	return x.extract(w, published, title, text, language, topics, titleToks, textToks)
}

// work is the per-article memory of an extraction, pooled so an article
// reuses the buffers of an earlier one. Sentences, mentions and cue hits of
// one article are slices of its buffers.
type work struct {
	// Tokenizer remembers folded words across articles.
	textnorm.Tokenizer
	words       wordCache
	title, text []textnorm.Token
	entries     []*keyEntry
	mentions    []Mention
	hits        []hit
	marks       []classSet
	sents       []sentence
	ptrs        []*sentence
	ordered     []hit
	cands       []candidate
	adopted     []candidate
	found       []keyedEntity
	order       []entityKey
}

// maxPooledTokens bounds the buffers a pooled work keeps: one huge article
// should not pin its memory for good.
const maxPooledTokens = 1 << 16

func (x *Extractor) getWork() *work {
	if w, ok := x.work.Get().(*work); ok {
		return w
	}
	return &work{}
}

// putWork drops what refers to the article (unfolded tokens and evidence are
// substrings of it) and pools w.
func (x *Extractor) putWork(w *work) {
	if cap(w.title)+cap(w.text) > maxPooledTokens || cap(w.hits) > maxPooledTokens || cap(w.sents) > maxPooledTokens {
		return
	}
	clear(w.title)
	clear(w.text)
	clear(w.entries)
	clear(w.mentions)
	clear(w.hits)
	clear(w.sents)
	clear(w.ptrs)
	clear(w.ordered)
	clear(w.cands)
	clear(w.adopted)
	clear(w.found)
	clear(w.order)
	w.title, w.text, w.entries, w.mentions = w.title[:0], w.text[:0], w.entries[:0], w.mentions[:0]
	w.hits, w.sents, w.ptrs, w.ordered = w.hits[:0], w.sents[:0], w.ptrs[:0], w.ordered[:0]
	w.cands, w.adopted, w.found, w.order = w.cands[:0], w.adopted[:0], w.found[:0], w.order[:0]
	x.work.Put(w)
}

func (x *Extractor) extract(w *work, published time.Time, title, text, language string, topics []string, titleToks, textToks []textnorm.Token) []news.Entity {
	// Sentences point at each other (prev, head): their slab is sized once,
	// so appending never moves them.
	titleSpans, textSpans := spansOf(title), spansOf(text)
	w.sents = slices.Grow(w.sents[:0], len(titleSpans)+len(textSpans))
	language = normLanguage(language)
	sents := x.analyse(w, news.FieldTitle, title, titleSpans, titleToks, language)
	if isOpinion(sents) {
		return nil
	}
	for _, s := range sents {
		s.lead = true
	}
	body := x.analyse(w, news.FieldText, text, textSpans, textToks, language)
	if len(body) > 0 {
		body[0].lead = true
	}
	var head *sentence
	if len(sents) > 0 {
		head = sents[0]
	}
	for _, part := range [][]*sentence{sents, body} {
		for i, s := range part {
			s.head = head
			if i > 0 {
				s.prev = part[i-1]
			}
		}
	}
	sents = append(sents, body...)
	// Years are dated against the article (else the clock); only years two or
	// more before it are history, so "by 2030" in a clearance plan never is.
	refYear := x.now().Year()
	if !published.IsZero() {
		refYear = published.Year()
	}
	cands := w.cands[:0]
	for _, s := range sents {
		cands = x.sentenceCandidates(cands, w, s, refYear, language)
	}
	w.cands = cands
	w.adopted = adoptOrphans(w.adopted[:0], cands, sents)
	cands = resolveStages(w.adopted, sents)
	out := finish(w, cands, sents, topics)
	for i := range out {
		out[i].CountryName = x.g.byCode[out[i].Country]
	}
	return out
}

// spansOf returns the sentences of src; a blank field has none.
func spansOf(src string) []textnorm.Sentence {
	if strings.TrimSpace(src) == "" {
		return nil
	}
	return textnorm.Sentences(src)
}

// analyse finds the mentions and cue hits of each sentence of one field. The
// sentences are appended to w.sents, which has room for them.
func (x *Extractor) analyse(w *work, field news.Field, src string, spans []textnorm.Sentence, toks []textnorm.Token, lang string) []*sentence {
	if len(spans) == 0 {
		return nil
	}
	w.entries = w.words.lookup(w.entries[:0], x.keys, toks)
	m0 := len(w.mentions)
	w.mentions = x.g.mentions(w.mentions, src, toks, w.entries, lang)
	mentions := w.mentions[m0:]
	first := len(w.ptrs)
	ti, mi := 0, 0
	for si, sp := range spans {
		w.sents = append(w.sents, sentence{field: field, src: src, start: sp.Start, end: sp.End, toks: toks, lo: ti, lang: lang})
		s := &w.sents[len(w.sents)-1]
		for ti < len(toks) && toks[ti].Sentence == si {
			ti++
		}
		s.hi = ti
		from := mi
		for mi < len(mentions) && mentions[mi].first < s.hi {
			mi++
		}
		if mi > from {
			s.mentions = mentions[from:mi:mi]
		}
		h0 := len(w.hits)
		w.hits, w.marks = x.cues.sentenceHits(w.hits, toks, w.entries, s.lo, s.hi, lang, w.marks)
		if len(w.hits) > h0 {
			s.hits = w.hits[h0:len(w.hits):len(w.hits)]
		}
		for _, h := range s.hits {
			switch h.cue.class {
			case "ccm":
				s.ccm = true
			case "apm":
				s.apm = true
			case "apmweak":
				s.apmWeak = true
			case "after":
				s.background = append(s.background, [2]int{h.first, clauseEnd(s, h.first)})
			}
		}
		w.ptrs = append(w.ptrs, s)
	}
	return w.ptrs[first:len(w.ptrs):len(w.ptrs)]
}

// clauseEnd is where a background clause opened at token i stops: at the next
// comma, semicolon, colon or dash, or the end of the sentence.
func clauseEnd(s *sentence, i int) int {
	for j := i + 1; j < s.hi; j++ {
		between := s.src[s.toks[j-1].End:s.toks[j].Start]
		if strings.ContainsAny(between, ",;:–—()") {
			return j
		}
	}
	return s.hi
}

func isOpinion(title []*sentence) bool {
	if len(title) == 0 {
		return false
	}
	for _, h := range title[0].hits {
		if h.cue.class == "opinion" && h.first <= title[0].lo+1 {
			return true
		}
	}
	return false
}

// normLanguage reduces "PL", "pl-PL" or "pl_PL" to "pl".
func normLanguage(l string) string {
	l = strings.ToLower(strings.TrimSpace(l))
	if i := strings.IndexAny(l, "-_"); i > 0 {
		l = l[:i]
	}
	return l
}

// yearOf reads a token as a year of 1950–2099.
func yearOf(t string) (int, bool) {
	if len(t) != 4 {
		return 0, false
	}
	y := 0
	for i := 0; i < 4; i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, false
		}
		y = y*10 + int(t[i]-'0')
	}
	return y, y >= 1950 && y <= 2099
}

// context describes what surrounds one action cue.
type context struct {
	background, negated, hedged, future, history bool
	banned                                       bool // inside the treaty's own name: "bans the use, production..."
}

const (
	negWindow   = 6 // a "not" this many words before the cue negates it
	hedgeWindow = 6
	futureWin   = 4
)

func (x *Extractor) contextOf(s *sentence, h hit, refYear int, lang string) context {
	var c context
	c.background = s.inBackground(h.first)
	from := func(n int) int { return max(s.lo, h.first-n) }
	c.negated = s.has("neg", from(negWindow), h.first)
	c.hedged = s.has("hedge", from(hedgeWindow), h.last+1) && !s.has("hedge", h.first, h.first+1)
	c.future = s.has("future", from(futureWin), h.last+1)
	c.banned = s.has("ban", from(hedgeWindow), h.first+1)
	if lang == "en" && h.first > s.lo && s.toks[h.first-1].Text == "to" {
		c.future = true
	}
	for _, hh := range s.hits {
		// A marker inside the cue belongs to its phrase: Polish "nie jest już
		// stroną" is "no longer a party", not "already".
		inside := hh.first >= h.first && hh.last <= h.last
		if hh.cue.class == "history" && !inside && s.inBackground(hh.first) == c.background {
			c.history = true
		}
	}
	for i := s.lo; i < s.hi && !c.history; i++ {
		if s.inBackground(i) != c.background {
			continue
		}
		if y, ok := yearOf(s.toks[i].Text); ok && y <= refYear-2 && !yearAttribute(s, i) {
			c.history = true
		}
	}
	return c
}

// yearAttribute reports whether the year at token i names a thing rather than
// dates an event: "the 1997 treaty", "the 2008 Convention on Cluster
// Munitions", "1997 m. konvencija" date the treaty, not the news.
func yearAttribute(s *sentence, i int) bool {
	if i > s.lo && s.toks[i-1].Text == "the" {
		return true
	}
	for _, h := range s.hits {
		switch h.cue.class {
		case "treaty", "apm", "ccm":
			if h.first == i+1 || (h.first == i+2 && len(s.toks[i+1].Text) <= 2) {
				return true
			}
		}
	}
	return false
}

// sentenceCandidates appends the candidates of s to out.
func (x *Extractor) sentenceCandidates(out []candidate, w *work, s *sentence, refYear int, lang string) []candidate {
	var useSubjects []string
	explicitStage := false
	for _, h := range s.hits {
		if _, ok := stageAction[h.cue.class]; ok && !s.inBackground(h.first) {
			explicitStage = true
		}
	}
	// Uses first, so casualties can leave out the attacker; otherwise in
	// order.
	hits := w.ordered[:0]
	for _, h := range s.hits {
		if h.cue.class == "use" {
			hits = append(hits, h)
		}
	}
	for _, h := range s.hits {
		if h.cue.class != "use" {
			hits = append(hits, h)
		}
	}
	w.ordered = hits
	for _, h := range hits {
		class := h.cue.class
		if markerClasses[class] {
			continue
		}
		c := x.contextOf(s, h, refYear, lang)
		add := func(codes []string, a news.Action, generic bool) {
			for _, code := range codes {
				out = append(out, candidate{code: code, action: a, generic: generic, sent: s})
			}
		}
		switch class {
		case "announce", "vote", "notify", "effective", "withdraw", "same":
			if c.background || c.hedged || c.history {
				continue
			}
			subj := subjects(s, h, true, false)
			if len(subj) == 0 {
				// "The law was signed on Friday": the stage is reported, the
				// country is the one the article is about (see resolveStages).
				// Only the headline and lead report the article's own event;
				// further down such sentences explain the procedure.
				if a, explicit := stageAction[class]; explicit && s.lead && !c.negated && !(c.future && a != news.ActionWithdrawAnnounce) {
					out = append(out, candidate{action: a, sent: s})
				}
				continue
			}
			if c.negated {
				if class == "withdraw" || class == "same" {
					add(codes(subj), news.ActionRemain, false)
				}
				continue
			}
			if (class == "withdraw" || class == "same") && explicitStage {
				continue // the explicit verb of this sentence says the stage
			}
			a, explicit := stageAction[class]
			if explicit && c.future && a != news.ActionWithdrawAnnounce {
				continue
			}
			if parliament(subj) && (class == "announce" || class == "withdraw") {
				add(codes(subj), news.ActionWithdrawVote, false)
				continue
			}
			if !explicit {
				if c.future {
					add(codes(subj), news.ActionWithdrawAnnounce, false)
				} else {
					add(codes(subj), "", true)
				}
				continue
			}
			add(codes(subj), a, false)
		case "remain":
			if c.background || c.history {
				continue
			}
			add(codes(subjects(s, h, true, false)), news.ActionRemain, false)
		case "join", "destroy", "use":
			if c.background || c.hedged || c.history || c.future || c.negated || (c.banned && class != "join") {
				continue
			}
			subj := subjects(s, h, class != "use", false)
			if class == "use" {
				useSubjects = append(useSubjects, codes(subj)...)
			}
			add(codes(subj), simpleAction[class], false)
		case "resume", "produce", "transfer":
			if c.background || c.hedged || c.history || c.negated || c.banned {
				continue
			}
			add(codes(subjects(s, h, false, false)), simpleAction[class], false)
		case "fundcut", "fundup":
			if c.hedged || c.negated {
				continue
			}
			add(codes(subjects(s, h, false, false)), simpleAction[class], false)
		case "clear":
			if c.hedged || c.negated || c.future || c.history {
				continue
			}
			add(codes(subjects(s, h, true, true)), simpleAction[class], false)
		case "casualty":
			if c.hedged || c.negated {
				continue
			}
			cs := casualtyCountries(s, useSubjects)
			// "Three people were injured." names no place: the victims are
			// where the sentence before or the headline put the attack.
			for _, o := range []*sentence{s.prev, s.head} {
				if len(cs) == 0 && o != nil && o != s {
					cs = casualtyCountries(o, useSubjects)
				}
			}
			add(cs, news.ActionCasualties, false)
		}
	}
	return out
}

// casualtyCountries are the countries and places of s that are not the side
// that fired.
func casualtyCountries(s *sentence, useSubjects []string) []string {
	var cs []string
	for _, m := range s.mentions {
		if attacker(s, m) || slices.Contains(useSubjects, m.Code) || slices.Contains(cs, m.Code) || isUseSubject(s, m) {
			continue
		}
		cs = append(cs, m.Code)
	}
	return cs
}

// isUseSubject reports whether m is the subject of a use cue of its sentence
// ("Russia struck Kharkiv with cluster munitions").
func isUseSubject(s *sentence, m Mention) bool {
	for _, h := range s.hits {
		if h.cue.class == "use" && m.last < h.first && slices.ContainsFunc(subjects(s, h, false, false), func(o Mention) bool { return o.first == m.first }) {
			return true
		}
	}
	return false
}

func codes(ms []Mention) []string {
	var out []string
	for _, m := range ms {
		if !slices.Contains(out, m.Code) {
			out = append(out, m.Code)
		}
	}
	return out
}

func parliament(ms []Mention) bool {
	for _, m := range ms {
		if m.Kind == KindParl {
			return true
		}
	}
	return false
}

// objectPrepositions before a country make it an object or a place ("to
// Ukraine", "w Sejmie", "с Латвией"), not the actor. They are per language:
// English "a" and "is" are French "à" and Lithuanian "iš".
var objectPrepositions = byLanguage(map[string]string{
	"en": "to for in into on at against towards from with unlike than like including",
	"pl": "w we na do dla z ze przeciw przeciwko od u wobec niż",
	"fi": "",
	"et": "",
	"lv": "uz no ar pret",
	"lt": "su iš prieš į",
	"uk": "в у на до для з із проти від по",
	"ru": "в во на к для из с со против от по у до",
	"de": "nach an für gegen mit aus von zu bei in",
	"fr": "à au aux en pour contre avec vers dans",
})

// conjunctions join the countries of one list ("Estonia, Latvia and Lithuania").
var conjunctions = foldSet("and or both i oraz lub albo ja sekä ning ir bei un та і й и und sowie et ou")

// relational words make the country after them a landmark, not the actor:
// "states bordering Russia", "pays frontaliers de la Russie".
var relational = foldSet("bordering neighbouring neighboring near frontaliers frontalier voisins граничащих " +
	"межують граничать graniczące graniczących angrenzenden benachbarten")

// attackerWords after a country make it the side that fired, not the one hit.
var attackerWords = foldSet("forces troops army military aircraft drones wojska wojsko armia joukot väed spēki " +
	"pajėgos kariuomenė войска війська армія армия Streitkräfte Truppen Armee troupes armée")

func foldSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[textnorm.Fold(w)] = true
	}
	return m
}

func byLanguage(words map[string]string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	all := map[string]bool{}
	for lang, ws := range words {
		out[lang] = foldSet(ws)
		for w := range out[lang] {
			all[w] = true
		}
	}
	// Articles in other languages get the words no language reads otherwise.
	for _, amb := range []string{"a", "is", "no", "in", "an", "to", "on", "en", "at"} {
		delete(all, amb)
	}
	out[""] = all
	return out
}

// objectEndings are case endings that make a country an indirect object or a
// place in languages without prepositions for it: Finnish "Ukrainalle" and
// Estonian "Ukrainale" (to Ukraine), Latvian and Lithuanian "Ukrainai"; no
// country's nominative ends so.
var objectEndings = map[string][]string{
	"fi": {"lle"}, "et": {"le"}, "lv": {"ai"}, "lt": {"ai"},
}

// objectForms are dative forms that never name an actor: Ukrainian "Україні",
// Russian "Украине" ("allocates to Ukraine", "in Ukraine").
var objectForms = foldSet("Україні Украине")

func isObject(s *sentence, m Mention) bool {
	if m.Kind == KindName && m.first == m.last {
		w := s.toks[m.first].Text
		if objectForms[w] {
			return true
		}
		for _, e := range objectEndings[s.lang] {
			if strings.HasSuffix(w, e) {
				return true
			}
		}
	}
	if m.first == s.lo {
		return false
	}
	preps, ok := objectPrepositions[s.lang]
	if !ok {
		preps = objectPrepositions[""]
	}
	if preps[s.toks[m.first-1].Text] {
		return true
	}
	for i := m.first - 1; i >= max(s.lo, m.first-3); i-- {
		if relational[s.toks[i].Text] {
			return true
		}
	}
	return false
}

func attacker(s *sentence, m Mention) bool {
	// "Russian forces", and in French word order "l'armée russe".
	return (m.last+1 < s.hi && attackerWords[s.toks[m.last+1].Text]) ||
		(m.first > s.lo && attackerWords[s.toks[m.first-1].Text])
}

// subjects finds the countries a cue's action belongs to: the nearest country
// named before it in the same clause, with any countries listed together with
// it ("Estonia, Latvia and Lithuania"); when none is named before, and
// following is allowed, the nearest one after it. Places count only when
// places is set (clearance locates, it has no actor).
func subjects(s *sentence, h hit, following, places bool) []Mention {
	bg := s.inBackground(h.first)
	ok := func(m Mention) bool {
		if m.Kind == KindPlace && !places {
			return false
		}
		return s.inBackground(m.first) == bg && !isObject(s, m)
	}
	// Later members of a list are not checked for prepositions: "bei" is
	// German "at" but Lithuanian "and".
	listed := func(m Mention) bool {
		return (m.Kind != KindPlace || places) && s.inBackground(m.first) == bg
	}
	best := -1
	for i, m := range s.mentions {
		// A parliament can open its own cue ("@parl ~6 approved").
		// A cue led by a marker ("@parl ~6 approved") has its actor inside:
		// "the Rada of Ukraine on Tuesday adopted".
		inside := h.cue.elems[0].class != "" && m.first > h.first && m.last < h.last
		if (m.last < h.first || m.first == h.first || inside) && ok(m) {
			best = i
		}
	}
	if best >= 0 {
		out := []Mention{s.mentions[best]}
		for i := best - 1; i >= 0; i-- {
			if !listed(s.mentions[i]) || !coordinated(s, s.mentions[i], s.mentions[i+1]) {
				break
			}
			out = append(out, s.mentions[i])
		}
		// The preposition before a list governs all of it: "partners in
		// Laos, Iraq and Angola".
		if len(out) == 1 || !isObject(s, out[len(out)-1]) {
			return out
		}
	}
	if !following {
		return nil
	}
	for i, m := range s.mentions {
		if m.first > h.last && ok(m) {
			out := []Mention{m}
			for j := i + 1; j < len(s.mentions); j++ {
				if !listed(s.mentions[j]) || !coordinated(s, s.mentions[j-1], s.mentions[j]) {
					break
				}
				out = append(out, s.mentions[j])
			}
			return out
		}
	}
	return nil
}

// coordinated reports whether only conjunctions (and commas) stand between a
// and b; a dash or colon ("KHARKIV - Russian forces") separates them.
func coordinated(s *sentence, a, b Mention) bool {
	if strings.ContainsAny(s.src[a.End:b.Start], "-–—:;()") {
		return false
	}
	for i := a.last + 1; i < b.first; i++ {
		if !conjunctions[s.toks[i].Text] {
			return false
		}
	}
	return true
}

// resolveStages gives bare "withdraw"/"left" cues the stage the article
// reports (the headline's and lead's, else the latest anywhere), drops the
// moves of countries the article only recalls, and keeps one withdrawal stage
// (the latest) per country.
// cands must have been through adoptOrphans.
func resolveStages(cands []candidate, sents []*sentence) []candidate {
	top, leadTop := news.Action(""), news.Action("")
	for _, c := range cands {
		if st, ok := stage[c.action]; ok && st > stage[top] {
			top = c.action
		}
		if st, ok := stage[c.action]; ok && c.sent.lead && st > stage[leadTop] {
			leadTop = c.action
		}
	}
	if leadTop != "" {
		top = leadTop
	}
	if top == "" {
		top = news.ActionWithdrawAnnounce
	}
	for i := range cands {
		if cands[i].generic {
			cands[i].action = top
			cands[i].generic = false
		}
	}
	cands = keepReported(cands, sents)
	remain := map[string]bool{}
	for _, c := range cands {
		if c.action == news.ActionRemain {
			remain[c.code] = true
		}
	}
	latest := map[string]int{}
	resumed := map[string]bool{}
	for _, c := range cands {
		if st, ok := stage[c.action]; ok {
			latest[c.code] = max(latest[c.code], st)
		}
		if c.action == news.ActionResumeProduction {
			resumed[c.code] = true
		}
	}
	out := cands[:0]
	for _, c := range cands {
		if st, ok := stage[c.action]; ok && (st < latest[c.code] || remain[c.code]) {
			continue // background step, or a country that says it stays
		}
		if c.action == news.ActionProduce && resumed[c.code] {
			continue
		}
		out = append(out, c)
	}
	return out
}

// adoptOrphans gives stages whose sentence names no country ("the president
// signed the law on Friday") to the countries whose withdrawal the headline
// and lead report, else to the one country the headline names; orphans with
// no such country are dropped. The result is appended to dst.
func adoptOrphans(dst, cands []candidate, sents []*sentence) []candidate {
	var owners []string
	for _, c := range cands {
		if c.code != "" && c.sent.lead && (c.generic || stage[c.action] > 0) && !slices.Contains(owners, c.code) {
			owners = append(owners, c.code)
		}
	}
	if len(owners) == 0 {
		for _, s := range sents {
			if s.field != news.FieldTitle {
				continue
			}
			for _, m := range s.mentions {
				if m.Kind != KindPlace && !slices.Contains(owners, m.Code) {
					owners = append(owners, m.Code)
				}
			}
		}
		if len(owners) != 1 {
			owners = nil
		}
	}
	out := dst
	for _, c := range cands {
		if c.code != "" {
			out = append(out, c)
			continue
		}
		for _, code := range owners {
			o := c
			o.code = code
			out = append(out, o)
		}
	}
	return out
}

// keepReported drops the treaty moves (withdrawal steps, staying) of countries
// the article only recalls. The reported event is in the headline and the lead;
// a country named only further down counts when its sentence says it joined
// that same step ("also", "the same day").
func keepReported(cands []candidate, sents []*sentence) []candidate {
	lead := map[string]bool{}
	for _, s := range sents {
		if s.lead {
			for _, m := range s.mentions {
				lead[m.Code] = true
			}
		}
	}
	main := map[news.Action]bool{}
	for _, c := range cands {
		if c.sent.lead && (stage[c.action] > 0 || c.action == news.ActionRemain) {
			main[c.action] = true
		}
	}
	out := cands[:0]
	for _, c := range cands {
		move := stage[c.action] > 0 || c.action == news.ActionRemain
		if !move || len(main) == 0 || lead[c.code] {
			out = append(out, c)
			continue
		}
		if main[c.action] && c.sent.has("also", c.sent.lo, c.sent.hi) {
			out = append(out, c)
		}
	}
	return out
}

// treatyOf decides which convention a candidate concerns, from its sentence,
// then the title, then the whole article.
func treatyOf(c candidate, sents []*sentence) news.Treaty {
	switch c.action {
	case news.ActionFundingCut, news.ActionFundingIncrease, news.ActionClearance:
		return news.TreatyNone
	case news.ActionCasualties:
		// Casualties are "mines and explosive remnants" unless the sentence
		// names the weapon the treaties ban. "Three people were injured"
		// names none: the weapon is the one of the attack reported just
		// before, or in the headline.
		for _, s := range []*sentence{c.sent, c.sent.prev, c.sent.head} {
			switch {
			case s == nil:
				continue
			case s.ccm:
				return news.TreatyCCM
			case s.apm:
				return news.TreatyOttawa
			case s.apmWeak:
				return news.TreatyNone
			}
		}
		return news.TreatyNone
	}
	weak := c.action != news.ActionWithdrawAnnounce && stage[c.action] == 0 && c.action != news.ActionRemain && c.action != news.ActionJoinRatify
	pick := func(s *sentence) (news.Treaty, bool) {
		switch {
		case s.ccm && !s.apm:
			return news.TreatyCCM, true
		case s.apm || (weak && s.apmWeak):
			return news.TreatyOttawa, true
		case s.ccm:
			return news.TreatyCCM, true
		}
		return "", false
	}
	if t, ok := pick(c.sent); ok {
		return t
	}
	ccm, apm := 0, 0
	for _, s := range sents {
		if s.field == news.FieldTitle {
			if t, ok := pick(s); ok {
				return t
			}
		}
		if s.ccm {
			ccm++
		}
		if s.apm {
			apm++
		}
	}
	if ccm > apm {
		return news.TreatyCCM
	}
	return news.TreatyOttawa
}

// entityKey identifies an entity up to its treaty.
type entityKey struct {
	code   string
	action news.Action
}

// keyedEntity is an entity found by finish, with its key.
type keyedEntity struct {
	k entityKey
	e news.Entity
}

// finish filters by topic, decides treaties and keeps one entity per key, with
// the first sentence that asserted it as evidence.
func finish(w *work, cands []candidate, sents []*sentence, topics []string) []news.Entity {
	found, order := w.found[:0], w.order[:0]
	for _, c := range cands {
		if topics != nil && !slices.ContainsFunc(actionTopics[c.action], func(t string) bool { return slices.Contains(topics, t) }) {
			continue
		}
		ts := [2]news.Treaty{treatyOf(c, sents)}
		n := 1
		if c.action == news.ActionRemain && c.sent.apm && c.sent.ccm {
			// "will stay in both the mine ban treaty and the CCM"
			ts, n = [2]news.Treaty{news.TreatyOttawa, news.TreatyCCM}, 2
		}
		k := entityKey{c.code, c.action}
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
		for _, t := range ts[:n] {
			if !slices.ContainsFunc(found, func(f keyedEntity) bool { return f.k == k && f.e.Treaty == t }) {
				found = append(found, keyedEntity{k, entity(c, t)})
			}
		}
	}
	w.found, w.order = found, order
	var out []news.Entity
	for _, k := range order {
		specific := slices.ContainsFunc(found, func(f keyedEntity) bool { return f.k == k && f.e.Treaty != news.TreatyNone })
		for _, f := range found {
			if f.k != k || (specific && f.e.Treaty == news.TreatyNone) {
				continue // "mines" in one sentence, "cluster munitions" in another: the same event
			}
			out = append(out, f.e)
		}
	}
	return out
}

func entity(c candidate, t news.Treaty) news.Entity {
	s := c.sent
	return news.Entity{
		Country:    c.code,
		Action:     c.action,
		Treaty:     t,
		Evidence:   strings.TrimSpace(s.src[s.start:s.end]),
		EvidenceAt: news.Span{Field: s.field, Start: s.start, End: s.end},
	}
}

package entities

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/minewatch/minewatch/classify/textnorm"
)

// Kind says what a country mention is: the state's name, its capital used as a
// metonym, one of its institutions or officials, or only a place in it.
type Kind uint8

const (
	KindName    Kind = iota // Poland, Polska, polski, Polish
	KindCapital             // Warsaw as "the government in Warsaw"
	KindBody                // Pentagon, Bundesregierung
	KindParl                // Sejm, Seimas: what they decide is a vote
	KindPerson              // Tusk, Zelensky
	KindPlace               // Kharkiv: locates casualties and clearance, never acts
)

var kindNames = map[string]Kind{
	"name": KindName, "capital": KindCapital, "body": KindBody, "parl": KindParl,
	"person": KindPerson, "place": KindPlace,
}

// String returns the kind's name as written in the data files.
func (k Kind) String() string {
	for n, v := range kindNames {
		if v == k {
			return n
		}
	}
	return "unknown"
}

type flags uint8

const (
	flagCap   flags = 1 << iota // must be capitalised and stand alone among capitalised words
	flagUpper                   // must be written all upper case (US, JAV)
	flagOnly                    // only in articles of the form's language
)

// word is one folded word of a pattern or a name; prefix words match any token
// they begin.
type word struct {
	text   string
	prefix bool
	// maxTail, when set, bounds how many bytes a prefix word may leave
	// unmatched: generated stems stand for case endings, not compounds.
	maxTail int
}

func (w word) matches(tok string) bool {
	if w.prefix {
		return strings.HasPrefix(tok, w.text) && (w.maxTail == 0 || len(tok)-len(w.text) <= w.maxTail)
	}
	return tok == w.text
}

// form is one way of writing a country.
type form struct {
	code  string
	lang  string
	kind  Kind
	flags flags
	words []word
	src   string // file:line, for errors and tests
	// generated forms come from CLDR, not from someone who checked them
	// against the words of the language.
	generated bool
}

// Country is one ISO 3166-1 entry of the gazetteer.
type Country struct {
	Code string // alpha-2
	Name string // English short name, as used in news.Entity.CountryName
}

// gazetteer finds country mentions in tokenized text.
type gazetteer struct {
	countries []Country
	byCode    map[string]string // code → English short name
	byName    map[string]string // folded English short name → code
	// index maps the first rune-trigram (or the whole first word when shorter)
	// of a form's first word to the forms that can start there.
	index  map[string][]*form
	nForms int
}

// Mention is one place a country is named.
type Mention struct {
	Code       string
	Kind       Kind
	Start, End int // byte offsets in the text
	first      int // token indexes [first, last]
	last       int
}

const keyRunes = 3

func indexKey(s string) string {
	n := 0
	for i := range s {
		if n == keyRunes {
			return s[:i]
		}
		n++
	}
	return s
}

// compileWords folds and tokenizes a written form; a trailing * makes the last
// word a prefix.
func compileWords(s string) ([]word, error) {
	s = strings.TrimSpace(s)
	prefix := strings.HasSuffix(s, "*")
	s = strings.TrimSuffix(s, "*")
	if strings.Contains(s, "*") {
		// The tokenizer would drop it and the word would silently match only
		// as written ("Верховн* Рад*" never matched "Верховна Рада").
		return nil, fmt.Errorf("form %q: only the last word can be a prefix", s+"*")
	}
	toks := textnorm.Tokenize(s)
	if len(toks) == 0 {
		return nil, fmt.Errorf("form %q has no words", s)
	}
	ws := make([]word, len(toks))
	for i, t := range toks {
		ws[i] = word{text: t.Text}
	}
	ws[len(ws)-1].prefix = prefix
	if prefix && utf8.RuneCountInString(ws[len(ws)-1].text) < 3 {
		return nil, fmt.Errorf("prefix %q is shorter than 3 letters", s)
	}
	return ws, nil
}

func loadGazetteer(countries, names, inflections []byte) (*gazetteer, error) {
	g := &gazetteer{byCode: map[string]string{}, byName: map[string]string{}, index: map[string][]*form{}}
	err := eachRow(countries, "countries.tsv", 2, func(src string, f []string) error {
		code, name := f[0], f[1]
		if len(code) != 2 || strings.ToUpper(code) != code {
			return fmt.Errorf("%s: bad code %q", src, code)
		}
		if _, dup := g.byCode[code]; dup {
			return fmt.Errorf("%s: %s listed twice", src, code)
		}
		g.byCode[code] = name
		g.byName[textnorm.Fold(name)] = code
		g.countries = append(g.countries, Country{Code: code, Name: name})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var forms []*form
	parse := func(file string, data []byte, generated bool) error {
		return eachRow(data, file, 4, func(src string, f []string) error {
			code, lang, kindName := f[0], f[1], f[2]
			if _, ok := g.byCode[code]; !ok {
				return fmt.Errorf("%s: unknown country %q", src, code)
			}
			k, ok := kindNames[kindName]
			if !ok {
				return fmt.Errorf("%s: unknown kind %q", src, kindName)
			}
			var fl flags
			if len(f) > 4 {
				for _, x := range strings.Fields(f[4]) {
					switch x {
					case "cap":
						fl |= flagCap
					case "upper":
						fl |= flagUpper
					case "only":
						fl |= flagOnly
					default:
						return fmt.Errorf("%s: unknown flag %q", src, x)
					}
				}
			}
			for _, alt := range strings.Split(f[3], " | ") {
				ws, err := compileWords(alt)
				if err != nil {
					return fmt.Errorf("%s: %w", src, err)
				}
				forms = append(forms, &form{code: code, lang: lang, kind: k, flags: fl, words: ws, src: src, generated: generated})
				if generated && fl == 0 {
					if st, ok := autoStem(lang, ws); ok {
						// A stem is only safe in its own language ("austri" is
						// Polish Austria but German Austritt).
						forms = append(forms, &form{code: code, lang: lang, kind: k, flags: flagOnly, words: st, src: src + " (stem)", generated: true})
					}
				}
			}
			return nil
		})
	}
	if err := parse("names.tsv", names, true); err != nil {
		return nil, err
	}
	if err := parse("inflections.tsv", inflections, false); err != nil {
		return nil, err
	}
	forms = dropCollidingStems(forms)
	for _, f := range forms {
		key := indexKey(f.words[0].text)
		g.index[key] = append(g.index[key], f)
	}
	// Longest forms first, so "Papua New Guinea" wins over "Guinea".
	for _, fs := range g.index {
		sort.SliceStable(fs, func(i, j int) bool { return len(fs[i].words) > len(fs[j].words) })
	}
	g.nForms = len(forms)
	return g, nil
}

// autoStem derives a prefix stem from a CLDR nominative in the inflecting
// languages, so "Chorwacja" also finds "Chorwacji". Short names stay exact: a
// stem under five letters catches too many ordinary words.
func autoStem(lang string, ws []word) ([]word, bool) {
	if len(ws) != 1 || ws[0].prefix {
		return nil, false
	}
	w := ws[0].text
	switch lang {
	case "fi", "et", "de":
		// Case endings are appended to the whole nominative.
	case "pl", "lt", "lv", "uk", "ru":
		for _, suf := range []string{"as", "is", "ys", "us", "ai", "a", "e", "i", "y", "s", "u", "о", "а", "я", "ь", "и", "ы", "е"} {
			if strings.HasSuffix(w, suf) {
				w = strings.TrimSuffix(w, suf)
				break
			}
		}
	default:
		return nil, false
	}
	if utf8.RuneCountInString(w) < 5 {
		return nil, false
	}
	return []word{{text: w, prefix: true, maxTail: 8}}, true
}

// dropCollidingStems removes generated stems that would also match another
// country's name (a stem "austri" would catch Australia).
func dropCollidingStems(forms []*form) []*form {
	type entry struct{ text, code string }
	var words []entry                 // first words of all forms, sorted
	prefixes := map[string][]string{} // prefix first words → their codes
	for _, f := range forms {
		w := f.words[0]
		words = append(words, entry{w.text, f.code})
		if w.prefix {
			prefixes[w.text] = append(prefixes[w.text], f.code)
		}
	}
	sort.Slice(words, func(i, j int) bool { return words[i].text < words[j].text })
	clashes := func(stem, code string) bool {
		// Another country's word that begins with the stem.
		i := sort.Search(len(words), func(i int) bool { return words[i].text >= stem })
		for ; i < len(words) && strings.HasPrefix(words[i].text, stem); i++ {
			if words[i].code != code {
				return true
			}
		}
		// Another country's prefix that begins the stem.
		for n := range stem {
			for _, c := range prefixes[stem[:n]] {
				if c != code {
					return true
				}
			}
		}
		return false
	}
	out := forms[:0:0]
	for _, f := range forms {
		if !f.generated || len(f.words) != 1 || !f.words[0].prefix || !clashes(f.words[0].text, f.code) {
			out = append(out, f)
		}
	}
	return out
}

// eachRow calls fn with the tab-separated fields of every non-comment line.
func eachRow(data []byte, file string, minFields int, fn func(src string, fields []string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), " \r")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		for len(fields) > 0 && strings.TrimSpace(fields[len(fields)-1]) == "" {
			fields = fields[:len(fields)-1]
		}
		src := fmt.Sprintf("%s:%d", file, line)
		if len(fields) < minFields {
			return fmt.Errorf("%s: want %d tab-separated fields, got %d", src, minFields, len(fields))
		}
		if err := fn(src, fields); err != nil {
			return err
		}
	}
	return sc.Err()
}

// keyEntry is what can start at a token with a given indexKey: gazetteer
// forms and, per language slot (langSlots), cues. One lookup per token serves
// both.
type keyEntry struct {
	forms []*form
	cues  [len(langSlots)][]*cue
}

// keyIndex merges the gazetteer's and the cues' indexes.
func keyIndex(g *gazetteer, cs *cueSet) map[string]*keyEntry {
	keys := map[string]*keyEntry{}
	entry := func(k string) *keyEntry {
		e := keys[k]
		if e == nil {
			e = &keyEntry{}
			keys[k] = e
		}
		return e
	}
	for k, fs := range g.index {
		entry(k).forms = fs
	}
	for slot, l := range langSlots {
		for k, c := range cs.index[l] {
			entry(k).cues[slot] = c
		}
	}
	return keys
}

// lookupKeys appends the entry of each token (nil when nothing starts with
// its key) to dst.
func lookupKeys(dst []*keyEntry, keys map[string]*keyEntry, toks []textnorm.Token) []*keyEntry {
	for _, t := range toks {
		dst = append(dst, keys[indexKey(t.Text)])
	}
	return dst
}

// maxWordCache bounds a wordCache; news vocabulary is large but repetitive,
// so a full cache is simply dropped and refilled.
const maxWordCache = 1 << 14

// wordCache remembers, for folded words met before, the keyEntry narrowed to
// the forms and cues whose first word matches the word itself: most share
// only the key's first letters, and checking them again for every token is
// where the time went. It is not safe for concurrent use.
type wordCache struct {
	words map[string]*keyEntry
}

// lookup appends the narrowed entry of each token (nil: nothing can start
// there) to dst.
func (wc *wordCache) lookup(dst []*keyEntry, keys map[string]*keyEntry, toks []textnorm.Token) []*keyEntry {
	if wc.words == nil || len(wc.words) > maxWordCache {
		wc.words = make(map[string]*keyEntry, 1024)
	}
	for _, t := range toks {
		e, ok := wc.words[t.Text]
		if !ok {
			e = narrow(keys[indexKey(t.Text)], t.Text)
			// Clone the key: a substring would pin the whole article.
			wc.words[strings.Clone(t.Text)] = e
		}
		dst = append(dst, e)
	}
	return dst
}

// narrow keeps the forms and cues of e whose first word matches w, in order;
// nil when none does.
func narrow(e *keyEntry, w string) *keyEntry {
	if e == nil {
		return nil
	}
	var out keyEntry
	empty := true
	for _, f := range e.forms {
		if f.words[0].matches(w) {
			out.forms = append(out.forms, f)
			empty = false
		}
	}
	for slot, cs := range e.cues {
		for _, c := range cs {
			if slices.ContainsFunc(c.elems[0].alts, func(a word) bool { return a.matches(w) }) {
				out.cues[slot] = append(out.cues[slot], c)
				empty = false
			}
		}
	}
	if empty {
		return nil
	}
	return &out
}

// mentions appends to dst the country mentions in toks (the tokens of text),
// longest match first, in order. entries are the tokens' keyEntries.
func (g *gazetteer) mentions(dst []Mention, text string, toks []textnorm.Token, entries []*keyEntry, lang string) []Mention {
	out := dst
	for i := 0; i < len(toks); {
		if entries[i] == nil {
			i++
			continue
		}
		m, n := g.matchAt(text, toks, entries[i].forms, i, lang)
		if n == 0 {
			i++
			continue
		}
		out = append(out, m)
		i += n
	}
	return out
}

func (g *gazetteer) matchAt(text string, toks []textnorm.Token, forms []*form, i int, lang string) (Mention, int) {
	for _, f := range forms {
		n := len(f.words)
		if i+n > len(toks) {
			continue
		}
		ok := true
		for j, w := range f.words {
			if !w.matches(toks[i+j].Text) || (j > 0 && toks[i+j].Sentence != toks[i].Sentence) {
				ok = false
				break
			}
		}
		if !ok || !g.flagsHold(f, text, toks, i, n, lang) {
			continue
		}
		if f.kind == KindCapital && treatyNamedAfter(toks, i, n) {
			// "Ottawa Convention", "Convention d'Oslo": a treaty, not a government.
			continue
		}
		return Mention{Code: f.code, Kind: f.kind, Start: toks[i].Start, End: toks[i+n-1].End, first: i, last: i + n - 1}, n
	}
	return Mention{}, 0
}

func (g *gazetteer) flagsHold(f *form, text string, toks []textnorm.Token, i, n int, lang string) bool {
	if f.flags&flagOnly != 0 && lang != "" && lang != f.lang {
		return false
	}
	orig := text[toks[i].Start:toks[i+n-1].End]
	if f.flags&flagUpper != 0 {
		for _, r := range orig {
			if unicode.IsLetter(r) && !unicode.IsUpper(r) {
				return false
			}
		}
	}
	if f.flags&flagCap != 0 {
		if !capitalised(text, toks[i]) {
			return false
		}
		// Every sentence starts with a capital; outside English a short CLDR
		// name there is more often a word ("Того ж дня", "that same day").
		if sentenceInitial(toks, i) && f.generated && f.lang != "en" {
			return false
		}
		// A capitalised word before it makes a longer name (Michael Jordan),
		// unless it is a short sentence-initial word such as "In".
		if i > 0 && toks[i-1].Sentence == toks[i].Sentence && capitalised(text, toks[i-1]) &&
			!(sentenceInitial(toks, i-1) && utf8.RuneCountInString(toks[i-1].Text) <= 3) {
			return false
		}
		if k := i + n; k < len(toks) && toks[k].Sentence == toks[i].Sentence && capitalised(text, toks[k]) {
			return false
		}
	}
	return true
}

func sentenceInitial(toks []textnorm.Token, i int) bool {
	return i == 0 || toks[i-1].Sentence != toks[i].Sentence
}

func capitalised(text string, t textnorm.Token) bool {
	r, _ := utf8.DecodeRuneInString(text[t.Start:])
	return unicode.IsUpper(r)
}

// treatyWords follow (or, in French, precede) a city that names a treaty.
var treatyWords = []string{"convention", "treaty", "process", "konwencj", "traktat", "sopimu", "konventsioon",
	"konvencij", "ligum", "konvenc", "конвенц", "договор", "ubereinkommen", "abkommen", "konvention",
	"vertrag", "traite", "sutart", "declaration", "agreement", "accord", "regulation", "rules"}

func isTreatyWord(s string) bool {
	return slices.ContainsFunc(treatyWords, func(p string) bool { return strings.HasPrefix(s, p) })
}

func treatyNamedAfter(toks []textnorm.Token, i, n int) bool {
	if k := i + n; k < len(toks) && isTreatyWord(toks[k].Text) {
		return true
	}
	if i >= 2 && (toks[i-1].Text == "d" || toks[i-1].Text == "de") && isTreatyWord(toks[i-2].Text) {
		return true
	}
	return false
}

package classify

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/classify/textnorm"
	"github.com/minewatch/minewatch/news"
)

// maxHitsPerRule bounds an explanation: a long article can mention "mine" a
// hundred times, and a few places are enough to show why a rule matched.
const maxHitsPerRule = 25

// RuleText is one analyst rule as found in the config: its text and where it
// was written.
type RuleText struct {
	ID, Topic, Query string
	Language         string  // "" = every language; else only articles in that ISO 639-1 language
	Weight           float64 // 0 means 1
	// File, Line and Col locate the query text in the config file, for error
	// messages.
	File      string
	Line, Col int
}

// TopicDef is one topic rules can score.
type TopicDef struct {
	ID        string
	Threshold float64 // 0 means 1
}

// Options configure a Classifier.
type Options struct {
	Topics   []TopicDef
	Rules    []RuleText
	Entities EntityExtractor // may be nil: then no entities
}

// EntityExtractor finds (country, action, treaty) assertions in an article. It
// is implemented by classify/entities.
type EntityExtractor interface {
	// ExtractAt reads the article as of its publication time (zero: now), so
	// an old article's own events are not taken for background.
	ExtractAt(published time.Time, title, text, language string, topics []string) []news.Entity
}

// tokenExtractor is an EntityExtractor that can reuse the classifier's tokens
// instead of tokenizing a relevant article a second time (entities.Extractor
// is one).
type tokenExtractor interface {
	ExtractTokensAt(published time.Time, title, text, language string, topics []string, titleToks, textToks []textnorm.Token) []news.Entity
}

// RuleError is one bad rule; New returns all of them at once joined with
// errors.Join.
type RuleError struct {
	Rule, File string
	Line, Col  int
	Err        error
}

func (e *RuleError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	fmt.Fprintf(&b, "rule %s: %s", e.Rule, e.Err.Error())
	return b.String()
}

func (e *RuleError) Unwrap() error { return e.Err }

// ErrUnknownTopic is wrapped by a RuleError for a rule whose topic is not defined.
var ErrUnknownTopic = errors.New("unknown topic")

// Classifier assigns topics to articles by the analysts' rules. It is immutable
// once built and safe for concurrent use.
type Classifier struct {
	prog     *program
	pool     scanPool
	rules    []rule
	topics   []TopicDef // thresholds resolved
	entities EntityExtractor
	tokEnts  tokenExtractor // entities, when it takes tokens; else nil
	version  string
}

// rule is a compiled RuleText.
type rule struct {
	id       string
	topic    int // index in topics
	language string
	weight   float64
}

// New compiles the rules. Every bad rule is reported, each as a *RuleError.
func New(opts Options) (*Classifier, error) {
	c := &Classifier{prog: newProgram(), entities: opts.Entities}
	c.tokEnts, _ = opts.Entities.(tokenExtractor)
	c.pool.p = c.prog
	var errs []error
	topicIdx := map[string]int{}
	for _, t := range opts.Topics {
		switch {
		case t.ID == "":
			errs = append(errs, errors.New("topic with an empty id"))
			continue
		case topicIdx[t.ID] > 0:
			errs = append(errs, fmt.Errorf("topic %s defined twice", t.ID))
			continue
		case t.Threshold < 0 || math.IsNaN(t.Threshold) || math.IsInf(t.Threshold, 0):
			errs = append(errs, fmt.Errorf("topic %s: threshold must be a positive number, not %v", t.ID, t.Threshold))
			continue
		}
		if t.Threshold == 0 {
			t.Threshold = 1
		}
		c.topics = append(c.topics, t)
		topicIdx[t.ID] = len(c.topics) // +1 so the zero value means absent
	}
	seen := map[string]bool{}
	for _, rt := range opts.Rules {
		bad := func(err error) {
			errs = append(errs, &RuleError{Rule: rt.ID, File: rt.File, Line: rt.Line, Col: rt.Col, Err: err})
		}
		if rt.ID == "" {
			bad(errors.New("rule without an id"))
			continue
		}
		if seen[rt.ID] {
			bad(errors.New("rule id used twice"))
			continue
		}
		seen[rt.ID] = true
		ti := topicIdx[rt.Topic]
		if ti == 0 {
			bad(fmt.Errorf("%w %q", ErrUnknownTopic, rt.Topic))
			continue
		}
		weight := rt.Weight
		if weight == 0 {
			weight = 1
		}
		if weight < 0 || math.IsNaN(weight) || math.IsInf(weight, 0) {
			bad(fmt.Errorf("weight must be a positive number, not %v", rt.Weight))
			continue
		}
		lang := strings.ToLower(strings.TrimSpace(rt.Language))
		if lang != "" && !isLanguageCode(lang) {
			bad(fmt.Errorf("language %q is not an ISO 639-1 code", rt.Language))
			continue
		}
		n, err := query.Parse(rt.Query)
		if err != nil {
			var se *query.SyntaxError
			if errors.As(err, &se) {
				line, col := rt.Line, rt.Col
				if se.Line == 1 {
					col += se.Col - 1
				} else {
					line += se.Line - 1
					col = se.Col
				}
				errs = append(errs, &RuleError{Rule: rt.ID, File: rt.File, Line: line, Col: col, Err: errors.New(se.Msg)})
				continue
			}
			bad(err)
			continue
		}
		qi, err := c.prog.add(n)
		if err != nil {
			bad(err)
			continue
		}
		if matchesEmpty(c.prog.queries[qi]) {
			// Such a rule would put nearly every article in its topic; it is
			// always a mistake (a NOT without the AND before it, usually).
			bad(fmt.Errorf("query %s matches articles containing none of its words: a rule must require at least one word", n))
			continue
		}
		// prog.queries[i] belongs to rules[i]. A rule rejected after add leaves
		// a stray query, but then New returns no Classifier at all.
		c.rules = append(c.rules, rule{id: rt.ID, topic: ti - 1, language: lang, weight: weight})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.prog.trie.freeze()
	c.version = c.computeVersion()
	return c, nil
}

func isLanguageCode(s string) bool {
	return len(s) == 2 && 'a' <= s[0] && s[0] <= 'z' && 'a' <= s[1] && s[1] <= 'z'
}

// computeVersion hashes everything that decides a classification, in canonical
// form, so reformatting the config does not change the version but any change
// of meaning does.
func (c *Classifier) computeVersion() string {
	h := sha256.New()
	for _, t := range c.topics {
		fmt.Fprintf(h, "topic %q %v\n", t.ID, t.Threshold)
	}
	for i, r := range c.rules {
		fmt.Fprintf(h, "rule %q %q %q %v %s\n", r.id, c.topics[r.topic].ID, r.language, r.weight, canonical(c.prog, c.prog.queries[i]))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// canonical renders a compiled query; it is used only for the version hash.
func canonical(p *program, n *node) string {
	switch n.op {
	case opTerm:
		return fmt.Sprintf("T%d:%q", n.mask, p.terms[n.term].key)
	case opNot:
		return "NOT(" + canonical(p, n.kids[0]) + ")"
	case opNear:
		return fmt.Sprintf("NEAR%d/%v(%s,%s)", n.distance, n.sentence, canonical(p, n.kids[0]), canonical(p, n.kids[1]))
	}
	parts := make([]string, len(n.kids))
	for i, k := range n.kids {
		parts[i] = canonical(p, k)
	}
	op := "AND"
	if n.op == opOr {
		op = "OR"
	}
	return op + "(" + strings.Join(parts, ",") + ")"
}

// Version is a hash of the compiled rules and topics, stored with every
// classification as RulesVersion so stale ones can be found and redone.
func (c *Classifier) Version() string { return c.version }

// Classify scores a against every rule. It does no I/O and is safe for
// concurrent use.
func (c *Classifier) Classify(a news.Article) news.Classification {
	text := a.Text
	if text == "" {
		text = a.Summary
	}
	lang := strings.ToLower(a.Language)
	s := c.pool.get()
	defer c.pool.put(s)
	c.prog.run(s, a.Title, text)

	scores := slices.Grow(s.scores[:0], len(c.topics))[:len(c.topics)]
	clear(scores)
	s.scores = scores
	var matched [][]news.RuleMatch // by topic, only allocated when a rule matches
	for _, qi := range s.cands {
		r := c.rules[qi]
		if r.language != "" && r.language != lang {
			continue
		}
		// Most candidates fail: a rule names "mine" and the article lacks its
		// other words. Deciding without collecting short-circuits ORs; only a
		// rule that matches is walked again for its explanation.
		s.hits = s.hits[:0]
		if !c.prog.eval(s, c.prog.queries[qi], false) {
			continue
		}
		s.hits = s.hits[:0]
		c.prog.eval(s, c.prog.queries[qi], true)
		scores[r.topic] += r.weight
		if matched == nil {
			matched = make([][]news.RuleMatch, len(c.topics))
		}
		matched[r.topic] = append(matched[r.topic], news.RuleMatch{
			RuleID: r.id, Weight: r.weight, Hits: c.prog.termHits(s, maxHitsPerRule),
		})
	}

	out := news.Classification{RulesVersion: c.version, Topics: []news.TopicScore{}, Entities: []news.Entity{}}
	for i, t := range c.topics {
		out.Score = max(out.Score, scores[i])
		if scores[i] > 0 && scores[i] >= t.Threshold {
			out.Topics = append(out.Topics, news.TopicScore{Topic: t.ID, Score: scores[i], Matches: matched[i]})
		}
	}
	// Strongest topic first; equal scores keep the configured topic order.
	slices.SortStableFunc(out.Topics, func(a, b news.TopicScore) int { return cmp.Compare(b.Score, a.Score) })
	out.Relevant = len(out.Topics) > 0
	if out.Relevant && c.entities != nil {
		var ents []news.Entity
		if c.tokEnts != nil {
			ents = c.tokEnts.ExtractTokensAt(a.Published, a.Title, text, a.Language, out.TopicIDs(), s.fields[0].toks, s.fields[1].toks)
		} else {
			ents = c.entities.ExtractAt(a.Published, a.Title, text, a.Language, out.TopicIDs())
		}
		if ents != nil {
			out.Entities = ents
		}
	}
	return out
}

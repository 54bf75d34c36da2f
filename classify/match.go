package classify

import (
	"slices"
	"sync"

	"github.com/minewatch/minewatch/classify/textnorm"
	"github.com/minewatch/minewatch/news"
)

// occurrence is where a term matched: tokens [start, end) of one field.
type occurrence struct {
	start, end int32
	sentence   int32
}

// hit is an occurrence found while evaluating a query, before it is turned
// into a news.TermHit.
type hit struct {
	term  int32
	field int8
	occ   occurrence
}

// scan is the per-article working state of one program. It is pooled: an
// article reuses the slices of an earlier one, so classifying allocates little.
type scan struct {
	fields [2]fieldScan
	// termSeen marks terms that occurred in any field; seenTerms lists them.
	termSeen  []bool
	seenTerms []int32
	// queued marks queries already selected for evaluation.
	queued []bool
	cands  []int32
	hits   []hit
	near   []bool
	// scores are the classifier's per-topic scores of the article.
	scores []float64
	// tz remembers folded words across the articles this scan serves.
	tz textnorm.Tokenizer
}

type fieldScan struct {
	toks []textnorm.Token
	// Token i matched patterns pats[patAt[i]:patAt[i+1]].
	patAt []int32
	pats  []int32
	// occ holds each term's occurrences; only terms in touched are non-empty.
	occ     [][]occurrence
	touched []int32
}

func (p *program) newScan() *scan {
	s := &scan{
		termSeen: make([]bool, len(p.terms)),
		queued:   make([]bool, len(p.queries)),
	}
	for f := range s.fields {
		s.fields[f].occ = make([][]occurrence, len(p.terms))
	}
	return s
}

// scanPool hands out scans of one program.
type scanPool struct {
	p    *program
	pool sync.Pool
}

func (sp *scanPool) get() *scan {
	if s, ok := sp.pool.Get().(*scan); ok {
		return s
	}
	return sp.p.newScan()
}

// put clears what the article left behind and returns s to the pool. Huge
// articles would pin their buffers; those scans are dropped instead.
func (sp *scanPool) put(s *scan) {
	for _, t := range s.seenTerms {
		s.termSeen[t] = false
	}
	s.seenTerms = s.seenTerms[:0]
	for _, q := range s.cands {
		s.queued[q] = false
	}
	s.cands = s.cands[:0]
	s.hits = s.hits[:0]
	big := cap(s.hits) > 1<<16
	for f := range s.fields {
		fs := &s.fields[f]
		for _, t := range fs.touched {
			fs.occ[t] = fs.occ[t][:0]
		}
		fs.touched = fs.touched[:0]
		// Tokens that needed no folding are substrings of the article; drop
		// them so a pooled scan does not keep the last article alive.
		clear(fs.toks)
		fs.toks = fs.toks[:0]
		if cap(fs.toks) > 1<<16 {
			big = true
		}
	}
	if !big {
		sp.pool.Put(s)
	}
}

// run scans title and text for every term of the program and selects the
// queries worth evaluating (in s.cands, sorted).
func (p *program) run(s *scan, title, text string) {
	p.scanField(s, 0, title)
	p.scanField(s, 1, text)
	for _, t := range s.seenTerms {
		for _, q := range p.termQueries[t] {
			if !s.queued[q] {
				s.queued[q] = true
				s.cands = append(s.cands, q)
			}
		}
	}
	for _, q := range p.always {
		if !s.queued[q] {
			s.queued[q] = true
			s.cands = append(s.cands, q)
		}
	}
	slices.Sort(s.cands)
}

func (p *program) scanField(s *scan, f int, src string) {
	fs := &s.fields[f]
	fs.toks = s.tz.Append(fs.toks[:0], src)
	fs.pats = fs.pats[:0]
	fs.patAt = append(fs.patAt[:0], 0)
	for _, tk := range fs.toks {
		fs.pats = p.trie.match(fs.pats, tk.Text)
		fs.patAt = append(fs.patAt, int32(len(fs.pats)))
	}
	// Terms start at a token matching their first pattern; phrases continue
	// with the next tokens, within the sentence.
	for i := range fs.toks {
		for _, pat := range fs.pats[fs.patAt[i]:fs.patAt[i+1]] {
			for _, t := range p.firstPat[pat] {
				end, ok := fs.phraseEnd(p.terms[t].pats, i)
				if !ok {
					continue
				}
				if len(fs.occ[t]) == 0 {
					fs.touched = append(fs.touched, t)
				}
				fs.occ[t] = append(fs.occ[t], occurrence{start: int32(i), end: int32(end), sentence: int32(fs.toks[i].Sentence)})
				if !s.termSeen[t] {
					s.termSeen[t] = true
					s.seenTerms = append(s.seenTerms, t)
				}
			}
		}
	}
}

// phraseEnd checks that pats[1:] match the tokens after i in the same sentence
// and returns the end of the phrase.
func (fs *fieldScan) phraseEnd(pats []int32, i int) (int, bool) {
	if i+len(pats) > len(fs.toks) {
		return 0, false
	}
	sent := fs.toks[i].Sentence
	for k := 1; k < len(pats); k++ {
		j := i + k
		if fs.toks[j].Sentence != sent || !slices.Contains(fs.pats[fs.patAt[j]:fs.patAt[j+1]], pats[k]) {
			return 0, false
		}
	}
	return i + len(pats), true
}

// eval evaluates c; when collect is set it appends the occurrences that made
// it true to s.hits.
func (p *program) eval(s *scan, c *node, collect bool) bool {
	switch c.op {
	case opTerm:
		// termSeen is small and dense; most terms of a candidate rule are
		// absent, and this spares touching the per-field occurrence tables.
		if !s.termSeen[c.term] {
			return false
		}
		found := false
		for f := range s.fields {
			if c.mask&(1<<f) == 0 {
				continue
			}
			occ := s.fields[f].occ[c.term]
			if len(occ) == 0 {
				continue
			}
			found = true
			if !collect {
				break
			}
			for _, o := range occ {
				s.hits = append(s.hits, hit{term: c.term, field: int8(f), occ: o})
			}
		}
		return found
	case opAnd:
		mark := len(s.hits)
		for _, k := range c.kids {
			if !p.eval(s, k, collect) {
				s.hits = s.hits[:mark]
				return false
			}
		}
		return true
	case opOr:
		matched := false
		for _, k := range c.kids {
			if p.eval(s, k, collect) {
				matched = true
				if !collect {
					return true
				}
			}
		}
		return matched
	case opNot:
		return !p.eval(s, c.kids[0], false)
	case opNear:
		return p.evalNear(s, c, collect)
	}
	return false
}

// evalNear finds pairs of occurrences of the two operands, in the same field,
// that are close enough: NEAR/n allows at most n−1 words between them (NEAR/1
// is adjacent), NEAR/s needs the same sentence. Overlapping occurrences (one
// token matching both sides) do not count: NEAR needs two things.
//
// Both sides are sorted by position and each occurrence looks for one partner
// in a window of the other side, so a long article full of both words costs
// O(n log n), not the product of the two counts.
func (p *program) evalNear(s *scan, c *node, collect bool) bool {
	mark := len(s.hits)
	p.eval(s, c.kids[0], true)
	mid := len(s.hits)
	p.eval(s, c.kids[1], true)
	end := len(s.hits)
	left, right := s.hits[mark:mid], s.hits[mid:end]
	slices.SortFunc(left, byPosition)
	slices.SortFunc(right, byPosition)
	if !collect {
		found := false
		for _, l := range left {
			if p.hasPartner(l, right, c) {
				found = true
				break
			}
		}
		s.hits = s.hits[:mark]
		return found
	}
	s.near = slices.Grow(s.near[:0], end-mark)[:end-mark]
	for i, l := range left {
		s.near[i] = p.hasPartner(l, right, c)
	}
	for j, r := range right {
		s.near[len(left)+j] = p.hasPartner(r, left, c)
	}
	// Keep only the occurrences that took part in a close pair.
	w := mark
	for k := mark; k < end; k++ {
		if s.near[k-mark] {
			s.hits[w] = s.hits[k]
			w++
		}
	}
	s.hits = s.hits[:w]
	return w > mark
}

func byPosition(a, b hit) int {
	if a.field != b.field {
		return int(a.field) - int(b.field)
	}
	if a.occ.start != b.occ.start {
		return int(a.occ.start - b.occ.start)
	}
	return int(a.occ.end - b.occ.end)
}

// hasPartner reports whether some occurrence in others (sorted by position) is
// close enough to h. Only a window of others can qualify; inside it the only
// misses are occurrences overlapping h and the few the window's slack for
// phrase length lets in, so the scan stops almost at once.
func (p *program) hasPartner(h hit, others []hit, c *node) bool {
	if c.sentence {
		i, _ := slices.BinarySearchFunc(others, h, func(o, h hit) int {
			if o.field != h.field {
				return int(o.field) - int(h.field)
			}
			return int(o.occ.sentence - h.occ.sentence)
		})
		for ; i < len(others) && others[i].field == h.field && others[i].occ.sentence == h.occ.sentence; i++ {
			if isClose(h.occ, others[i].occ, c) {
				return true
			}
		}
		return false
	}
	from := h.occ.start - int32(c.distance) + 1 - int32(p.maxPhrase)
	last := h.occ.end + int32(c.distance) - 1
	i, _ := slices.BinarySearchFunc(others, h, func(o, h hit) int {
		if o.field != h.field {
			return int(o.field) - int(h.field)
		}
		return int(o.occ.start - from)
	})
	for ; i < len(others) && others[i].field == h.field && others[i].occ.start <= last; i++ {
		if isClose(h.occ, others[i].occ, c) {
			return true
		}
	}
	return false
}

// isClose reports whether two occurrences of one field are near enough and do
// not overlap.
func isClose(a, b occurrence, c *node) bool {
	if a.end <= b.start {
		if c.sentence {
			return a.sentence == b.sentence
		}
		return int(b.start-a.end)+1 <= c.distance
	}
	if b.end <= a.start {
		if c.sentence {
			return a.sentence == b.sentence
		}
		return int(a.start-b.end)+1 <= c.distance
	}
	return false
}

// termHits turns the collected hits into explanations, sorted by field and
// position, without duplicates, and at most limit of them.
func (p *program) termHits(s *scan, limit int) []news.TermHit {
	hs := s.hits
	slices.SortFunc(hs, func(a, b hit) int {
		if d := byPosition(a, b); d != 0 {
			return d
		}
		return int(a.term - b.term)
	})
	hs = slices.Compact(hs)
	if len(hs) > limit {
		hs = hs[:limit]
	}
	out := make([]news.TermHit, len(hs))
	for i, h := range hs {
		fs := &s.fields[h.field]
		out[i] = news.TermHit{
			Term: p.terms[h.term].display,
			Span: news.Span{
				Field: fieldNames[h.field],
				Start: fs.toks[h.occ.start].Start,
				End:   fs.toks[h.occ.end-1].End,
			},
		}
	}
	return out
}

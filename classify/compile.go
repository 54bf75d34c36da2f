package classify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/classify/textnorm"
	"github.com/minewatch/minewatch/news"
)

// fieldMask says which fields a term may match in.
type fieldMask uint8

const (
	maskTitle fieldMask = 1 << iota
	maskText
	maskAny = maskTitle | maskText
)

// fieldNames indexes news fields by the position used in per-field arrays.
var fieldNames = [2]news.Field{news.FieldTitle, news.FieldText}

type opKind uint8

const (
	opTerm opKind = iota
	opAnd
	opOr
	opNot
	opNear
)

// node is a compiled query node: terms refer to the program's term table.
type node struct {
	op       opKind
	term     int32     // opTerm
	mask     fieldMask // opTerm
	kids     []*node   // opAnd, opOr, opNot (one kid), opNear (two kids)
	distance int
	sentence bool
}

// term is one distinct phrase of folded words, shared by every rule that uses
// it whatever its field scope.
type term struct {
	pats    []int32 // pattern id of each word
	display string  // the term as written, without field, for explanations
	key     string  // the folded words, identifying the term
}

// program is the compiled form of a set of queries: one pattern table for all
// of them, so scanning an article costs the same however many rules there are.
type program struct {
	// trie maps folded words and prefixes to pattern ids: one walk along a
	// token finds both, where a map of words would hash every token first.
	trie  trie
	npats int
	// maxPhrase is the most words of any term; NEAR windows allow for it.
	maxPhrase int
	terms     []term
	termIDs   map[string]int32
	// firstPat maps a pattern to the terms whose first word it is.
	firstPat [][]int32
	// queries are the compiled rule trees, in rule order.
	queries []*node
	// termQueries maps a term to the queries that mention it, so only queries
	// with a chance to match are evaluated.
	termQueries [][]int32
	// always lists queries that can match an article without any of their terms
	// (a top-level NOT, say); they are evaluated for every article.
	always []int32
}

func newProgram() *program {
	return &program{termIDs: map[string]int32{}, trie: newTrie()}
}

// pattern returns the id of a folded word or prefix, adding it when new.
func (p *program) pattern(word string, prefix bool) int32 {
	return p.trie.insert(word, prefix, p.newPattern)
}

func (p *program) newPattern() int32 {
	id := int32(p.npats)
	p.npats++
	p.firstPat = append(p.firstPat, nil)
	return id
}

// termID returns the id of t's folded phrase, adding it when new.
func (p *program) termID(t *query.Term) int32 {
	folded := make([]string, len(t.Words))
	for i, w := range t.Words {
		folded[i] = textnorm.Fold(w)
	}
	key := strings.Join(folded, "\x00")
	if t.Prefix {
		key += "\x00*"
	}
	if id, ok := p.termIDs[key]; ok {
		return id
	}
	id := int32(len(p.terms))
	pats := make([]int32, len(folded))
	for i, w := range folded {
		pats[i] = p.pattern(w, t.Prefix && i == len(folded)-1)
	}
	display := *t
	display.Field = ""
	p.maxPhrase = max(p.maxPhrase, len(pats))
	p.terms = append(p.terms, term{pats: pats, display: display.String(), key: key})
	p.termQueries = append(p.termQueries, nil)
	p.termIDs[key] = id
	p.firstPat[pats[0]] = append(p.firstPat[pats[0]], id)
	return id
}

// add compiles one query and returns its index.
func (p *program) add(n query.Node) (int32, error) {
	c, err := p.compile(n, 0)
	if err != nil {
		return 0, err
	}
	qi := int32(len(p.queries))
	p.queries = append(p.queries, c)
	seen := map[int32]bool{}
	var mark func(*node)
	mark = func(c *node) {
		if c.op == opTerm && !seen[c.term] {
			seen[c.term] = true
			p.termQueries[c.term] = append(p.termQueries[c.term], qi)
		}
		for _, k := range c.kids {
			mark(k)
		}
	}
	mark(c)
	if matchesEmpty(c) {
		p.always = append(p.always, qi)
	}
	return qi, nil
}

func (p *program) compile(n query.Node, depth int) (*node, error) {
	if depth > 1000 {
		return nil, fmt.Errorf("query nested too deeply")
	}
	switch n := n.(type) {
	case *query.Term:
		if len(n.Words) == 0 {
			return nil, fmt.Errorf("term with no words")
		}
		mask := maskAny
		switch n.Field {
		case "":
		case string(news.FieldTitle):
			mask = maskTitle
		case string(news.FieldText):
			mask = maskText
		default:
			return nil, fmt.Errorf("unknown field %q", n.Field)
		}
		for _, w := range n.Words {
			if textnorm.Fold(w) == "" {
				return nil, fmt.Errorf("term %s: word %q has no letters or digits", n, w)
			}
		}
		return &node{op: opTerm, term: p.termID(n), mask: mask}, nil
	case *query.And:
		return p.compileKids(opAnd, n.Children, depth)
	case *query.Or:
		return p.compileKids(opOr, n.Children, depth)
	case *query.Not:
		k, err := p.compile(n.Child, depth+1)
		if err != nil {
			return nil, err
		}
		return &node{op: opNot, kids: []*node{k}}, nil
	case *query.Near:
		if !n.Sentence && (n.Distance < 1 || n.Distance > query.MaxDistance) {
			return nil, fmt.Errorf("NEAR distance must be 1–%d, not %d", query.MaxDistance, n.Distance)
		}
		l, err := p.compileNearOperand(n.Left, depth)
		if err != nil {
			return nil, err
		}
		r, err := p.compileNearOperand(n.Right, depth)
		if err != nil {
			return nil, err
		}
		return &node{op: opNear, kids: []*node{l, r}, distance: n.Distance, sentence: n.Sentence}, nil
	case nil:
		return nil, fmt.Errorf("empty query")
	}
	return nil, fmt.Errorf("unknown query node %T", n)
}

func (p *program) compileKids(op opKind, children []query.Node, depth int) (*node, error) {
	if len(children) == 0 {
		return nil, fmt.Errorf("empty %s", map[opKind]string{opAnd: "AND", opOr: "OR"}[op])
	}
	c := &node{op: op, kids: make([]*node, len(children))}
	for i, ch := range children {
		k, err := p.compile(ch, depth+1)
		if err != nil {
			return nil, err
		}
		c.kids[i] = k
	}
	return c, nil
}

// compileNearOperand accepts what has positions: terms and ORs of them. The
// parser already refuses the rest; trees built by hand are checked here too.
func (p *program) compileNearOperand(n query.Node, depth int) (*node, error) {
	switch n := n.(type) {
	case *query.Term:
		return p.compile(n, depth+1)
	case *query.Or:
		for _, c := range n.Children {
			if _, err := p.compileNearOperand(c, depth+1); err != nil {
				return nil, err
			}
		}
		return p.compile(n, depth+1)
	}
	return nil, fmt.Errorf("NEAR operands must be terms, phrases or ORs of them, not %s", n)
}

// matchesEmpty reports whether c matches an article in which none of its
// terms occur.
func matchesEmpty(c *node) bool {
	switch c.op {
	case opTerm, opNear:
		return false
	case opNot:
		return !matchesEmpty(c.kids[0])
	case opAnd:
		for _, k := range c.kids {
			if !matchesEmpty(k) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range c.kids {
			if matchesEmpty(k) {
				return true
			}
		}
	}
	return false
}

// trie maps folded words and prefixes to pattern ids, walked byte by byte
// along a token. The root has a full table because every token starts there;
// deeper nodes have few children and are scanned.
type trie struct {
	root  [256]int32 // child node index + 1; 0 = none
	nodes []trieNode
	// flat is nodes laid out for matching, built by freeze: small fixed-size
	// nodes over shared arrays, so a walk touches few cache lines.
	flat  []flatNode
	edges []edge
	pats  []int32
}

type flatNode struct {
	edge0, nedges int32 // children: edges[edge0 : edge0+nedges]
	pat0, npats   int32 // prefixes ending here: pats[pat0 : pat0+npats]
	exact         int32 // as in trieNode
}

type edge struct {
	key  byte
	next int32 // node index
}

type trieNode struct {
	keys  []byte
	next  []int32 // node index
	pats  []int32 // prefixes ending here
	exact int32   // pattern id + 1 of the word ending here; 0 = none
}

func newTrie() trie { return trie{} }

// insert returns the id of a word (prefix false) or prefix, adding it with
// newID when new.
func (t *trie) insert(key string, prefix bool, newID func() int32) int32 {
	cur := int32(-1) // -1 = root
	for i := 0; i < len(key); i++ {
		b := key[i]
		var nx int32 = -1
		if cur < 0 {
			nx = t.root[b] - 1
		} else {
			n := &t.nodes[cur]
			for j, k := range n.keys {
				if k == b {
					nx = n.next[j]
					break
				}
			}
		}
		if nx < 0 {
			nx = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{})
			if cur < 0 {
				t.root[b] = nx + 1
			} else {
				n := &t.nodes[cur]
				n.keys = append(n.keys, b)
				n.next = append(n.next, nx)
			}
		}
		cur = nx
	}
	n := &t.nodes[cur]
	if !prefix {
		if n.exact == 0 {
			n.exact = newID() + 1
		}
		return n.exact - 1
	}
	if len(n.pats) == 0 {
		n.pats = append(n.pats, newID())
	}
	return n.pats[0]
}

// freeze builds the layout match reads; call it after the last insert.
func (t *trie) freeze() {
	t.flat = slices.Grow(t.flat[:0], len(t.nodes))[:len(t.nodes)]
	t.edges, t.pats = t.edges[:0], t.pats[:0]
	for i, n := range t.nodes {
		t.flat[i] = flatNode{
			edge0: int32(len(t.edges)), nedges: int32(len(n.keys)),
			pat0: int32(len(t.pats)), npats: int32(len(n.pats)),
			exact: n.exact,
		}
		for j, k := range n.keys {
			t.edges = append(t.edges, edge{key: k, next: n.next[j]})
		}
		t.pats = append(t.pats, n.pats...)
	}
}

// match appends the id of word itself, when it is a pattern, and then the ids
// of every prefix of word. The trie must be frozen.
func (t *trie) match(dst []int32, word string) []int32 {
	if len(word) == 0 {
		return dst
	}
	mark := len(dst)
	exact := int32(0)
	cur := t.root[word[0]] - 1
	for i := 1; cur >= 0; i++ {
		n := &t.flat[cur]
		if n.npats > 0 {
			dst = append(dst, t.pats[n.pat0:n.pat0+n.npats]...)
		}
		if i == len(word) {
			exact = n.exact
			break
		}
		b := word[i]
		nx := int32(-1)
		for _, e := range t.edges[n.edge0 : n.edge0+n.nedges] {
			if e.key == b {
				nx = e.next
				break
			}
		}
		cur = nx
	}
	if exact != 0 {
		// The word's own pattern goes first, before its prefixes.
		dst = append(dst, 0)
		copy(dst[mark+1:], dst[mark:])
		dst[mark] = exact - 1
	}
	return dst
}

package classify

import (
	"fmt"

	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/news"
)

// maxHighlightHits bounds the hits Match returns; a search snippet shows a few.
const maxHighlightHits = 200

// Matcher is one compiled query, matched exactly as the classifier matches
// rules. Index backends use it to highlight search results. It is safe for
// concurrent use.
type Matcher struct {
	prog *program
	pool scanPool
}

// CompileQuery compiles a parsed query.
func CompileQuery(n query.Node) (*Matcher, error) {
	p := newProgram()
	if _, err := p.add(n); err != nil {
		return nil, fmt.Errorf("compile query %s: %w", n, err)
	}
	p.trie.freeze()
	m := &Matcher{prog: p}
	m.pool.p = p
	return m, nil
}

// Match reports whether the query matches an article with this title and
// text, and where: the occurrences of the terms that made it match, sorted by
// field and offset (byte offsets into title or text).
func (m *Matcher) Match(title, text string) (ok bool, hits []news.TermHit) {
	s := m.pool.get()
	defer m.pool.put(s)
	m.prog.run(s, title, text)
	if len(s.cands) == 0 {
		return false, nil
	}
	if !m.prog.eval(s, m.prog.queries[0], true) {
		return false, nil
	}
	return true, m.prog.termHits(s, maxHighlightHits)
}

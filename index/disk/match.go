package disk

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/index"
)

// bm25 weighs a title hit four times a body hit: analysts' headlines say what
// the story is about, bodies mention mines in passing.
// The meta column weighs nothing: filters select, they do not rank.
const bm25 = `bm25(articles_fts, 4.0, 1.0, 0.0)`

// inFTS is the SQL predicate "the article matches FTS expression ?".
const inFTS = `a.rid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)`

// plan is a query's text part translated for SQLite.
type plan struct {
	// fts is the whole query as one FTS5 expression, when it can be one: the
	// search then joins the FTS table and ranks by bm25.
	fts string
	// where is the SQL predicate over articles a when the query cannot be one
	// FTS5 expression (a NOT with nothing positive beside it, at the top or
	// under an OR), with its arguments.
	pred     string
	predArgs []any
	// rank is an FTS5 expression of the query's positive parts, used for bm25
	// when fts is empty; "" means no ranking (e.g. the query is NOT x).
	rank string
	// words are the positive terms, for snippets.
	words []snippetWord
}

// expandFunc lists the indexed words that start with prefix, when there are
// at most maxExpansion of them (ok false when there are more).
type expandFunc func(prefix string) (words []string, ok bool, err error)

// maxExpansion bounds the OR a prefix word becomes: past it, FTS5's own
// prefix scan reads no more than the OR would.
const maxExpansion = 64

// prefixIndexLengths are the prefix= lengths of articles_fts, in characters:
// FTS5 answers a prefix of exactly these lengths from its prefix index, one
// posting list, which beats any expansion.
var prefixIndexLengths = [...]int{3, 4}

// translate turns a parsed query into a plan. expand, when not nil, turns
// prefix words into the words they stand for (see schemaV4). Errors of the
// query wrap index.ErrBadQuery; expand's errors are returned as they are.
func translate(n query.Node, expand expandFunc) (plan, error) {
	t := translator{expand: expand}
	var p plan
	if e, ok := t.fts(n); ok {
		p.fts = e
	} else {
		p.pred = t.pred(n, &p.predArgs)
		if parts := t.positives(n); len(parts) > 0 {
			p.rank = strings.Join(parts, " OR ")
		}
	}
	if t.err != nil {
		return plan{}, t.err
	}
	p.words = collectWords(n, nil)
	return p, nil
}

type translator struct {
	expand expandFunc
	err    error // the first error; translation goes on to keep the code simple
}

func (t *translator) fail(n query.Node, format string, args ...any) {
	if t.err == nil {
		t.err = fmt.Errorf("%w: at %d: %s", index.ErrBadQuery, n.Pos(), fmt.Sprintf(format, args...))
	}
}

// fts translates n to one FTS5 expression. It reports false when n contains a
// NOT that FTS5 cannot express: FTS5 has only the binary "a NOT b", so a NOT
// needs a positive sibling in an AND.
func (t *translator) fts(n query.Node) (string, bool) {
	switch n := n.(type) {
	case *query.Term:
		return t.term(n), true
	case *query.Or:
		parts := make([]string, 0, len(n.Children))
		for _, c := range n.Children {
			e, ok := t.fts(c)
			if !ok {
				return "", false
			}
			parts = append(parts, e)
		}
		return group(parts, " OR "), true
	case *query.And:
		var pos, neg []string
		for _, c := range n.Children {
			if not, isNot := c.(*query.Not); isNot {
				e, ok := t.fts(not.Child)
				if !ok {
					return "", false
				}
				neg = append(neg, e)
				continue
			}
			e, ok := t.fts(c)
			if !ok {
				return "", false
			}
			pos = append(pos, e)
		}
		if len(pos) == 0 {
			return "", false
		}
		e := group(pos, " AND ")
		if len(neg) > 0 {
			e += " NOT " + group(neg, " OR ")
		}
		return "(" + e + ")", true
	case *query.Not:
		return "", false
	case *query.Near:
		return t.near(n), true
	case nil:
		t.err = fmt.Errorf("%w: empty query node", index.ErrBadQuery)
		return neverPhrase, true
	default:
		t.fail(n, "unsupported query node %T", n)
		return neverPhrase, true
	}
}

// group joins FTS5 expressions with op, in parentheses when there are several.
func group(parts []string, op string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, op) + ")"
}

const neverPhrase = `"` + neverToken + `"`

// phrases returns a term's FTS5 phrase, without its column filter, as
// alternatives to OR: a prefix word that no prefix index serves becomes the
// indexed words it stands for, when expand finds few enough; unexpanded, the
// result is one phrase.
func (t *translator) phrases(n *query.Term, expand bool) []string {
	var toks []string
	for _, w := range n.Words {
		toks = append(toks, queryWords(w)...)
	}
	if len(toks) == 0 {
		t.fail(n, "%s has no letters or digits to search for", n.String())
		return []string{neverPhrase}
	}
	// Tokens hold only letters, digits and non-ASCII runes (ftsWord), never a
	// double quote, so no escaping is needed inside the string.
	p := `"` + strings.Join(toks, " ") + `"`
	if !n.Prefix {
		return []string{p}
	}
	last := toks[len(toks)-1]
	if !expand || t.expand == nil || slices.Contains(prefixIndexLengths[:], utf8.RuneCountInString(last)) {
		return []string{p + "*"}
	}
	words, ok, err := t.expand(last)
	if err != nil {
		if t.err == nil {
			t.err = fmt.Errorf("expand %s*: %w", last, err)
		}
		return []string{neverPhrase}
	}
	if !ok {
		return []string{p + "*"}
	}
	if len(words) == 0 {
		// No article has such a word (fts_terms is written with the FTS
		// rows, in the same transaction).
		return []string{neverPhrase}
	}
	head := strings.Join(toks[:len(toks)-1], " ")
	if head != "" {
		head += " "
	}
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = `"` + head + w + `"`
	}
	return out
}

// scope puts a column filter on e for a title: or text: term.
func (t *translator) scope(field string, at query.Node, e string) string {
	switch field {
	case "":
		return e
	case "title", "text":
		return "{" + field + "} : (" + e + ")"
	}
	t.fail(at, "unknown field %q (want title or text)", field)
	return e
}

func (t *translator) term(n *query.Term) string {
	return t.scope(n.Field, n, group(t.phrases(n, true), " OR "))
}

// near translates NEAR/n: FTS5's NEAR takes phrases only, so ORs in the
// operands are distributed: (a OR b) NEAR/5 c → NEAR(a c) OR NEAR(b c).
// FTS5's NEAR is unordered, like ours.
func (t *translator) near(n *query.Near) string {
	left, right := t.nearOperand(n.Left), t.nearOperand(n.Right)
	// FTS5 counts the tokens between the two phrases; "within n words"
	// means the positions differ by at most n, so n-1 tokens between.
	gap := n.Distance - 1
	if n.Sentence {
		// FTS5 knows no sentences; 30 tokens is about one sentence of news
		// prose, so NEAR/s is approximated (the classifier decides exactly).
		gap = sentenceGap
	}
	if gap < 0 {
		t.fail(n, "NEAR distance must be at least 1")
		gap = 0
	}
	var parts []string
	for _, l := range left {
		for _, r := range right {
			field := l.Field
			if field == "" {
				field = r.Field
			} else if r.Field != "" && r.Field != field {
				// title: and text: words are never near each other.
				parts = append(parts, neverPhrase)
				continue
			}
			// FTS5's NEAR takes phrases, not ORs: expansions multiply.
			ls, rs := t.phrases(l, true), t.phrases(r, true)
			if len(ls)*len(rs) > maxExpansion {
				ls, rs = t.phrases(l, false), t.phrases(r, false)
			}
			var near []string
			for _, lp := range ls {
				for _, rp := range rs {
					near = append(near, "NEAR("+lp+" "+rp+", "+strconv.Itoa(gap)+")")
				}
			}
			parts = append(parts, t.scope(field, n, group(near, " OR ")))
		}
	}
	if len(parts) == 0 {
		return neverPhrase
	}
	return group(parts, " OR ")
}

// sentenceGap approximates NEAR/s in FTS5.
const sentenceGap = 30

// nearOperand flattens an operand of NEAR, a term or an OR of terms.
func (t *translator) nearOperand(n query.Node) []*query.Term {
	switch n := n.(type) {
	case *query.Term:
		return []*query.Term{n}
	case *query.Or:
		var out []*query.Term
		for _, c := range n.Children {
			out = append(out, t.nearOperand(c)...)
		}
		return out
	case nil:
		t.err = fmt.Errorf("%w: NEAR without an operand", index.ErrBadQuery)
		return nil
	}
	t.fail(n, "NEAR operands must be terms or ORs of terms, not %s", n.String())
	return nil
}

// pred translates n to a SQL predicate over articles a, appending the MATCH
// arguments; used when n is not one FTS5 expression.
func (t *translator) pred(n query.Node, args *[]any) string {
	if e, ok := t.fts(n); ok {
		*args = append(*args, e)
		return inFTS
	}
	switch n := n.(type) {
	case *query.And:
		parts := make([]string, len(n.Children))
		for i, c := range n.Children {
			parts[i] = "(" + t.pred(c, args) + ")"
		}
		return strings.Join(parts, " AND ")
	case *query.Or:
		parts := make([]string, len(n.Children))
		for i, c := range n.Children {
			parts[i] = "(" + t.pred(c, args) + ")"
		}
		return strings.Join(parts, " OR ")
	case *query.Not:
		return "NOT (" + t.pred(n.Child, args) + ")"
	}
	// fts handles every other node type.
	t.fail(n, "cannot translate %T", n)
	return "0"
}

// positives returns FTS5 expressions for the parts of n that count for a
// match, skipping negated parts, for ranking a query that is not one FTS5
// expression.
func (t *translator) positives(n query.Node) []string {
	if e, ok := t.fts(n); ok {
		return []string{e}
	}
	var out []string
	switch n := n.(type) {
	case *query.And:
		for _, c := range n.Children {
			out = append(out, t.positives(c)...)
		}
	case *query.Or:
		for _, c := range n.Children {
			out = append(out, t.positives(c)...)
		}
	}
	return out
}

// snippetWord is one searched word in FTS form; prefix words match any token
// that starts with them.
type snippetWord struct {
	text   string
	prefix bool
}

// collectWords lists the words of n's positive terms.
func collectWords(n query.Node, out []snippetWord) []snippetWord {
	switch n := n.(type) {
	case *query.Term:
		var toks []string
		for _, w := range n.Words {
			toks = append(toks, queryWords(w)...)
		}
		for i, tok := range toks {
			out = append(out, snippetWord{text: tok, prefix: n.Prefix && i == len(toks)-1})
		}
	case *query.And:
		for _, c := range n.Children {
			out = collectWords(c, out)
		}
	case *query.Or:
		for _, c := range n.Children {
			out = collectWords(c, out)
		}
	case *query.Near:
		out = collectWords(n.Left, out)
		out = collectWords(n.Right, out)
	}
	return out
}

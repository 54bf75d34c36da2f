package query

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/minewatch/minewatch/classify/textnorm"
)

// MaxDistance is the largest n of NEAR/n.
const MaxDistance = 100

// maxDepth bounds nesting so a hostile query cannot exhaust the stack.
const maxDepth = 200

// Fields are the field names a term may be scoped to.
var fields = map[string]bool{"title": true, "text": true}

// SyntaxError is a query that does not parse. Offset is in bytes; Line and Col
// are 1-based and counted in runes, since queries are often multi-line YAML
// block scalars.
type SyntaxError struct {
	Offset, Line, Col int
	Msg               string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// Parse parses src in the analysts' query syntax (see the package
// documentation). Errors are *SyntaxError.
func Parse(src string) (Node, error) {
	p := &parser{src: src}
	if err := p.lex(); err != nil {
		return nil, err
	}
	if p.peek().kind == tEOF {
		return nil, p.errAt(0, "empty query")
	}
	n, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tRParen {
			return nil, p.errAt(t.pos, "unexpected ')' without a matching '('")
		}
		return nil, p.errAt(t.pos, "unexpected "+t.describe())
	}
	return n, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tPhrase
	tField
	tLParen
	tRParen
	tAnd
	tOr
	tNot
	tNear
)

type token struct {
	kind tokKind
	pos  int    // byte offset of the token in the source
	text string // word or phrase content, or the field name
	// For tWord/tPhrase: byte offset of text in the source.
	textPos  int
	distance int  // NEAR/n
	sentence bool // NEAR/s
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tWord:
		return fmt.Sprintf("word %q", t.text)
	case tPhrase:
		return "phrase"
	case tField:
		return fmt.Sprintf("field %q", t.text+":")
	case tLParen:
		return "'('"
	case tRParen:
		return "')'"
	case tAnd:
		return "AND"
	case tOr:
		return "OR"
	case tNot:
		return "NOT"
	case tNear:
		return "NEAR"
	}
	return "token"
}

type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) errAt(offset int, msg string) *SyntaxError {
	line, col := 1, 1
	for _, r := range p.src[:offset] {
		if r == '\n' {
			line++
			col = 1
			continue
		}
		col++
	}
	return &SyntaxError{Offset: offset, Line: line, Col: col, Msg: msg}
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// typographicClosers maps the typographic opening quotes to the marks that may
// close them.
var typographicClosers = map[rune]string{'“': "”", '„': "“”", '«': "»"}

func isBareBreak(r rune) bool {
	return unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' || typographicClosers[r] != ""
}

// lex splits the source into tokens.
func (p *parser) lex() error {
	s := p.src
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case r == '(':
			p.toks = append(p.toks, token{kind: tLParen, pos: i})
			i++
		case r == ')':
			p.toks = append(p.toks, token{kind: tRParen, pos: i})
			i++
		case r == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return p.errAt(i, "unclosed quote")
			}
			p.toks = append(p.toks, token{kind: tPhrase, pos: i, text: s[i+1 : i+1+end], textPos: i + 1})
			i += end + 2
		case typographicClosers[r] != "":
			// Rules pasted from a word processor arrive with “…”, „…“ or «…»;
			// read as words they would silently become an AND of words.
			body := s[i+size:]
			end := strings.IndexAny(body, typographicClosers[r])
			if end < 0 {
				return p.errAt(i, "unclosed quote")
			}
			_, csize := utf8.DecodeRuneInString(body[end:])
			p.toks = append(p.toks, token{kind: tPhrase, pos: i, text: body[:end], textPos: i + size})
			i += size + end + csize
		default:
			start := i
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if isBareBreak(r) {
					break
				}
				i += size
			}
			if err := p.lexBare(start, s[start:i]); err != nil {
				return err
			}
		}
	}
	p.toks = append(p.toks, token{kind: tEOF, pos: len(s)})
	return nil
}

// lexBare classifies one run of non-space text: keyword, field prefix or word.
func (p *parser) lexBare(pos int, w string) error {
	switch w {
	case "AND":
		p.toks = append(p.toks, token{kind: tAnd, pos: pos})
		return nil
	case "OR":
		p.toks = append(p.toks, token{kind: tOr, pos: pos})
		return nil
	case "NOT":
		p.toks = append(p.toks, token{kind: tNot, pos: pos})
		return nil
	case "NEAR":
		return p.errAt(pos, "NEAR needs a distance: NEAR/n (n words, 1–100) or NEAR/s (same sentence)")
	}
	if d, ok := strings.CutPrefix(w, "NEAR/"); ok {
		t := token{kind: tNear, pos: pos}
		if d == "s" {
			t.sentence = true
		} else {
			n, err := strconv.Atoi(d)
			if err != nil || n < 1 || n > MaxDistance {
				return p.errAt(pos, fmt.Sprintf("NEAR distance must be 1–%d or s (same sentence), not %q", MaxDistance, d))
			}
			t.distance = n
		}
		p.toks = append(p.toks, t)
		return nil
	}
	if name, rest, ok := strings.Cut(w, ":"); ok && name != "" && isASCIILetters(name) {
		if !fields[name] {
			return p.errAt(pos, fmt.Sprintf("unknown field %q: fields are title and text", name))
		}
		p.toks = append(p.toks, token{kind: tField, pos: pos, text: name})
		if rest != "" {
			p.toks = append(p.toks, token{kind: tWord, pos: pos + len(name) + 1, text: rest, textPos: pos + len(name) + 1})
		}
		return nil
	}
	p.toks = append(p.toks, token{kind: tWord, pos: pos, text: w, textPos: pos})
	return nil
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// parseOr: or := and (OR and)*
func (p *parser) parseOr(depth int) (Node, error) {
	if depth > maxDepth {
		return nil, p.errAt(p.peek().pos, "query nested too deeply")
	}
	first, err := p.parseAnd(depth, "")
	if err != nil {
		return nil, err
	}
	children := []Node{first}
	for p.peek().kind == tOr {
		p.next()
		n, err := p.parseAnd(depth, "after OR")
		if err != nil {
			return nil, err
		}
		children = append(children, n)
	}
	if len(children) == 1 {
		return first, nil
	}
	return &Or{Children: flatten[*Or](children), At: first.Pos()}, nil
}

// parseAnd: and := near ([AND] near)*; adjacency means AND, and a NOT operand
// makes "a NOT b" mean "a AND NOT b".
func (p *parser) parseAnd(depth int, ctx string) (Node, error) {
	first, err := p.parseNear(depth, ctx)
	if err != nil {
		return nil, err
	}
	children := []Node{first}
	for {
		t := p.peek()
		switch t.kind {
		case tAnd:
			p.next()
			n, err := p.parseNear(depth, "after AND")
			if err != nil {
				return nil, err
			}
			children = append(children, n)
			continue
		case tWord, tPhrase, tField, tLParen, tNot:
			n, err := p.parseNear(depth, "")
			if err != nil {
				return nil, err
			}
			children = append(children, n)
			continue
		}
		break
	}
	if len(children) == 1 {
		return first, nil
	}
	return &And{Children: flatten[*And](children), At: first.Pos()}, nil
}

// parseNear: near := unary (NEAR/x unary)?; operands are terms or ORs of terms.
func (p *parser) parseNear(depth int, ctx string) (Node, error) {
	left, err := p.parseUnary(depth, ctx)
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tNear {
		return left, nil
	}
	op := p.next()
	if err := p.checkNearOperand(left, op); err != nil {
		return nil, err
	}
	right, err := p.parseUnary(depth, "after NEAR")
	if err != nil {
		return nil, err
	}
	if err := p.checkNearOperand(right, op); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tNear {
		return nil, p.errAt(t.pos, "NEAR cannot be chained: write (a NEAR/n b) AND (b NEAR/n c)")
	}
	return &Near{Left: left, Right: right, Distance: op.distance, Sentence: op.sentence, At: left.Pos()}, nil
}

// checkNearOperand rejects what NEAR cannot measure: it needs positions, and
// AND, NOT and NEAR do not have one.
func (p *parser) checkNearOperand(n Node, op token) error {
	switch n := n.(type) {
	case *Term:
		return nil
	case *Or:
		for _, c := range n.Children {
			if err := p.checkNearOperand(c, op); err != nil {
				return err
			}
		}
		return nil
	case *And:
		return p.errAt(n.At, "AND inside a NEAR operand: NEAR operands are terms, phrases or (a OR b) groups")
	case *Not:
		return p.errAt(n.At, "NOT inside a NEAR operand: NEAR operands are terms, phrases or (a OR b) groups")
	case *Near:
		return p.errAt(n.At, "NEAR inside a NEAR operand: NEAR operands are terms, phrases or (a OR b) groups")
	}
	return p.errAt(op.pos, "bad NEAR operand")
}

// parseUnary: unary := NOT unary | primary
func (p *parser) parseUnary(depth int, ctx string) (Node, error) {
	if depth > maxDepth {
		return nil, p.errAt(p.peek().pos, "query nested too deeply")
	}
	if t := p.peek(); t.kind == tNot {
		p.next()
		child, err := p.parseUnary(depth+1, "after NOT")
		if err != nil {
			return nil, err
		}
		return &Not{Child: child, At: t.pos}, nil
	}
	return p.parsePrimary(depth, ctx)
}

// parsePrimary: term | field ':' (term | '(' or ')') | '(' or ')'
func (p *parser) parsePrimary(depth int, ctx string) (Node, error) {
	t := p.next()
	switch t.kind {
	case tWord, tPhrase:
		return p.term(t, "")
	case tLParen:
		return p.group(depth, t)
	case tField:
		inner := p.next()
		if inner.pos != t.pos+len(t.text)+1 {
			return nil, p.errAt(t.pos+len(t.text)+1, fmt.Sprintf("expected a term, phrase or '(' right after %s:", t.text))
		}
		switch inner.kind {
		case tWord, tPhrase:
			return p.term(inner, t.text)
		case tLParen:
			n, err := p.group(depth, inner)
			if err != nil {
				return nil, err
			}
			if err := p.scope(n, t.text); err != nil {
				return nil, err
			}
			return n, nil
		}
		return nil, p.errAt(inner.pos, fmt.Sprintf("expected a term, phrase or '(' after %s:, found %s", t.text, inner.describe()))
	}
	msg := "expected a term or '('"
	if ctx != "" {
		msg += " " + ctx
	}
	if t.kind == tEOF {
		msg += ", found end of query"
	} else {
		msg += ", found " + t.describe()
	}
	return nil, p.errAt(t.pos, msg)
}

func (p *parser) group(depth int, open token) (Node, error) {
	if p.peek().kind == tRParen {
		return nil, p.errAt(p.peek().pos, "empty parentheses: expected a term or '(' after '('")
	}
	n, err := p.parseOr(depth + 1)
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tRParen {
		o := p.errAt(open.pos, "")
		return nil, p.errAt(t.pos, fmt.Sprintf("missing ')' to close the '(' at line %d, column %d; found %s", o.Line, o.Col, t.describe()))
	}
	return n, nil
}

// scope applies a field to every term under n.
func (p *parser) scope(n Node, field string) error {
	switch n := n.(type) {
	case *Term:
		if n.Field != "" && n.Field != field {
			return p.errAt(n.At, fmt.Sprintf("field %s: inside %s:(...)", n.Field, field))
		}
		n.Field = field
	case *And:
		for _, c := range n.Children {
			if err := p.scope(c, field); err != nil {
				return err
			}
		}
	case *Or:
		for _, c := range n.Children {
			if err := p.scope(c, field); err != nil {
				return err
			}
		}
	case *Not:
		return p.scope(n.Child, field)
	case *Near:
		if err := p.scope(n.Left, field); err != nil {
			return err
		}
		return p.scope(n.Right, field)
	}
	return nil
}

// term builds a Term from a word or phrase token: the words are the tokenizer's
// words, as written, so rules and text split the same way.
func (p *parser) term(t token, field string) (Node, error) {
	text := t.text
	prefix := false
	if t.kind == tPhrase {
		trimmed := strings.TrimRightFunc(text, unicode.IsSpace)
		if before, ok := strings.CutSuffix(trimmed, "*"); ok {
			prefix = true
			text = before
		}
	} else if before, ok := strings.CutSuffix(text, "*"); ok {
		prefix = true
		text = before
	}
	if k := strings.IndexByte(text, '*'); k >= 0 {
		return nil, p.errAt(t.textPos+k, "'*' is only allowed at the end of a word or of a phrase's last word")
	}
	if prefix {
		r, _ := utf8.DecodeLastRuneInString(text)
		if text == "" || !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) {
			return nil, p.errAt(t.textPos+len(text), "'*' must follow a letter or digit")
		}
	}
	toks := textnorm.Tokenize(text)
	if len(toks) == 0 {
		if t.kind == tPhrase {
			return nil, p.errAt(t.pos, "empty phrase: expected words between the quotes")
		}
		return nil, p.errAt(t.pos, fmt.Sprintf("%q has no letters or digits to match", t.text))
	}
	words := make([]string, len(toks))
	for i, tk := range toks {
		words[i] = text[tk.Start:tk.End]
	}
	at := t.pos
	if field != "" {
		at -= len(field) + 1
	}
	quoted := t.kind == tPhrase
	if field == "" && len(words) == 1 && !prefix && isKeyword(words[0]) {
		// "OR!" is the word OR; rendered bare it would read as the operator.
		quoted = true
	}
	return &Term{Field: field, Words: words, Prefix: prefix, Quoted: quoted, At: at}, nil
}

func isKeyword(w string) bool {
	return w == "AND" || w == "OR" || w == "NOT" || w == "NEAR"
}

// flatten merges children of the same kind, so "(a OR b) OR c" and "a OR b OR c"
// give the same tree.
func flatten[T interface {
	*And | *Or
	Node
}](children []Node) []Node {
	out := make([]Node, 0, len(children))
	for _, c := range children {
		if same, ok := c.(T); ok {
			switch s := any(same).(type) {
			case *And:
				out = append(out, s.Children...)
			case *Or:
				out = append(out, s.Children...)
			}
			continue
		}
		out = append(out, c)
	}
	return out
}

// Equal reports whether a and b are the same query, ignoring positions. A
// multi-word term is a phrase whether or not it was quoted.
func Equal(a, b Node) bool {
	switch a := a.(type) {
	case *Term:
		b, ok := b.(*Term)
		if !ok || a.Field != b.Field || a.Prefix != b.Prefix || len(a.Words) != len(b.Words) {
			return false
		}
		if len(a.Words) == 1 && a.Quoted != b.Quoted {
			return false
		}
		for i := range a.Words {
			if a.Words[i] != b.Words[i] {
				return false
			}
		}
		return true
	case *And:
		b, ok := b.(*And)
		return ok && equalAll(a.Children, b.Children)
	case *Or:
		b, ok := b.(*Or)
		return ok && equalAll(a.Children, b.Children)
	case *Not:
		b, ok := b.(*Not)
		return ok && Equal(a.Child, b.Child)
	case *Near:
		b, ok := b.(*Near)
		return ok && a.Distance == b.Distance && a.Sentence == b.Sentence && Equal(a.Left, b.Left) && Equal(a.Right, b.Right)
	}
	return false
}

func equalAll(a, b []Node) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// Walk calls fn for n and, while fn returns true, for its descendants, depth
// first in query order.
func Walk(n Node, fn func(Node) bool) {
	if !fn(n) {
		return
	}
	switch n := n.(type) {
	case *And:
		for _, c := range n.Children {
			Walk(c, fn)
		}
	case *Or:
		for _, c := range n.Children {
			Walk(c, fn)
		}
	case *Not:
		Walk(n.Child, fn)
	case *Near:
		Walk(n.Left, fn)
		Walk(n.Right, fn)
	}
}

// Terms returns every term of n in query order.
func Terms(n Node) []*Term {
	var out []*Term
	Walk(n, func(n Node) bool {
		if t, ok := n.(*Term); ok {
			out = append(out, t)
		}
		return true
	})
	return out
}

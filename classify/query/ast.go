package query

import (
	"strconv"
	"strings"
)

// Node is a parsed query. The concrete types are *Term, *And, *Or, *Not and *Near.
type Node interface {
	// Pos is the byte offset in the query text where the node starts.
	Pos() int
	// String renders the node back in canonical query syntax.
	String() string
}

// Term is a word or an exact phrase, optionally limited to one field.
// Words are as written (not folded): consumers fold with textnorm.Fold.
// A bare word that the tokenizer splits (Ottawa-Abkommen) becomes a phrase.
type Term struct {
	Field  string   // "" (any field), "title" or "text"
	Words  []string // one word, or the words of a phrase in order
	Prefix bool     // the last word is a prefix (written with a trailing *)
	Quoted bool     // written as a "phrase"
	At     int
}

// And matches when all children match.
type And struct {
	Children []Node
	At       int
}

// Or matches when any child matches.
type Or struct {
	Children []Node
	At       int
}

// Not matches when its child does not. Inside And it excludes; at the top of a
// query it matches every document the child does not.
type Not struct {
	Child Node
	At    int
}

// Near matches when a match of Left and a match of Right lie within Distance
// words of each other, in either order; with Sentence set, when they lie in the
// same sentence (written NEAR/s). Left and Right are terms or ORs of terms.
type Near struct {
	Left, Right Node
	Distance    int
	Sentence    bool
	At          int
}

func (n *Term) Pos() int { return n.At }
func (n *And) Pos() int  { return n.At }
func (n *Or) Pos() int   { return n.At }
func (n *Not) Pos() int  { return n.At }
func (n *Near) Pos() int { return n.At }

func (n *Term) String() string {
	var b strings.Builder
	if n.Field != "" {
		b.WriteString(n.Field + ":")
	}
	text := strings.Join(n.Words, " ")
	if n.Quoted || len(n.Words) > 1 {
		text = strconv.Quote(text)
		if n.Prefix {
			text = text[:len(text)-1] + `*"`
		}
	} else if n.Prefix {
		text += "*"
	}
	b.WriteString(text)
	return b.String()
}

func (n *And) String() string { return join(n.Children, " AND ") }
func (n *Or) String() string  { return join(n.Children, " OR ") }
func (n *Not) String() string { return "NOT " + group(n.Child) }

func (n *Near) String() string {
	op := "NEAR/" + strconv.Itoa(n.Distance)
	if n.Sentence {
		op = "NEAR/s"
	}
	return group(n.Left) + " " + op + " " + group(n.Right)
}

func join(nodes []Node, sep string) string {
	parts := make([]string, len(nodes))
	for i, c := range nodes {
		parts[i] = group(c)
	}
	return strings.Join(parts, sep)
}

// group parenthesises compound children so String round-trips through Parse.
func group(n Node) string {
	switch n.(type) {
	case *Term, *Not:
		return n.String()
	}
	return "(" + n.String() + ")"
}

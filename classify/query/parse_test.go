package query

import (
	"errors"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := map[string]struct {
		src  string
		want string // canonical String()
	}{
		"word":                {"mine", "mine"},
		"prefix":              {"konwencj*", "konwencj*"},
		"phrase":              {`"Ottawa Convention"`, `"Ottawa Convention"`},
		"phrase prefix":       {`"anti-personnel mine*"`, `"anti personnel mine*"`},
		"quoted single":       {`"mines"`, `"mines"`},
		"split bare word":     {"Ottawa-Abkommen", `"Ottawa Abkommen"`},
		"split apostrophe":    {"d'Ottawa", `"d Ottawa"`},
		"split prefix":        {"Ottawa-Abk*", `"Ottawa Abk*"`},
		"adjacency":           {"mine ban", "mine AND ban"},
		"and":                 {"mine AND ban", "mine AND ban"},
		"or":                  {"mine OR mina", "mine OR mina"},
		"lower-case words":    {"mine and ban or not", "mine AND and AND ban AND or AND not"},
		"precedence and/or":   {"a b OR c d", "(a AND b) OR (c AND d)"},
		"a NOT b":             {"a NOT b", "a AND NOT b"},
		"a AND NOT b":         {"a AND NOT b", "a AND NOT b"},
		"top NOT":             {"NOT naval", "NOT naval"},
		"double NOT":          {"NOT NOT a", "NOT NOT a"},
		"NOT group":           {"a NOT (b OR c)", "a AND NOT (b OR c)"},
		"parens":              {"(mine OR mina) AND (Ottawa OR Otava*)", "(mine OR mina) AND (Ottawa OR Otava*)"},
		"flatten":             {"(a OR b) OR c", "a OR b OR c"},
		"flatten and":         {"a (b c)", "a AND b AND c"},
		"near":                {"withdraw* NEAR/5 Ottawa", "withdraw* NEAR/5 Ottawa"},
		"near sentence":       {"withdraw* NEAR/s Ottawa", "withdraw* NEAR/s Ottawa"},
		"near or groups":      {"(leave OR withdraw*) NEAR/10 (treaty OR convention)", "(leave OR withdraw*) NEAR/10 (treaty OR convention)"},
		"near binds over and": {"a b NEAR/3 c d", "a AND (b NEAR/3 c) AND d"},
		"near phrase":         {`"cluster munitions" NEAR/3 ban`, `"cluster munitions" NEAR/3 ban`},
		"near 1 and 100":      {"a NEAR/1 b OR c NEAR/100 d", "(a NEAR/1 b) OR (c NEAR/100 d)"},
		"title word":          {"title:mine", "title:mine"},
		"title phrase":        {`title:"cluster munitions"`, `title:"cluster munitions"`},
		"title group":         {"title:(mine OR mina)", "title:mine OR title:mina"},
		"text field":          {"text:demining", "text:demining"},
		"title split word":    {"title:Ottawa-Abkommen", `title:"Ottawa Abkommen"`},
		"title keyword word":  {"title:AND", "title:AND"},
		"field in near":       {"title:(a OR b) NEAR/2 c", "(title:a OR title:b) NEAR/2 c"},
		"same field nested":   {"title:(title:a b)", "title:a AND title:b"},
		"polish":              {"wystąpi* NEAR/5 (ottawsk* OR Ottaw*)", "wystąpi* NEAR/5 (ottawsk* OR Ottaw*)"},
		"cyrillic":            {"вихід NEAR/s Оттавськ*", "вихід NEAR/s Оттавськ*"},
		"multi-line":          {"(mine OR mina)\n  AND\n  Ottawa", "(mine OR mina) AND Ottawa"},
		"punctuation word":    {"mines,", "mines"},
		"typographic quotes":  {"“Ottawa Convention” OR „Ottawa Abkommen“ OR «Convention d'Ottawa»", `"Ottawa Convention" OR "Ottawa Abkommen" OR "Convention d Ottawa"`},
		"typographic prefix":  {"title:“mine ban*”", `title:"mine ban*"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n, err := Parse(tc.src)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.src, err)
			}
			if got := n.String(); got != tc.want {
				t.Fatalf("Parse(%q).String() = %q, want %q", tc.src, got, tc.want)
			}
			again, err := Parse(n.String())
			if err != nil {
				t.Fatalf("reparse %q: %v", n.String(), err)
			}
			if !Equal(n, again) {
				t.Fatalf("round trip changed the tree: %q → %q", n.String(), again.String())
			}
		})
	}
}

func TestParseTree(t *testing.T) {
	n, err := Parse(`title:"Ottawa konw*" OR mine`)
	if err != nil {
		t.Fatal(err)
	}
	or, ok := n.(*Or)
	if !ok || len(or.Children) != 2 {
		t.Fatalf("got %T %v, want Or of 2", n, n)
	}
	term := or.Children[0].(*Term)
	if term.Field != "title" || !term.Prefix || !term.Quoted || strings.Join(term.Words, "|") != "Ottawa|konw" || term.At != 0 {
		t.Errorf("first term = %+v", term)
	}
	if m := or.Children[1].(*Term); m.At != 24 || m.Quoted || m.Prefix {
		t.Errorf("second term = %+v", m)
	}
	if got := len(Terms(n)); got != 2 {
		t.Errorf("Terms: %d, want 2", got)
	}
}

func TestParseInvalid(t *testing.T) {
	tests := map[string]struct {
		src       string
		line, col int
		msg       string // substring of the message
	}{
		"empty":                {"", 1, 1, "empty query"},
		"blank":                {"  \n ", 1, 1, "empty query"},
		"dangling AND":         {"mine AND", 1, 9, "expected a term or '(' after AND"},
		"dangling OR":          {"mine OR", 1, 8, "expected a term or '(' after OR"},
		"dangling NOT":         {"mine NOT", 1, 9, "expected a term or '(' after NOT"},
		"dangling NEAR":        {"mine NEAR/3", 1, 12, "expected a term or '(' after NEAR"},
		"leading AND":          {"AND mine", 1, 1, "expected a term or '('"},
		"double operator":      {"a AND OR b", 1, 7, "expected a term or '(' after AND, found OR"},
		"unclosed quote":       {`mine "Ottawa`, 1, 6, "unclosed quote"},
		"unclosed typographic": {"mine „Ottawa”x «a", 1, 16, "unclosed quote"},
		"missing paren":        {"(a OR b", 1, 8, "missing ')'"},
		"extra paren":          {"a OR b)", 1, 7, "unexpected ')'"},
		"empty parens":         {"a ()", 1, 4, "empty parentheses"},
		"near zero":            {"a NEAR/0 b", 1, 3, "NEAR distance must be 1–100"},
		"near too far":         {"a NEAR/101 b", 1, 3, "NEAR distance must be 1–100"},
		"near garbage":         {"a NEAR/x b", 1, 3, "NEAR distance must be 1–100"},
		"near bare":            {"a NEAR b", 1, 3, "NEAR needs a distance"},
		"near and operand":     {"(a b) NEAR/3 c", 1, 2, "AND inside a NEAR operand"},
		"near not operand":     {"a NEAR/3 NOT b", 1, 10, "NOT inside a NEAR operand"},
		"near not leading":     {"NOT a NEAR/3 b", 1, 1, "NOT inside a NEAR operand"},
		"near nested":          {"(a NEAR/2 b) NEAR/3 c", 1, 2, "NEAR inside a NEAR operand"},
		"near in or operand":   {"(a OR (b AND c)) NEAR/3 d", 1, 8, "AND inside a NEAR operand"},
		"near chained":         {"a NEAR/2 b NEAR/3 c", 1, 12, "NEAR cannot be chained"},
		"unknown field":        {"body:mine", 1, 1, `unknown field "body"`},
		"field space":          {"title: mine", 1, 7, "right after title:"},
		"field nothing":        {"title:", 1, 7, "after title:, found end of query"},
		"field conflict":       {"title:(text:a)", 1, 8, "field text: inside title:"},
		"star inside":          {"mi*ne", 1, 3, "only allowed at the end"},
		"double star":          {"mine**", 1, 5, "only allowed at the end"},
		"lone star":            {"*", 1, 1, "'*' must follow a letter or digit"},
		"star after hyphen":    {"mine-*", 1, 6, "'*' must follow a letter or digit"},
		"empty phrase":         {`a ""`, 1, 3, "empty phrase"},
		"punctuation only":     {"a --", 1, 3, "no letters or digits"},
		"second line":          {"(mine OR mina)\n  AND", 2, 6, "after AND"},
		"columns count runes":  {"łódź ąę AND", 1, 12, "after AND"},
		"third line column":    {"a\nb\n  ść NEAR/0 x", 3, 6, "NEAR distance"},
		"missing paren nested": {"((a OR b) c", 1, 12, "missing ')' to close the '(' at line 1, column 1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n, err := Parse(tc.src)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tc.src, n)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is %T, want *SyntaxError", err, err)
			}
			if se.Line != tc.line || se.Col != tc.col || !strings.Contains(se.Msg, tc.msg) {
				t.Fatalf("Parse(%q) error = %q (line %d col %d), want line %d col %d containing %q",
					tc.src, se.Error(), se.Line, se.Col, tc.line, tc.col, tc.msg)
			}
			if !strings.HasPrefix(se.Error(), "line ") {
				t.Fatalf("Error() = %q, want it to start with the position", se.Error())
			}
		})
	}
}

func TestParseDeepNesting(t *testing.T) {
	src := strings.Repeat("(", 10000) + "a" + strings.Repeat(")", 10000)
	if _, err := Parse(src); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("Parse of deep nesting: %v, want nesting error", err)
	}
	src = strings.Repeat("NOT ", 10000) + "a"
	if _, err := Parse(src); err == nil {
		t.Fatal("Parse of deep NOT chain: want nesting error")
	}
	if _, err := Parse(strings.Repeat("(", 50) + "a" + strings.Repeat(")", 50)); err != nil {
		t.Fatalf("moderate nesting: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"mine", "konwencj*", `"Ottawa Convention"`, `"anti-personnel mine*"`, "Ottawa-Abkommen",
		"a b OR c d", "a NOT b", "NOT (a OR b)", "(leave OR withdraw*) NEAR/10 (treaty OR convention)",
		"x NEAR/s y", "title:(mine OR mina) text:\"a b\"", "a NEAR/0 b", "(a", "a)", `"`, "body:x",
		"łódź\nAND", "title:AND", "NOT NOT a", "*", "a**",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is %T, want *SyntaxError", err, err)
			}
			if se.Offset < 0 || se.Offset > len(src) || se.Line < 1 || se.Col < 1 {
				t.Fatalf("bad error position %+v for %q", se, src)
			}
			return
		}
		s := n.String()
		again, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but reparsing its String %q: %v", src, s, err)
		}
		if !Equal(n, again) {
			t.Fatalf("round trip changed the tree: %q → %q → %q", src, s, again.String())
		}
		if again.String() != s {
			t.Fatalf("String not stable: %q then %q", s, again.String())
		}
	})
}
